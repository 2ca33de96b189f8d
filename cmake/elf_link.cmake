# elf_link.cmake: how an ELF executable is linked, for the -P scripts that
# check the jsec tool (cli_copy.cmake, cli_test.cmake).
#
# jsec_elf_is_static(<readelf> <file> <out>): sets <out> to ON when <file> is
# a static (PIE) executable, i.e. has no program interpreter (INTERP) and
# needs no shared library (NEEDED), else OFF; fails when readelf does.
function(jsec_elf_is_static readelf file out)
  execute_process(COMMAND "${readelf}" -l -d "${file}" RESULT_VARIABLE _rc
                  OUTPUT_VARIABLE _elf ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "readelf ${file} failed: ${_err}")
  endif()
  if(_elf MATCHES "INTERP" OR _elf MATCHES "\\(NEEDED\\)")
    set(${out} OFF PARENT_SCOPE)
  else()
    set(${out} ON PARENT_SCOPE)
  endif()
endfunction()
