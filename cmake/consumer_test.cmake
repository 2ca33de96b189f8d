# consumer_test.cmake: install jsec into a scratch prefix, check the installed
# layout, then build and run tests/c/consumer four ways:
#   find_package(jsec CONFIG) + jsec::jsec, shared and static (JSEC_LINK_STATIC)
#   pkg-config --cflags --libs jsec, shared, and static (--static, -Bstatic)
# Each program must print "jsec consumer OK: version <v>" and be linked the
# way it claims (readelf: NEEDED libjsec.so.<major> or no libjsec at all).
foreach(_v BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR C_COMPILER EXPECTED_VERSION LIBDIR)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "consumer-test: -D${_v}=... is required")
  endif()
endforeach()
string(REGEX MATCH "^[0-9]+" _major "${EXPECTED_VERSION}")

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    string(REPLACE ";" " " _cmd "${ARGN}")
    message(FATAL_ERROR "consumer-test: ${what} failed (${_rc}):\n${_cmd}\n${_out}\n${_err}")
  endif()
  set(RUN_OUT "${_out}" PARENT_SCOPE)
endfunction()

function(check_program exe label expect_static)
  run_checked("running the ${label} consumer" "${exe}")
  if(NOT RUN_OUT MATCHES "jsec consumer OK: version ${EXPECTED_VERSION},")
    message(FATAL_ERROR "consumer-test: ${label}: unexpected output:\n${RUN_OUT}")
  endif()
  if(READELF)
    run_checked("readelf ${label}" "${READELF}" -d "${exe}")
    if(expect_static)
      if(RUN_OUT MATCHES "libjsec")
        message(FATAL_ERROR "consumer-test: ${label} should not need libjsec.so:\n${RUN_OUT}")
      endif()
    elseif(NOT RUN_OUT MATCHES "NEEDED[^\n]*\\[libjsec\\.so\\.${_major}\\]")
      message(FATAL_ERROR "consumer-test: ${label} should need libjsec.so.${_major}:\n${RUN_OUT}")
    endif()
  endif()
  message(STATUS "${label}: OK")
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(_prefix "${WORK_DIR}/prefix")

# --- install and check the layout -------------------------------------------
run_checked("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${_prefix}")
set(_lib "${_prefix}/${LIBDIR}")
foreach(_f "${_lib}/libjsec.so.${EXPECTED_VERSION}" "${_lib}/libjsec.a"
           "${_prefix}/include/jsec.h" "${_prefix}/include/jsec_libjpeg.h"
           "${_prefix}/include/jsec_openjpeg.h"
           "${_lib}/cmake/jsec/jsecConfig.cmake" "${_lib}/cmake/jsec/jsecConfigVersion.cmake"
           "${_lib}/pkgconfig/jsec.pc")
  if(NOT EXISTS "${_f}")
    message(FATAL_ERROR "consumer-test: not installed: ${_f}")
  endif()
endforeach()
if(CLI)
  # The tool, when the build has it (JSEC_CLI): installed, and it runs.
  run_checked("the installed jsec tool" "${_prefix}/${BINDIR}/jsec${CMAKE_EXECUTABLE_SUFFIX}" --version)
  if(NOT RUN_OUT STREQUAL "jsec ${EXPECTED_VERSION}\n")
    message(FATAL_ERROR "consumer-test: installed jsec --version printed: ${RUN_OUT}")
  endif()
endif()
if(IS_SYMLINK "${_lib}/libjsec.so.${EXPECTED_VERSION}")
  message(FATAL_ERROR "consumer-test: libjsec.so.${EXPECTED_VERSION} should be a regular file")
endif()
file(READ_SYMLINK "${_lib}/libjsec.so.${_major}" _t1)
file(READ_SYMLINK "${_lib}/libjsec.so" _t2)
if(NOT _t1 STREQUAL "libjsec.so.${EXPECTED_VERSION}" OR NOT _t2 STREQUAL "libjsec.so.${_major}")
  message(FATAL_ERROR "consumer-test: bad symlinks: libjsec.so.${_major} -> ${_t1}, libjsec.so -> ${_t2}")
endif()
if(READELF)
  run_checked("readelf libjsec.so" "${READELF}" -d "${_lib}/libjsec.so.${EXPECTED_VERSION}")
  if(NOT RUN_OUT MATCHES "SONAME[^\n]*\\[libjsec\\.so\\.${_major}\\]")
    message(FATAL_ERROR "consumer-test: the SONAME of libjsec.so is not libjsec.so.${_major}:\n${RUN_OUT}")
  endif()
endif()
message(STATUS "install layout: OK (${_prefix})")

# --- find_package(jsec CONFIG) ---------------------------------------------------
foreach(_mode shared static)
  if(_mode STREQUAL "static")
    set(_static ON)
  else()
    set(_static OFF)
  endif()
  set(_bin "${WORK_DIR}/cmake-${_mode}")
  set(_gen_args "")
  if(GENERATOR)
    set(_gen_args -G "${GENERATOR}")
  endif()
  run_checked("configuring the consumer (${_mode})"
    "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${_bin}" ${_gen_args}
    "-DCMAKE_C_COMPILER=${C_COMPILER}" "-DCMAKE_PREFIX_PATH=${_prefix}"
    "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF" "-DJSEC_LINK_STATIC=${_static}"
    -DCMAKE_BUILD_TYPE=Release)
  run_checked("building the consumer (${_mode})" "${CMAKE_COMMAND}" --build "${_bin}")
  check_program("${_bin}/app" "find_package consumer (${_mode})" ${_static})
endforeach()

# --- pkg-config -------------------------------------------------------------------
if(NOT PKG_CONFIG_EXECUTABLE OR NOT EXISTS "${PKG_CONFIG_EXECUTABLE}")
  message(FATAL_ERROR "consumer-test: pkg-config not found (install pkg-config)")
endif()
set(ENV{PKG_CONFIG_PATH} "${_lib}/pkgconfig")
function(pkgconfig out)
  run_checked("pkg-config ${ARGN}" "${PKG_CONFIG_EXECUTABLE}" ${ARGN} jsec)
  string(STRIP "${RUN_OUT}" _s)
  separate_arguments(_l UNIX_COMMAND "${_s}")
  set(${out} "${_l}" PARENT_SCOPE)
endfunction()
pkgconfig(_version --modversion)
if(NOT _version STREQUAL "${EXPECTED_VERSION}")
  message(FATAL_ERROR "consumer-test: pkg-config --modversion jsec is '${_version}'")
endif()
pkgconfig(_cflags --cflags)
pkgconfig(_libs --libs)
pkgconfig(_static_libs --static --libs)
pkgconfig(_libdir --variable=libdir)

set(_flags -std=c11 -Wall -Wextra -Wpedantic -Werror)
run_checked("compiling the pkg-config consumer (shared)"
  "${C_COMPILER}" ${_flags} ${_cflags} "${CONSUMER_SOURCE_DIR}/main.c"
  -o "${WORK_DIR}/app-pkgconfig-shared" ${_libs} "-Wl,-rpath,${_libdir}")
check_program("${WORK_DIR}/app-pkgconfig-shared" "pkg-config consumer (shared)" OFF)

# Static: the usual idiom, -ljsec inside -Bstatic, the private libraries after.
list(TRANSFORM _static_libs REPLACE "^-ljsec$" "-Wl,-Bstatic;-ljsec;-Wl,-Bdynamic")
run_checked("compiling the pkg-config consumer (static)"
  "${C_COMPILER}" ${_flags} ${_cflags} "${CONSUMER_SOURCE_DIR}/main.c"
  -o "${WORK_DIR}/app-pkgconfig-static" ${_static_libs})
check_program("${WORK_DIR}/app-pkgconfig-static" "pkg-config consumer (static)" ON)

message("find-package-consumer: install layout, find_package and pkg-config consumers "
        "(shared and static) all OK")
