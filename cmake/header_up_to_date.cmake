# header_up_to_date.cmake: fail when the committed include/jsec.h differs from
# what the build generated (build.rs rewrites it on every cargo build).
#
#   cmake -DSOURCE_DIR=<repo> -DGIT_EXECUTABLE=<git> -P header_up_to_date.cmake
#
# Outside a git checkout (a release tarball) there is nothing to compare with:
# the test prints why and reports "skipped" (exit code 77 = SKIP_RETURN_CODE).
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "pass -DSOURCE_DIR=<repository root>")
endif()
set(_header "${SOURCE_DIR}/include/jsec.h")
if(NOT EXISTS "${_header}")
  message(FATAL_ERROR "header-up-to-date: ${_header} does not exist; the cargo build should write it")
endif()
if(NOT GIT_EXECUTABLE OR NOT EXISTS "${GIT_EXECUTABLE}")
  message("header-up-to-date: SKIPPED (git not found)")
  cmake_language(EXIT 77)
endif()
execute_process(
  COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --is-inside-work-tree
  RESULT_VARIABLE _in_git OUTPUT_VARIABLE _out ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _in_git EQUAL 0 OR NOT _out STREQUAL "true")
  message("header-up-to-date: SKIPPED (${SOURCE_DIR} is not a git checkout)")
  cmake_language(EXIT 77)
endif()
execute_process(
  COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" ls-files --error-unmatch -- include/jsec.h
  RESULT_VARIABLE _tracked OUTPUT_QUIET ERROR_QUIET)
if(NOT _tracked EQUAL 0)
  message(FATAL_ERROR "header-up-to-date: include/jsec.h is not committed; "
                      "`git add include/jsec.h` after the cargo build generated it")
endif()
execute_process(
  COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" --no-pager diff --exit-code --stat -p -- include/jsec.h
  RESULT_VARIABLE _diff OUTPUT_VARIABLE _patch ERROR_VARIABLE _err)
if(NOT _diff EQUAL 0)
  message(FATAL_ERROR "header-up-to-date: the generated include/jsec.h differs from the committed one "
                      "(regenerate with `cargo build`, review and commit it):\n${_patch}${_err}")
endif()
message("header-up-to-date: include/jsec.h matches the committed version")
