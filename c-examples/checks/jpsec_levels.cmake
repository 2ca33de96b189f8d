# example-jpsec_levels: a JPEG 2000 codestream encoded with libopenjp2 and
# protected with three JPSEC access levels (one per resolution). Checks:
# opj_decompress decodes the protected file without any key (skipped, with a
# message, when opj_decompress is not installed); the file consumed with k2
# gives, with libopenjp2 at reduce 2, exactly the pixels of the unprotected
# codestream at reduce 2 and other pixels at full resolution; the file
# consumed with k0 is byte-identical to the unprotected codestream. Once
# with a generated PPM, once with the picture the example draws itself.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
check_fresh_dir("${WORK_DIR}")
set(W "${WORK_DIR}")

check_run("gen_ppm" COMMAND "${GEN_PPM}" "${W}/img.ppm" 250 170)
file(MAKE_DIRECTORY "${W}/ppm" "${W}/drawn")
foreach(run "ppm;${W}/img.ppm" "drawn")
  list(POP_FRONT run name)
  set(d "${W}/${name}")
  check_run("jpsec_levels protect (${name})" STDOUT out
            COMMAND "${EXAMPLE_DIR}/jpsec_levels" protect "${d}" ${run})
  check_matches("k2 opens part of the file" "${out}" "k2: [0-9]+ packet\\(s\\) decrypted, [1-9][0-9]* locked; partial")
  check_matches("k0 opens all of it" "${out}" "k0: [0-9]+ packet\\(s\\) decrypted, 0 locked; complete")
  check_different_bytes("${name}: protected vs plain codestream" "${d}/protected.j2k" "${d}/plain.j2k")

  if(OPJ_DECOMPRESS)
    check_run("${name}: opj_decompress decodes protected.j2k without keys"
              COMMAND "${OPJ_DECOMPRESS}" -i "${d}/protected.j2k" -o "${d}/protected.ppm")
    check_run("${name}: opj_decompress decodes plain.j2k"
              COMMAND "${OPJ_DECOMPRESS}" -i "${d}/plain.j2k" -o "${d}/plain.ppm")
    check_same_size("${name}: decoded protected vs plain" "${d}/protected.ppm" "${d}/plain.ppm")
    check_different_bytes("${name}: decoded protected vs plain pixels" "${d}/protected.ppm" "${d}/plain.ppm")
  else()
    message(STATUS "opj_decompress not found (install libopenjp2-tools): "
                   "decoding protected.j2k with it is skipped; libopenjp2 still decodes it below")
  endif()

  check_run("jpsec_levels check (${name})" STDOUT out COMMAND "${EXAMPLE_DIR}/jpsec_levels" check "${d}")
  check_matches("${name}: every check" "${out}" "all checks passed")
  check_same_bytes("${name}: k0.j2k vs plain.j2k" "${d}/k0.j2k" "${d}/plain.j2k")
endforeach()
message("example-jpsec_levels: OK")
