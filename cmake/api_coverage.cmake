# api_coverage.cmake: fail if a JSEC_API function declared in jsec.h is not
# mentioned in any tests/c/*.c.
#
#   cmake -DHEADER=include/jsec.h -DTEST_DIR=tests/c -P api_coverage.cmake
if(NOT EXISTS "${HEADER}" OR NOT IS_DIRECTORY "${TEST_DIR}")
  message(FATAL_ERROR "api-coverage: pass -DHEADER=<jsec.h> -DTEST_DIR=<tests/c>")
endif()
file(READ "${HEADER}" _header)
# Declarations look like "JSEC_API <return type> name(" with the type and name
# possibly on the next line; comments never start a line with JSEC_API.
string(REGEX MATCHALL "\nJSEC_API[ \t\r\n]+[^;(]*[ \t\r\n*]([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\(" _decls "${_header}")
set(_functions "")
foreach(_decl IN LISTS _decls)
  if(_decl MATCHES "([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\($")
    list(APPEND _functions "${CMAKE_MATCH_1}")
  endif()
endforeach()
list(REMOVE_DUPLICATES _functions)
list(LENGTH _functions _n)
if(_n LESS 10)
  message(FATAL_ERROR "api-coverage: found only ${_n} JSEC_API functions in ${HEADER}; "
                      "the declaration format changed, fix this script")
endif()

file(GLOB _tests "${TEST_DIR}/*.c")
set(_all "")
foreach(_t IN LISTS _tests)
  file(READ "${_t}" _text)
  string(APPEND _all "${_text}\n")
endforeach()

set(_missing "")
foreach(_f IN LISTS _functions)
  if(NOT _all MATCHES "[^A-Za-z0-9_]${_f}[ \t]*\\(")
    list(APPEND _missing "${_f}")
  endif()
endforeach()
if(_missing)
  list(JOIN _missing "\n  " _list)
  message(FATAL_ERROR "api-coverage: JSEC_API functions not called in ${TEST_DIR}/*.c:\n  ${_list}")
endif()
message("api-coverage: all ${_n} JSEC_API functions of jsec.h are called in ${TEST_DIR}/*.c")
