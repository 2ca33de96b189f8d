# example-compress_encrypt: compress a generated PPM through the encrypting
# destination manager and check: same size as the plain compression with the
# same settings (and as cjpeg's), bytes differ, djpeg decodes it with exit 0
# and an empty stderr, and its pixels differ from the plain image's.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
set(KEY "00112233445566778899aabbccddeeff")
check_fresh_dir("${WORK_DIR}")
set(W "${WORK_DIR}")

foreach(size "227;149" "640;480" "16;16")
  list(GET size 0 w)
  list(GET size 1 h)
  set(p "${W}/img${w}x${h}")
  check_run("gen_ppm ${w}x${h}" COMMAND "${GEN_PPM}" "${p}.ppm" ${w} ${h})
  check_run("compress_encrypt ${w}x${h}" STDOUT out
            COMMAND "${EXAMPLE_DIR}/compress_encrypt" "${p}.ppm" ${KEY} "${p}-enc.jpg"
                    "${p}-plain.jpg" 85)
  check_matches("compress_encrypt reports the same size" "${out}" "same size")
  check_same_size("encrypted vs plain compression" "${p}-enc.jpg" "${p}-plain.jpg")
  check_different_bytes("encrypted vs plain bytes" "${p}-enc.jpg" "${p}-plain.jpg")
  # An independent unencrypted compression with the same settings.
  check_run("cjpeg -quality 85" OUTPUT_FILE "${p}-cjpeg.jpg"
            COMMAND "${CJPEG}" -quality 85 "${p}.ppm")
  check_same_size("encrypted vs cjpeg" "${p}-enc.jpg" "${p}-cjpeg.jpg")
  check_djpeg_clean("encrypted file" "${p}-enc.jpg" "${p}-enc.ppm")
  check_djpeg_clean("plain file" "${p}-plain.jpg" "${p}-plain.ppm")
  check_different_bytes("encrypted vs plain pixels" "${p}-enc.ppm" "${p}-plain.ppm")
endforeach()

# Quality 100 and 30 too (different quantisation, many/few additional bits).
foreach(q 100 30)
  set(p "${W}/img227x149")
  check_run("compress_encrypt q${q}" STDOUT out
            COMMAND "${EXAMPLE_DIR}/compress_encrypt" "${p}.ppm" ${KEY} "${p}-q${q}-enc.jpg"
                    "${p}-q${q}-plain.jpg" ${q})
  check_same_size("q${q} encrypted vs plain" "${p}-q${q}-enc.jpg" "${p}-q${q}-plain.jpg")
  check_different_bytes("q${q} bytes" "${p}-q${q}-enc.jpg" "${p}-q${q}-plain.jpg")
  check_djpeg_clean("q${q} encrypted file" "${p}-q${q}-enc.jpg" "${p}-q${q}-enc.ppm")
endforeach()
message("example-compress_encrypt: OK")
