# cmake -P tests/cmake/revision_test.cmake: poolwatch_read_git_revision on hand-made .git
# directories, as a machine without the git program would see them.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/Revision.cmake")

set(scratch "${CMAKE_CURRENT_BINARY_DIR}/revision_test_scratch")
file(REMOVE_RECURSE "${scratch}")
set(commit "0123456789abcdef0123456789abcdef01234567")

function(expect what git_dir expected)
  poolwatch_read_git_revision("${git_dir}" revision watch)
  if(NOT revision STREQUAL expected)
    message(SEND_ERROR "${what}: got '${revision}', expected '${expected}'")
  endif()
endfunction()

# A branch with a loose ref.
file(WRITE "${scratch}/loose/.git/HEAD" "ref: refs/heads/main\n")
file(WRITE "${scratch}/loose/.git/refs/heads/main" "${commit}\n")
expect("a loose branch ref" "${scratch}/loose/.git" "0123456789ab")

# A branch whose ref was packed (git gc, a fresh clone).
file(WRITE "${scratch}/packed/.git/HEAD" "ref: refs/heads/main\n")
file(WRITE "${scratch}/packed/.git/packed-refs"
     "# pack-refs with: peeled fully-peeled sorted\nfedcba9876543210fedcba9876543210fedcba98 refs/heads/other\n${commit} refs/heads/main\n")
expect("a packed branch ref" "${scratch}/packed/.git" "0123456789ab")

# A detached HEAD holds the commit.
file(WRITE "${scratch}/detached/.git/HEAD" "${commit}\n")
expect("a detached HEAD" "${scratch}/detached/.git" "0123456789ab")

# A linked worktree: .git is a file naming its git directory, whose refs live in commondir.
file(WRITE "${scratch}/main/.git/refs/heads/feature" "${commit}\n")
file(WRITE "${scratch}/main/.git/worktrees/wt/HEAD" "ref: refs/heads/feature\n")
file(WRITE "${scratch}/main/.git/worktrees/wt/commondir" "../..\n")
file(WRITE "${scratch}/wt/.git" "gitdir: ${scratch}/main/.git/worktrees/wt\n")
expect("a linked worktree" "${scratch}/wt/.git" "0123456789ab")

# No .git at all (a tarball) and a branch with no commit yet.
expect("no .git" "${scratch}/none/.git" "")
file(WRITE "${scratch}/unborn/.git/HEAD" "ref: refs/heads/main\n")
expect("a branch with no commit" "${scratch}/unborn/.git" "")

file(REMOVE_RECURSE "${scratch}")
