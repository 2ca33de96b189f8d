# cli_copy.cmake: copy the jsec tool cargo just built (SRC) to DST and, when
# readelf is known, check that it is linked the way the build asked
# (STATIC=ON: a static PIE, no INTERP and no NEEDED; OFF: dynamically
# linked). A mismatch means another cargo build replaced SRC in between:
# DST is removed and the step fails, so the next build runs it again.
#
#   cmake -DSRC=<target/release/jsec> -DDST=<file> -DSTATIC=ON|OFF [-DREADELF=<readelf>]
#         -P cli_copy.cmake
foreach(_v SRC DST)
  if(NOT ${_v})
    message(FATAL_ERROR "cli_copy: pass -D${_v}=...")
  endif()
endforeach()
get_filename_component(_dir "${DST}" DIRECTORY)
file(MAKE_DIRECTORY "${_dir}")
file(COPY_FILE "${SRC}" "${DST}")
if(READELF)
  include("${CMAKE_CURRENT_LIST_DIR}/elf_link.cmake")
  jsec_elf_is_static("${READELF}" "${DST}" _static)
  if(STATIC AND NOT _static OR NOT STATIC AND _static)
    file(REMOVE "${DST}")
    message(FATAL_ERROR "cli_copy: ${SRC} is not linked as asked (static PIE: ${STATIC}): "
                        "another cargo build in the same target directory replaced it; "
                        "build again")
  endif()
endif()
