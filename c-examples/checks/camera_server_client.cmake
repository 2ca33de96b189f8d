# example-camera_server_client: the croppable-signature story in three
# programs. A camera (camera_sign) compresses a generated picture through the
# signing destination manager; a server (server_crop) crops it on the cell
# grid without a key; a client (client_verify) verifies the crop through the
# verifying source manager before decoding it. Checked: djpeg decodes the
# signed file and the crop cleanly; the client reports the crop rectangle in
# original coordinates and decodes exactly djpeg's pixels; a misaligned crop
# is refused naming the aligned one; a tampered crop and another camera's key
# are rejected (exit 1) with no output left behind.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
check_fresh_dir("${WORK_DIR}")
set(W "${WORK_DIR}")
check_run("gen_ppm 320x240" COMMAND "${GEN_PPM}" "${W}/scene.ppm" 320 240)
check_run("camera_sign" STDOUT out
          COMMAND "${EXAMPLE_DIR}/camera_sign" "${W}/scene.ppm" "${W}/signed.jpg" "${W}/camera.pub")
check_matches("camera_sign" "${out}" "320x240 signed")
check_djpeg_clean("signed file" "${W}/signed.jpg" "${W}/signed.ppm")
check_run("client_verify (full image)" STDOUT out
          COMMAND "${EXAMPLE_DIR}/client_verify" "${W}/camera.pub" "${W}/signed.jpg" "${W}/full.ppm")
check_matches("full image" "${out}" "320x240 at \\(0, 0\\) of a 320x240 original \\(not cropped\\)")
check_same_bytes("client pixels = djpeg pixels (full)" "${W}/full.ppm" "${W}/signed.ppm")

check_run("server_crop" STDOUT out
          COMMAND "${EXAMPLE_DIR}/server_crop" "${W}/signed.jpg" 32 48 160 112 "${W}/crop.jpg")
check_djpeg_clean("cropped file" "${W}/crop.jpg" "${W}/crop-djpeg.ppm")
check_run("client_verify (crop)" STDOUT out
          COMMAND "${EXAMPLE_DIR}/client_verify" "${W}/camera.pub" "${W}/crop.jpg" "${W}/crop.ppm")
check_matches("crop" "${out}" "160x112 at \\(32, 48\\) of a 320x240 original")
check_same_bytes("client pixels = djpeg pixels (crop)" "${W}/crop.ppm" "${W}/crop-djpeg.ppm")

# Off the 16x16 cell grid: refused, the aligned rectangle named, no output.
execute_process(COMMAND "${EXAMPLE_DIR}/server_crop" "${W}/signed.jpg" 33 48 160 112 "${W}/bad.jpg"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "--rect 32,48,160,112" OR EXISTS "${W}/bad.jpg")
  message(FATAL_ERROR "misaligned crop: exit ${rc}, stderr: ${err}")
endif()

# A tampered crop: one byte in the middle of the entropy-coded data set to
# 0x55 (or 0x56 if it was 0x55): rejected (exit 1), nothing written.
file(SIZE "${W}/crop.jpg" size)
math(EXPR mid "${size} / 2")
file(READ "${W}/crop.jpg" byte OFFSET ${mid} LIMIT 1 HEX)
if(byte STREQUAL "55")
  set(octal "126")
else()
  set(octal "125")
endif()
file(COPY_FILE "${W}/crop.jpg" "${W}/tampered.jpg")
execute_process(COMMAND sh -c "printf '\\${octal}' | dd of='${W}/tampered.jpg' bs=1 seek=${mid} conv=notrunc 2>/dev/null"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not patch tampered.jpg")
endif()
check_different_bytes("tampered crop" "${W}/tampered.jpg" "${W}/crop.jpg")
execute_process(COMMAND "${EXAMPLE_DIR}/client_verify" "${W}/camera.pub" "${W}/tampered.jpg" "${W}/tampered.ppm"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR EXISTS "${W}/tampered.ppm")
  message(FATAL_ERROR "tampered crop: exit ${rc} (1 expected), stderr: ${err}")
endif()
message(STATUS "tampered crop rejected: ${err}")

# Another camera's key: rejected.
check_run("second camera" COMMAND "${EXAMPLE_DIR}/camera_sign" "${W}/scene.ppm" "${W}/other.jpg" "${W}/other.pub")
execute_process(COMMAND "${EXAMPLE_DIR}/client_verify" "${W}/other.pub" "${W}/crop.jpg" "${W}/other.ppm"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "another key" OR EXISTS "${W}/other.ppm")
  message(FATAL_ERROR "other key: exit ${rc}, stderr: ${err}")
endif()
message("example-camera_server_client: OK")
