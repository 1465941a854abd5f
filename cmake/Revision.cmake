# Sets POOLWATCH_REVISION (12 hex digits of the commit, or "unknown") for --version and
# poolwatch_build_info, from the first source that has it:
#  1. a .git directory, read directly: a fresh machine that cloned the project may have no git
#     program (or another user's checkout that git refuses as "dubious ownership");
#  2. cmake/archive-revision, which `git archive` fills in (export-subst in .gitattributes),
#     so a tarball made from a commit knows it;
#  3. POOLWATCH_FALLBACK_REVISION given on the command line, for other packaging that knows
#     the revision itself.
# The revision is read at configure time, so configure again when HEAD moves: a checkout
# rewrites HEAD, a commit the branch's ref (loose or packed). Only files that exist are named
# (a missing one would make every build re-configure).

set(POOLWATCH_FALLBACK_REVISION "" CACHE STRING
    "Revision to report when the source has neither .git nor an archive revision")

function(poolwatch_read_git_revision git_dir out_revision out_watch)
  set(${out_revision} "" PARENT_SCOPE)
  set(watch "")
  # A worktree or submodule has a .git file: "gitdir: <path>".
  if(NOT IS_DIRECTORY "${git_dir}" AND EXISTS "${git_dir}")
    file(STRINGS "${git_dir}" gitdir_line LIMIT_COUNT 1 REGEX "^gitdir: ")
    string(REGEX REPLACE "^gitdir: *" "" git_dir "${gitdir_line}")
    get_filename_component(git_dir "${git_dir}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
  endif()
  if(NOT EXISTS "${git_dir}/HEAD")
    return()
  endif()
  # A linked worktree keeps its refs in the common directory.
  set(common_dir "${git_dir}")
  if(EXISTS "${git_dir}/commondir")
    file(STRINGS "${git_dir}/commondir" common_dir LIMIT_COUNT 1)
    get_filename_component(common_dir "${common_dir}" ABSOLUTE BASE_DIR "${git_dir}")
  endif()
  list(APPEND watch "${git_dir}/HEAD" "${git_dir}/logs/HEAD" "${common_dir}/packed-refs")
  file(STRINGS "${git_dir}/HEAD" head LIMIT_COUNT 1)
  set(commit "")
  if(head MATCHES "^ref: *(.+)$")
    set(ref "${CMAKE_MATCH_1}")
    list(APPEND watch "${common_dir}/${ref}")
    if(EXISTS "${common_dir}/${ref}")
      file(STRINGS "${common_dir}/${ref}" commit LIMIT_COUNT 1)
    elseif(EXISTS "${common_dir}/packed-refs")
      file(STRINGS "${common_dir}/packed-refs" packed REGEX " ${ref}$")
      string(REGEX MATCH "^[0-9a-f]+" commit "${packed}")
    endif()
  else()
    set(commit "${head}")  # a detached HEAD holds the commit itself
  endif()
  set(existing "")
  foreach(file IN LISTS watch)
    if(EXISTS "${file}")
      list(APPEND existing "${file}")
    endif()
  endforeach()
  set(${out_watch} "${existing}" PARENT_SCOPE)
  if(commit MATCHES "^[0-9a-f]+$")
    string(SUBSTRING "${commit}" 0 12 commit)
    set(${out_revision} "${commit}" PARENT_SCOPE)
  endif()
endfunction()

# tests/cmake/revision_test.cmake includes this file for the function alone.
if(CMAKE_SCRIPT_MODE_FILE)
  return()
endif()

poolwatch_read_git_revision("${PROJECT_SOURCE_DIR}/.git" poolwatch_git_revision poolwatch_git_watch)
if(poolwatch_git_revision)
  set(POOLWATCH_REVISION "${poolwatch_git_revision}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${poolwatch_git_watch})
else()
  file(STRINGS "${PROJECT_SOURCE_DIR}/cmake/archive-revision" poolwatch_archive_revision
       LIMIT_COUNT 1)
  # Outside an archive the file still holds git's placeholder, which is not hex.
  if(poolwatch_archive_revision MATCHES "^[0-9a-f]+$")
    string(SUBSTRING "${poolwatch_archive_revision}" 0 12 POOLWATCH_REVISION)
  elseif(POOLWATCH_FALLBACK_REVISION)
    set(POOLWATCH_REVISION "${POOLWATCH_FALLBACK_REVISION}")
  else()
    set(POOLWATCH_REVISION unknown)
  endif()
endif()
