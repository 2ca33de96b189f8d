# example-stream_camera: encrypt chunk by chunk with the stream API (digest
# pass + cipher pass; or one pass with a caller nonce) and compare the output
# byte for byte with the in-place encryption of the whole file.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
set(KEY "00112233445566778899aabbccddeeff")
set(NONCE "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")
check_fresh_dir("${WORK_DIR}")
set(W "${WORK_DIR}")

check_run("gen_ppm" COMMAND "${GEN_PPM}" "${W}/img.ppm" 512 384)
check_run("cjpeg" OUTPUT_FILE "${W}/plain.jpg" COMMAND "${CJPEG}" -quality 88 -restart 3 "${W}/img.ppm")
set(inputs "${W}/plain.jpg")
if(EXISTS "${CORPUS_DIR}/real/kodak-dc240.jpg")
  list(APPEND inputs "${CORPUS_DIR}/real/kodak-dc240.jpg")
else()
  message(STATUS "corpus file real/kodak-dc240.jpg absent: skipped")
endif()

set(i 0)
foreach(in IN LISTS inputs)
  math(EXPR i "${i} + 1")
  set(p "${W}/f${i}")
  check_run("in-place reference" COMMAND "${EXAMPLE_DIR}/inplace" encrypt ${KEY} "${in}" "${p}-ref.jpg")
  check_run("in-place reference with nonce"
            COMMAND "${EXAMPLE_DIR}/inplace" encrypt ${KEY} "${in}" "${p}-refn.jpg" ${NONCE})
  foreach(chunk 1000 7 65536)
    check_run("stream_camera, ${chunk}-byte chunks" STDOUT out
              COMMAND "${EXAMPLE_DIR}/stream_camera" ${KEY} "${in}" "${p}-cam${chunk}.jpg" ${chunk})
    check_matches("two passes" "${out}" "digest pass over [0-9]+ bytes")
    check_same_bytes("stream (${chunk}) vs in place" "${p}-cam${chunk}.jpg" "${p}-ref.jpg")
  endforeach()
  check_run("stream_camera with nonce" STDOUT out
            COMMAND "${EXAMPLE_DIR}/stream_camera" ${KEY} "${in}" "${p}-camn.jpg" 333 ${NONCE})
  check_matches("one pass" "${out}" "one pass, caller nonce")
  check_same_bytes("one-pass stream vs in place, same nonce" "${p}-camn.jpg" "${p}-refn.jpg")
  check_different_bytes("nonce vs file seed" "${p}-camn.jpg" "${p}-ref.jpg")
  check_djpeg_clean("streamed file" "${p}-cam1000.jpg" "${p}-cam.ppm")
endforeach()
message("example-stream_camera: OK (${i} files)")
