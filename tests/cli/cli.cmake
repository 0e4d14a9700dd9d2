# Command-line tests: each tests/cli/tNNNN-*.sh runs twice, with bash,
# against the real binary (lib.sh reads ORCHESTRA_BIN; exit 77: skipped,
# the script says why, SKIP_RETURN_CODE set in tests.cmake): cli/NAME on an
# SQLite file, cli-pg/NAME on a database of its own on the test PostgreSQL
# server (the pg fixture of tests.cmake).  Labels: cli, and pg.  The
# pilot's end-to-end scenarios run a third time, cli-kube/NAME, on the
# kubernetes backend against the API simulator (lib.sh starts it), on
# SQLite.  Labels: cli, and kube.
file(GLOB CLI_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/cli/t*.sh)
foreach(script ${CLI_TESTS})
  get_filename_component(name ${script} NAME_WE)
  add_test(NAME cli/${name} COMMAND bash ${script})
  set_tests_properties(cli/${name} PROPERTIES
    ENVIRONMENT "ORCHESTRA_BIN=$<TARGET_FILE:orchestra>"
    LABELS cli
    TIMEOUT 600)
  add_test(NAME cli-pg/${name} COMMAND bash ${script})
  set_tests_properties(cli-pg/${name} PROPERTIES
    ENVIRONMENT "ORCHESTRA_BIN=$<TARGET_FILE:orchestra>;ORCHESTRA_TEST_DB=pg;ORCHESTRA_PG_DIR=${PG_DIR}"
    FIXTURES_REQUIRED pg
    LABELS "cli;pg"
    TIMEOUT 600)
endforeach()
set(CLI_KUBE_TESTS t0101-pilot-lifecycle t0102-pilot-broken-retry
  t0103-pilot-finalized-retry t0104-pilot-kill t0105-pilot-live-slots
  t0106-pilot-gpu)
foreach(name ${CLI_KUBE_TESTS})
  add_test(NAME cli-kube/${name}
    COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/${name}.sh)
  set_tests_properties(cli-kube/${name} PROPERTIES
    ENVIRONMENT "ORCHESTRA_BIN=$<TARGET_FILE:orchestra>;ORCHESTRA_TEST_BACKEND=kubernetes"
    LABELS "cli;kube"
    TIMEOUT 300)
endforeach()
