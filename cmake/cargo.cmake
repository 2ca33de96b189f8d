# cargo.cmake: build the Rust library with cargo and expose it to CMake.
#
# Expects JSEC_VERSION and JSEC_VERSION_MAJOR (see cargo_version.cmake) and
# JSEC_LINK_STATIC. Defines:
#   CARGO_EXECUTABLE                              (the cargo program)
#   jsec_cargo                                    (custom target running the build)
#   jsec::jsec_shared, jsec::jsec_static          (IMPORTED GLOBAL libraries)
#   JSEC_LIB_DIR                                  (build-tree copy of the libraries)
#   jsec_cli, JSEC_CLI_EXECUTABLE                 (the command-line tool, when JSEC_CLI)
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
    "Extra arguments for `cargo build --release --lib` and `cargo rustc --release --bin jsec` (a ;-list, e.g. --locked)")

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

# --- The command-line tool -----------------------------------------------------
# `jsec` is built with `cargo rustc`, which can pass flags to the binary's own
# compilation only. On Linux with glibc it is linked as a static PIE
# (-C target-feature=+crt-static): no dynamic loader, no shared libraries to
# map and relocate at every start, which is most of a short run's fixed cost
# (docs/cli.md, "How the tool is linked"). The flag cannot go to
# `cargo build`: it would reach the cdylib (dropped under crt-static) and the
# proc-macro crates. cargo caches both variants of the binary, but
# target/release/jsec is whichever was built last: the copy into the build
# tree follows the build at once and checks the link (cli_copy.cmake), so a
# concurrent `cargo build` in the same target directory fails this step
# (run the build again) instead of installing the other variant.
option(JSEC_CLI "Build and install the jsec command-line tool (needs the default cargo features)" ON)
if(NOT DEFINED CACHE{JSEC_CLI_STATIC})
  # Default: ON when cargo builds for a *-linux-gnu host and rustc can link a
  # static PIE there (static glibc, libc.a, is installed: Debian libc6-dev).
  set(_jsec_static_ok OFF)
  execute_process(COMMAND "${CARGO_EXECUTABLE}" -vV OUTPUT_VARIABLE _jsec_cargo_vv
                  RESULT_VARIABLE _jsec_rc ERROR_QUIET)
  get_filename_component(_jsec_cargo_bindir "${CARGO_EXECUTABLE}" DIRECTORY)
  find_program(RUSTC_EXECUTABLE rustc HINTS "${_jsec_cargo_bindir}" NO_CACHE)
  if(_jsec_rc EQUAL 0 AND _jsec_cargo_vv MATCHES "\nhost: [^\n]*-linux-gnu" AND RUSTC_EXECUTABLE)
    set(_jsec_probe "${PROJECT_BINARY_DIR}/jsec-static-probe")
    file(MAKE_DIRECTORY "${_jsec_probe}")
    file(WRITE "${_jsec_probe}/probe.rs" "fn main() {}\n")
    execute_process(COMMAND "${RUSTC_EXECUTABLE}" -C target-feature=+crt-static
                            -o "${_jsec_probe}/probe" "${_jsec_probe}/probe.rs"
                    RESULT_VARIABLE _jsec_rc OUTPUT_QUIET ERROR_VARIABLE _jsec_probe_err)
    if(_jsec_rc EQUAL 0)
      set(_jsec_static_ok ON)
    else()
      message(STATUS "jsec: rustc cannot link a static PIE here (static glibc missing?): "
                     "the jsec tool is linked dynamically")
    endif()
    file(REMOVE_RECURSE "${_jsec_probe}")
  endif()
  set(JSEC_CLI_STATIC ${_jsec_static_ok} CACHE BOOL
      "Link the jsec tool as a static PIE (default: ON where rustc can)")
endif()
if(JSEC_CLI)
  set(JSEC_CLI_EXECUTABLE "${PROJECT_BINARY_DIR}/jsec-bin/jsec${CMAKE_EXECUTABLE_SUFFIX}")
  set(_jsec_cli_flags "")
  if(JSEC_CLI_STATIC)
    set(_jsec_cli_flags -- -C target-feature=+crt-static)
  endif()
  add_custom_command(
    OUTPUT "${JSEC_CLI_EXECUTABLE}"
    COMMAND "${CMAKE_COMMAND}" -E env "CARGO_TARGET_DIR=${JSEC_CARGO_TARGET_DIR}"
            "${CARGO_EXECUTABLE}" rustc --release --bin jsec ${JSEC_CARGO_FLAGS} ${_jsec_cli_flags}
    COMMAND "${CMAKE_COMMAND}"
            "-DSRC=${_jsec_cargo_out}/jsec${CMAKE_EXECUTABLE_SUFFIX}"
            "-DDST=${JSEC_CLI_EXECUTABLE}"
            "-DSTATIC=${JSEC_CLI_STATIC}"
            "-DREADELF=${CMAKE_READELF}"
            -P "${CMAKE_CURRENT_LIST_DIR}/cli_copy.cmake"
    DEPENDS ${_jsec_rust_sources} ${_jsec_cargo_inputs}
            "${CMAKE_CURRENT_LIST_DIR}/cli_copy.cmake" "${CMAKE_CURRENT_LIST_DIR}/elf_link.cmake"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    COMMENT "cargo rustc --release --bin jsec (static PIE: ${JSEC_CLI_STATIC})"
    USES_TERMINAL
    VERBATIM)
  add_custom_target(jsec_cli ALL DEPENDS "${JSEC_CLI_EXECUTABLE}")
  # One cargo at a time (they would wait for each other's lock anyway).
  add_dependencies(jsec_cli jsec_cargo)
endif()
