# example-inplace: encrypt a JPEG buffer in place with the plain C API: the
# size is unchanged, the bytes differ, the result still decodes, and
# decryption restores the original byte for byte. Also with restart markers,
# optimised tables, grayscale, a caller nonce, and (when present) the shared
# corpus' camera files with EXIF thumbnails.
include("${CMAKE_CURRENT_LIST_DIR}/../../cmake/check_utils.cmake")
set(KEY "00112233445566778899aabbccddeeff")
set(NONCE "0f0e0d0c0b0a09080706050403020100")
check_fresh_dir("${WORK_DIR}")
set(W "${WORK_DIR}")

check_run("gen_ppm" COMMAND "${GEN_PPM}" "${W}/img.ppm" 250 170)
set(inputs "")
foreach(variant "default;-quality;75"
                "restart;-quality;92;-restart;1"
                "optimize;-quality;60;-optimize;-sample;1x1"
                "gray;-grayscale")
  list(POP_FRONT variant name)
  check_run("cjpeg ${name}" OUTPUT_FILE "${W}/${name}.jpg" COMMAND "${CJPEG}" ${variant} "${W}/img.ppm")
  list(APPEND inputs "${W}/${name}.jpg")
endforeach()

foreach(corpus_file real/DSCN0010.jpg real/fujifilm-mx1700.jpg libjpeg-turbo/testorig.jpg)
  if(EXISTS "${CORPUS_DIR}/${corpus_file}")
    list(APPEND inputs "${CORPUS_DIR}/${corpus_file}")
  else()
    message(STATUS "corpus file ${CORPUS_DIR}/${corpus_file} absent: skipped")
  endif()
endforeach()

set(i 0)
foreach(in IN LISTS inputs)
  math(EXPR i "${i} + 1")
  set(p "${W}/out${i}")
  check_run("inplace encrypt ${in}" STDOUT out
            COMMAND "${EXAMPLE_DIR}/inplace" encrypt ${KEY} "${in}" "${p}-enc.jpg")
  check_matches("in-program round trip" "${out}" "round trip restores all")
  check_same_size("encrypted vs original" "${p}-enc.jpg" "${in}")
  check_different_bytes("encrypted vs original" "${p}-enc.jpg" "${in}")
  check_djpeg_clean("encrypted file" "${p}-enc.jpg" "${p}-enc.ppm")
  check_run("inplace decrypt" COMMAND "${EXAMPLE_DIR}/inplace" decrypt ${KEY} "${p}-enc.jpg" "${p}-dec.jpg")
  check_same_bytes("decrypted vs original" "${p}-dec.jpg" "${in}")

  # A caller nonce gives a different ciphertext that decrypts the same way.
  check_run("inplace encrypt with nonce"
            COMMAND "${EXAMPLE_DIR}/inplace" encrypt ${KEY} "${in}" "${p}-encn.jpg" ${NONCE})
  check_same_size("nonce: encrypted vs original" "${p}-encn.jpg" "${in}")
  check_different_bytes("nonce vs default ciphertext" "${p}-encn.jpg" "${p}-enc.jpg")
  check_run("inplace decrypt with nonce"
            COMMAND "${EXAMPLE_DIR}/inplace" decrypt ${KEY} "${p}-encn.jpg" "${p}-decn.jpg" ${NONCE})
  check_same_bytes("nonce: decrypted vs original" "${p}-decn.jpg" "${in}")
endforeach()
message("example-inplace: OK (${i} files)")
