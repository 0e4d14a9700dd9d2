# Command-line tests: one ctest test per tests/cli/tNNNN-*.sh, run with bash
# against the real binary (lib.sh reads ORCHESTRA_BIN).  Label: cli.
file(GLOB CLI_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli/t*.sh)
foreach(script ${CLI_TESTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME cli/${name} COMMAND bash ${script})
  set_tests_properties(cli/${name} PROPERTIES
    ENVIRONMENT "ORCHESTRA_BIN=$<TARGET_FILE:orchestra>"
    LABELS cli
    TIMEOUT 300)
endforeach()
