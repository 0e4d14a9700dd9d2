# The layers of tests/lint/layers.txt, kept by the compiler too: each
# module's target is compiled with ORCHESTRA_SEES_<M>=1 for every module M
# its rows (module, file) name, and a header of a module it may not see
# stops the build with an #error (store/*.h: ORCHESTRA_SEES_STORE).  The
# test, fuzz and bench programs see every module.  tests/lint/layers.py
# reads the same table, per file, through the compiler's include graph.
#
# Include it once every target is defined.  Module M's target is orch_M;
# cmd/ and main.c are the orchestra program's.
set(LAYER_TARGET_cmd orchestra)
set(LAYER_TARGET_main.c orchestra)

set(LAYER_TABLE ${CMAKE_SOURCE_DIR}/tests/lint/layers.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${LAYER_TABLE})
file(STRINGS ${LAYER_TABLE} layer_rows REGEX "^(module|file)[ \t]")
set(layer_modules "")
set(layer_targets "")
foreach(row ${layer_rows})
  string(REGEX REPLACE "#.*" "" row "${row}")
  separate_arguments(words UNIX_COMMAND "${row}")
  list(POP_FRONT words kind key)
  string(REGEX REPLACE "/.*" "" module "${key}")
  if(DEFINED LAYER_TARGET_${module})
    set(target ${LAYER_TARGET_${module}})
  else()
    set(target orch_${module})
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "layers.txt: no target ${target} for '${key}'")
  endif()
  list(APPEND layer_targets ${target})
  if(kind STREQUAL "module" AND NOT module MATCHES "\\.")
    list(APPEND layer_modules ${module})
  endif()
  foreach(m ${words})
    string(TOUPPER ${m} M)
    target_compile_definitions(${target} PRIVATE ORCHESTRA_SEES_${M}=1)
  endforeach()
endforeach()

set(layer_all "")
foreach(m ${layer_modules})
  string(TOUPPER ${m} M)
  list(APPEND layer_all ORCHESTRA_SEES_${M}=1)
endforeach()
get_property(all_targets DIRECTORY PROPERTY BUILDSYSTEM_TARGETS)
foreach(t ${all_targets})
  get_target_property(type ${t} TYPE)
  if(type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|OBJECT_LIBRARY)$"
      AND NOT t IN_LIST layer_targets)
    target_compile_definitions(${t} PRIVATE ${layer_all})
  endif()
endforeach()
