# cargo.cmake: build the Rust library with cargo and expose it to CMake.
#
# Expects JSEC_VERSION and JSEC_VERSION_MAJOR (see cargo_version.cmake) and
# JSEC_LINK_STATIC. Defines:
#   CARGO_EXECUTABLE                              (the cargo program)
#   jsec_cargo                                    (custom target running the build)
#   jsec::jsec_shared, jsec::jsec_static          (IMPORTED GLOBAL libraries)
#   JSEC_LIB_DIR                                  (build-tree copy of the libraries)
#
# cargo keeps its own, exact dependency tracking; the DEPENDS list below only
# decides when CMake asks cargo again. The libraries are copied out of cargo's
# (shared) target directory into the build tree, with the SONAME symlinks, so a
# concurrent `cargo build --release` elsewhere cannot change what the C tests
# of this build link and load.

include_guard(GLOBAL)

# --- cargo ---------------------------------------------------------------------
find_program(CARGO_EXECUTABLE cargo HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin" REQUIRED)

if(DEFINED ENV{CARGO_TARGET_DIR} AND NOT "$ENV{CARGO_TARGET_DIR}" STREQUAL "")
  set(_jsec_default_target_dir "$ENV{CARGO_TARGET_DIR}")
else()
  set(_jsec_default_target_dir "${PROJECT_SOURCE_DIR}/target")
endif()
set(JSEC_CARGO_TARGET_DIR "${_jsec_default_target_dir}" CACHE PATH
    "cargo target directory used to build libjsec (default: \$CARGO_TARGET_DIR or <source>/target)")
set(JSEC_CARGO_FLAGS "" CACHE STRING
    "Extra arguments for `cargo build --release --lib` (a ;-list, e.g. --locked)")

set(_jsec_cargo_out "${JSEC_CARGO_TARGET_DIR}/release")
set(JSEC_LIB_DIR "${PROJECT_BINARY_DIR}/jsec-lib")
set(JSEC_SHARED_REAL "libjsec.so.${JSEC_VERSION}")
set(JSEC_SHARED_SONAME "libjsec.so.${JSEC_VERSION_MAJOR}")

file(GLOB_RECURSE _jsec_rust_sources CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/src/*.rs")
file(GLOB _jsec_cargo_inputs CONFIGURE_DEPENDS
     "${PROJECT_SOURCE_DIR}/Cargo.toml"
     "${PROJECT_SOURCE_DIR}/Cargo.lock"
     "${PROJECT_SOURCE_DIR}/build.rs"
     "${PROJECT_SOURCE_DIR}/cbindgen.toml")

set(_jsec_stamp "${PROJECT_BINARY_DIR}/jsec-cargo.stamp")
add_custom_command(
  OUTPUT "${_jsec_stamp}"
  BYPRODUCTS
    "${_jsec_cargo_out}/libjsec.so"
    "${_jsec_cargo_out}/libjsec.a"
    "${JSEC_LIB_DIR}/${JSEC_SHARED_REAL}"
    "${JSEC_LIB_DIR}/${JSEC_SHARED_SONAME}"
    "${JSEC_LIB_DIR}/libjsec.so"
    "${JSEC_LIB_DIR}/libjsec.a"
  COMMAND "${CMAKE_COMMAND}" -E env "CARGO_TARGET_DIR=${JSEC_CARGO_TARGET_DIR}"
          "${CARGO_EXECUTABLE}" build --release --lib ${JSEC_CARGO_FLAGS}
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${JSEC_LIB_DIR}"
  COMMAND "${CMAKE_COMMAND}" -E copy_if_different
          "${_jsec_cargo_out}/libjsec.so" "${JSEC_LIB_DIR}/${JSEC_SHARED_REAL}"
  COMMAND "${CMAKE_COMMAND}" -E copy_if_different
          "${_jsec_cargo_out}/libjsec.a" "${JSEC_LIB_DIR}/libjsec.a"
  COMMAND "${CMAKE_COMMAND}" -E create_symlink
          "${JSEC_SHARED_REAL}" "${JSEC_LIB_DIR}/${JSEC_SHARED_SONAME}"
  COMMAND "${CMAKE_COMMAND}" -E create_symlink
          "${JSEC_SHARED_SONAME}" "${JSEC_LIB_DIR}/libjsec.so"
  COMMAND "${CMAKE_COMMAND}" -E touch "${_jsec_stamp}"
  DEPENDS ${_jsec_rust_sources} ${_jsec_cargo_inputs}
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "cargo build --release --lib (libjsec ${JSEC_VERSION})"
  USES_TERMINAL
  VERBATIM)
add_custom_target(jsec_cargo ALL DEPENDS "${_jsec_stamp}")

# --- Imported targets ----------------------------------------------------------
find_package(Threads REQUIRED)

add_library(jsec::jsec_shared SHARED IMPORTED GLOBAL)
set_target_properties(jsec::jsec_shared PROPERTIES
  IMPORTED_LOCATION "${JSEC_LIB_DIR}/libjsec.so"
  IMPORTED_SONAME "${JSEC_SHARED_SONAME}"
  INTERFACE_INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/include")
add_dependencies(jsec::jsec_shared jsec_cargo)

add_library(jsec::jsec_static STATIC IMPORTED GLOBAL)
set_target_properties(jsec::jsec_static PROPERTIES
  IMPORTED_LOCATION "${JSEC_LIB_DIR}/libjsec.a"
  IMPORTED_LINK_INTERFACE_LANGUAGES "C"
  INTERFACE_INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/include"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
add_dependencies(jsec::jsec_static jsec_cargo)

if(JSEC_LINK_STATIC)
  add_library(jsec::jsec ALIAS jsec::jsec_static)
else()
  add_library(jsec::jsec ALIAS jsec::jsec_shared)
endif()
