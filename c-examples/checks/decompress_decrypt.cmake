# example-decompress_decrypt: decode an encrypted JPEG with the key through
# the decrypting source manager; the pixels must equal djpeg's decode of the
# plain JPEG byte for byte. With a wrong key the decode succeeds (nothing in
# the file can tell) but the pixels differ.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
set(KEY "00112233445566778899aabbccddeeff")
set(WRONG_KEY "00112233445566778899aabbccddeefe")
check_fresh_dir("${WORK_DIR}")
set(p "${WORK_DIR}/img")

check_run("gen_ppm" COMMAND "${GEN_PPM}" "${p}.ppm" 301 203)
check_run("compress_encrypt" COMMAND "${EXAMPLE_DIR}/compress_encrypt" "${p}.ppm" ${KEY}
                                     "${p}-enc.jpg" "${p}-plain.jpg" 90)
check_djpeg_clean("reference decode of the plain file" "${p}-plain.jpg" "${p}-ref.ppm")

check_run("decompress_decrypt with the key" STDOUT out
          COMMAND "${EXAMPLE_DIR}/decompress_decrypt" "${p}-enc.jpg" ${KEY} "${p}-dec.ppm"
                  "${p}-plain.jpg")
check_matches("in-program pixel comparison" "${out}" "pixels identical")
check_same_bytes("decrypted pixels vs djpeg of the plain file" "${p}-dec.ppm" "${p}-ref.ppm")

check_djpeg_clean("decode without the key" "${p}-enc.jpg" "${p}-nokey.ppm")
check_different_bytes("pixels without the key" "${p}-nokey.ppm" "${p}-ref.ppm")

check_run("decompress_decrypt with a wrong key"
          COMMAND "${EXAMPLE_DIR}/decompress_decrypt" "${p}-enc.jpg" ${WRONG_KEY} "${p}-wrong.ppm")
check_different_bytes("pixels with a wrong key" "${p}-wrong.ppm" "${p}-ref.ppm")

# A file that is not a JPEG: the source manager raises the jsec error through
# libjpeg's error_exit, the program reports it and fails.
file(WRITE "${p}-garbage.jpg" "this is not a JPEG file at all, just text\n")
execute_process(COMMAND "${EXAMPLE_DIR}/decompress_decrypt" "${p}-garbage.jpg" ${KEY} "${p}-g.ppm"
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(rc EQUAL 0 OR NOT e MATCHES "jsec: JSEC_ERR_MALFORMED" OR NOT e MATCHES "JSEC_ERR_MALFORMED: .*SOI")
  message(FATAL_ERROR "garbage input: expected a JSEC_ERR_MALFORMED failure, got exit ${rc}:\n${o}\n${e}")
endif()
message(STATUS "garbage input: rejected with JSEC_ERR_MALFORMED")
message("example-decompress_decrypt: OK")
