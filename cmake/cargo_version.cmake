# cargo_version.cmake: read the package version from Cargo.toml (usable before project()).

include_guard(GLOBAL)

# --- Version from Cargo.toml ([package] version = "X.Y.Z") -------------------
function(jsec_parse_cargo_version cargo_toml out_var)
  file(STRINGS "${cargo_toml}" _lines)
  set(_section "")
  foreach(_line IN LISTS _lines)
    if(_line MATCHES "^[ \t]*\\[([^]]*)\\]")
      set(_section "${CMAKE_MATCH_1}")
    elseif(_section STREQUAL "package"
           AND _line MATCHES "^[ \t]*version[ \t]*=[ \t]*\"([0-9]+\\.[0-9]+\\.[0-9]+)[^\"]*\"")
      set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  message(FATAL_ERROR "jsec: no [package] version = \"X.Y.Z\" in ${cargo_toml}")
endfunction()
