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

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME poolwatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR poolwatch)
set(CPACK_PACKAGE_CONTACT "poolwatch maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "nginx blue/green access log to Prometheus metrics and Slack alerts")
set(CPACK_PACKAGE_DESCRIPTION
    "poolwatch follows the access log of an nginx in front of blue/green pools, exports \
per-pool request metrics for Prometheus, serves a status page, and sends Slack alerts on \
failover and error rate.")
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
