# cli_test.cmake: the jsec tool built by CMake runs, reports the project's
# version, is statically linked when JSEC_CLI_STATIC says so, and its
# self-checking demo (encrypt, decode, decrypt to identical bytes, sign,
# crop, verify) passes.
#
#   cmake -DCLI=<jsec> -DSTATIC=ON|OFF -DREADELF=<readelf> -DEXPECTED_VERSION=<x.y.z>
#         -DWORK_DIR=<dir> -P cli_test.cmake
foreach(_v CLI EXPECTED_VERSION WORK_DIR)
  if(NOT ${_v})
    message(FATAL_ERROR "pass -D${_v}=...")
  endif()
endforeach()

execute_process(COMMAND "${CLI}" --version RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                ERROR_VARIABLE _err OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rc EQUAL 0 OR NOT _out STREQUAL "jsec ${EXPECTED_VERSION}")
  message(FATAL_ERROR "cli-tool: `jsec --version` gave exit ${_rc}, \"${_out}\" ${_err} "
                      "(expected \"jsec ${EXPECTED_VERSION}\")")
endif()

if(STATIC)
  if(NOT READELF)
    message(FATAL_ERROR "cli-tool: readelf not found; cannot check the static link")
  endif()
  include("${CMAKE_CURRENT_LIST_DIR}/elf_link.cmake")
  jsec_elf_is_static("${READELF}" "${CLI}" _static)
  if(NOT _static)
    message(FATAL_ERROR "cli-tool: JSEC_CLI_STATIC is ON but ${CLI} is dynamically linked")
  endif()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND "${CLI}" demo --out-dir "${WORK_DIR}" RESULT_VARIABLE _rc
                OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cli-tool: `jsec demo` failed (exit ${_rc}):\n${_out}${_err}")
endif()
message("${_out}")
