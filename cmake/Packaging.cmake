# The Debian package: `cpack -G DEB` in a build directory makes poolwatch_<version>_<arch>.deb
# with the binary in /usr/bin, the example config and the environment file as conffiles, the
# systemd unit, and maintainer scripts that create the `poolwatch` user (group adm).
#
# Files the package ships, besides the binary (installed by app/CMakeLists.txt):
#   /etc/poolwatch/poolwatch.yml              packaging/poolwatch.yml           conffile
#   /etc/default/poolwatch                    packaging/poolwatch.default       conffile, 0600
#   /lib/systemd/system/poolwatch.service     packaging/poolwatch.service
#   /usr/share/poolwatch/nginx-log-format.conf  nginx/log_format.conf (the log_format to use)
#   /usr/share/doc/poolwatch/runbook.md       runbook.md
#   /usr/share/doc/poolwatch/copyright        packaging/debian/copyright (DEP-5)
#   /usr/share/doc/poolwatch/changelog.gz     packaging/debian/changelog
#   /usr/share/man/man1/poolwatch.1.gz        help2man on the built binary's --help
# tests/e2e/package_e2e_test.cc checks that they land there.
include_guard(GLOBAL)

set(POOLWATCH_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)

# Absolute destinations: /etc and /lib are outside the /usr prefix of the package.
install(FILES ${POOLWATCH_PACKAGING_DIR}/poolwatch.yml DESTINATION /etc/poolwatch)
install(FILES ${POOLWATCH_PACKAGING_DIR}/poolwatch.default DESTINATION /etc/default
        RENAME poolwatch PERMISSIONS OWNER_READ OWNER_WRITE)
install(FILES ${POOLWATCH_PACKAGING_DIR}/poolwatch.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/nginx/log_format.conf DESTINATION share/poolwatch
        RENAME nginx-log-format.conf)
install(FILES ${PROJECT_SOURCE_DIR}/runbook.md DESTINATION share/doc/poolwatch)
install(FILES ${POOLWATCH_PACKAGING_DIR}/debian/copyright DESTINATION share/doc/poolwatch)

# The changelog is written by hand; its latest entry must be this version, so the two cannot
# drift. dpkg-parsechangelog (dpkg-dev, pulled in by build-essential) also rejects an entry
# that is not in Debian's format.
set(poolwatch_changelog ${POOLWATCH_PACKAGING_DIR}/debian/changelog)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${poolwatch_changelog})
find_program(POOLWATCH_DPKG_PARSECHANGELOG dpkg-parsechangelog REQUIRED)
foreach(field Version Maintainer Timestamp)
  execute_process(
    COMMAND ${POOLWATCH_DPKG_PARSECHANGELOG} -l ${poolwatch_changelog} -S ${field}
    OUTPUT_VARIABLE poolwatch_changelog_${field} OUTPUT_STRIP_TRAILING_WHITESPACE
    COMMAND_ERROR_IS_FATAL ANY)
endforeach()
if(NOT poolwatch_changelog_Version STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "${poolwatch_changelog}: the latest entry is ${poolwatch_changelog_Version}, "
                      "the project is ${PROJECT_VERSION}: add an entry for this version")
endif()
# The version has no Debian revision (poolwatch is its own upstream), which makes this a native
# package: its changelog is changelog.gz, not changelog.Debian.gz. -n: no name or time stamp in
# the gzip header, so rebuilding gives the same bytes.
set(poolwatch_doc_dir ${PROJECT_BINARY_DIR}/packaging)
add_custom_command(
  OUTPUT ${poolwatch_doc_dir}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E copy ${poolwatch_changelog} ${poolwatch_doc_dir}/changelog
  COMMAND gzip -9nf ${poolwatch_doc_dir}/changelog
  DEPENDS ${poolwatch_changelog}
  VERBATIM)
add_custom_target(poolwatch_changelog ALL DEPENDS ${poolwatch_doc_dir}/changelog.gz)
install(FILES ${poolwatch_doc_dir}/changelog.gz DESTINATION share/doc/poolwatch)

# Whoever signed the latest changelog entry, unless the builder names someone else; lintian
# wants a real name and an address at a domain, and no root.
set(POOLWATCH_PACKAGE_MAINTAINER "${poolwatch_changelog_Maintainer}" CACHE STRING
    "Maintainer field of the Debian package, \"Name <address>\"")
if(NOT POOLWATCH_PACKAGE_MAINTAINER MATCHES "^[^<>@]+ <[^<>@ ]+@[^<>@ ]+\\.[^<>@ ]+>$"
   OR POOLWATCH_PACKAGE_MAINTAINER MATCHES "<root@")
  message(FATAL_ERROR "POOLWATCH_PACKAGE_MAINTAINER=\"${POOLWATCH_PACKAGE_MAINTAINER}\": give "
                      "\"Name <address@domain.tld>\", not root")
endif()

set(POOLWATCH_PACKAGE_SUMMARY "nginx blue/green access log to Prometheus metrics and Slack alerts")

# poolwatch(1) from the binary's own --help and --version, so the page cannot say something
# the program does not; packaging/poolwatch.h2m adds what --help cannot know (the packaged
# files). The changelog's date keeps the page the same from one build to the next; the UTF-8
# locale keeps the arrow in the help's first line (help2man's default, C, turns it into ???).
find_program(POOLWATCH_HELP2MAN help2man)
if(POOLWATCH_HELP2MAN)
  set(poolwatch_man ${poolwatch_doc_dir}/poolwatch.1)
  add_custom_command(
    OUTPUT ${poolwatch_man}.gz
    COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${poolwatch_changelog_Timestamp}
            ${POOLWATCH_HELP2MAN} --locale=C.UTF-8 --no-info --section=1
            --name=${POOLWATCH_PACKAGE_SUMMARY}
            --include=${POOLWATCH_PACKAGING_DIR}/poolwatch.h2m --output=${poolwatch_man}
            $<TARGET_FILE:poolwatch>
    COMMAND gzip -9nf ${poolwatch_man}
    DEPENDS poolwatch ${POOLWATCH_PACKAGING_DIR}/poolwatch.h2m
    VERBATIM)
  add_custom_target(poolwatch_man ALL DEPENDS ${poolwatch_man}.gz)
  install(FILES ${poolwatch_man}.gz DESTINATION share/man/man1)
else()
  message(WARNING "help2man not found: the package will have no poolwatch(1) manual page "
                  "(scripts/install-deps.sh installs help2man)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME poolwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR poolwatch)
set(CPACK_PACKAGE_CONTACT "${POOLWATCH_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${POOLWATCH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${POOLWATCH_PACKAGE_SUMMARY}")
# Lines of at most 80 columns: CPackDeb keeps the line breaks and indents each line by one.
set(CPACK_PACKAGE_DESCRIPTION
    "poolwatch follows the access log of an nginx in front of blue/green pools,
exports per-pool request metrics for Prometheus, serves a status page, and
sends alerts to Slack, a webhook or Alertmanager on failover and error rate.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # poolwatch_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries from dpkg-shlibdeps (libprometheus-cpp-core1.0, libcivetweb1, libcurl4,
# libyaml-cpp0.7, libc6, libstdc++6 …); these are appended. adduser: postinst; ca-certificates:
# HTTPS to Slack.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${POOLWATCH_PACKAGING_DIR}/debian/conffiles
    ${POOLWATCH_PACKAGING_DIR}/debian/postinst
    ${POOLWATCH_PACKAGING_DIR}/debian/prerm
    ${POOLWATCH_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
