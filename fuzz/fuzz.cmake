# Fuzz targets: one fuzz/fuzz-<name>.c per parser of outside input
# (STYLE.md habit 7), with its seed corpus in fuzz/corpus/<name>/.  Its
# first line names the libraries it needs, as the unit tests do:
# /* libs: orch_core */.
#
# Always: replay-<name>, the target with fuzz/replay.c as its main(), built
# with the preset's compiler and sanitizers; tests.cmake runs it over the
# corpus (label fuzz).  With ORCHESTRA_FUZZ=ON and clang (the fuzz preset):
# fuzz-<name> too, the libFuzzer binary, with the libraries it links
# instrumented for coverage; fuzz/run.sh runs it.
option(ORCHESTRA_FUZZ "Build the libFuzzer targets (clang only)" OFF)

set(FUZZ_LIBFUZZER OFF)
if(ORCHESTRA_FUZZ)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(FUZZ_LIBFUZZER ON)
    if(NOT ORCHESTRA_SANITIZE)
      # The coverage hooks in the libraries need a sanitizer runtime in
      # every program that links them.
      message(FATAL_ERROR "ORCHESTRA_FUZZ needs ORCHESTRA_SANITIZE=ON "
          "(cmake --preset fuzz)")
    endif()
  else()
    message(WARNING "ORCHESTRA_FUZZ needs clang (libFuzzer), not "
        "${CMAKE_C_COMPILER_ID}: only the replay programs are built")
  endif()
endif()

file(GLOB FUZZ_TARGETS CONFIGURE_DEPENDS
    ${CMAKE_SOURCE_DIR}/fuzz/fuzz-*.c)
set(FUZZ_INSTRUMENTED "")
foreach(src ${FUZZ_TARGETS})
  get_filename_component(file ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz-" "" name ${file})
  file(STRINGS ${src} libs_line LIMIT_COUNT 1 REGEX "libs:")
  string(REGEX REPLACE ".*libs:[ ]*([^*]*)\\*/.*" "\\1" libs "${libs_line}")
  separate_arguments(libs)

  add_executable(replay-${name} ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay.c)
  target_link_libraries(replay-${name} ${libs} orch_util)

  if(FUZZ_LIBFUZZER)
    add_executable(fuzz-${name} ${src})
    target_compile_options(fuzz-${name} PRIVATE
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer)
    target_link_options(fuzz-${name} PRIVATE
        -fsanitize=fuzzer,address,undefined)
    target_link_libraries(fuzz-${name} ${libs} orch_util)
    list(APPEND FUZZ_INSTRUMENTED ${libs} orch_util)
  endif()
endforeach()

# The code under test gives libFuzzer its coverage: the libraries a target
# links, and the orch_ libraries they link, are built with the coverage
# hooks (ORCHESTRA_SANITIZE gives them the sanitizers).
if(FUZZ_LIBFUZZER)
  set(FUZZ_QUEUE ${FUZZ_INSTRUMENTED})
  set(FUZZ_INSTRUMENTED "")
  while(FUZZ_QUEUE)
    list(POP_FRONT FUZZ_QUEUE lib)
    if(lib IN_LIST FUZZ_INSTRUMENTED)
      continue()
    endif()
    list(APPEND FUZZ_INSTRUMENTED ${lib})
    target_compile_options(${lib} PRIVATE
        -fsanitize=fuzzer-no-link)
    get_target_property(deps ${lib} LINK_LIBRARIES)
    foreach(dep ${deps})
      if(dep MATCHES "^orch_")
        list(APPEND FUZZ_QUEUE ${dep})
      endif()
    endforeach()
  endwhile()
endif()
