# The test suite.  Labels: unit, store, cli, bench-smoke.
# Loud when missing: a build with ORCHESTRA_TESTS (the dev and fuzz presets)
# is one that means to run them.
find_library(CMOCKA_LIB cmocka)
if(NOT CMOCKA_LIB)
  message(FATAL_ERROR "cmocka not found: the tests need it "
      "(scripts/setup.sh --test installs it); to build without the tests, "
      "configure with -DORCHESTRA_TESTS=OFF (the release preset does)")
endif()

# One cmocka program per tests/unit/test-*.c, linked with the libraries it
# names in its first line: /* libs: orch_core */.
file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test-*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  file(STRINGS ${src} libs_line LIMIT_COUNT 1 REGEX "libs:")
  string(REGEX REPLACE ".*libs:[ ]*([^*]*)\\*/.*" "\\1" libs "${libs_line}")
  separate_arguments(libs)
  add_executable(${name} ${src})
  target_link_libraries(${name} ${libs} orch_util ${CMOCKA_LIB})
  add_test(NAME unit/${name} COMMAND ${name})
  set_tests_properties(unit/${name} PROPERTIES LABELS unit TIMEOUT 300)
endforeach()

# The bench program, small, so it keeps working; its figures come from the
# release build (bench/README.md).
add_test(NAME bench/smoke COMMAND bench-orchestra --jobs 200 --waiting 1000
    --users 10 --slots 50 --runs 1)
set_tests_properties(bench/smoke PROPERTIES LABELS bench TIMEOUT 300)

# The store against a real database, once per driver.
add_executable(test-store tests/store/test-store.c)
target_link_libraries(test-store orch_store ${CMOCKA_LIB})
add_test(NAME store/sqlite COMMAND test-store)
set_tests_properties(store/sqlite PROPERTIES LABELS "store;sqlite" TIMEOUT 300)


# A private PostgreSQL server for the tests that need one (label pg):
# started once by the fixture, stopped at the end, in a directory under
# /tmp that the server's unprivileged user can reach.
string(MD5 PG_HASH "${CMAKE_BINARY_DIR}")
string(SUBSTRING "${PG_HASH}" 0 12 PG_HASH)
set(PG_DIR /tmp/orchestra-pg-${PG_HASH})
add_test(NAME pg/start COMMAND ${CMAKE_SOURCE_DIR}/tests/lib/pg-start.sh
    ${PG_DIR})
set_tests_properties(pg/start PROPERTIES FIXTURES_SETUP pg LABELS pg
    TIMEOUT 120)
add_test(NAME pg/stop COMMAND ${CMAKE_SOURCE_DIR}/tests/lib/pg-stop.sh
    ${PG_DIR})
set_tests_properties(pg/stop PROPERTIES FIXTURES_CLEANUP pg LABELS pg)

add_test(NAME store/pg COMMAND sh -c
    "url=$(${CMAKE_SOURCE_DIR}/tests/lib/pg-db.sh store) && exec $<TARGET_FILE:test-store> --db-url \"$url\"")
set_tests_properties(store/pg PROPERTIES FIXTURES_REQUIRED pg
    ENVIRONMENT ORCHESTRA_PG_DIR=${PG_DIR} LABELS "store;pg" TIMEOUT 300)

# The module layers of tests/lint/layers.txt, through the compiler's
# include graph (compile_commands.json); and each known way around them,
# written into a scratch copy of src/, must fail that lint.
add_test(NAME lint/layers COMMAND ${CMAKE_SOURCE_DIR}/tests/lint/layers.py
    ${CMAKE_BINARY_DIR})
set_tests_properties(lint/layers PROPERTIES LABELS lint TIMEOUT 60)
add_test(NAME lint/layers-bypass
    COMMAND ${CMAKE_SOURCE_DIR}/tests/lint/layers-bypass.py ${CMAKE_BINARY_DIR})
set_tests_properties(lint/layers-bypass PROPERTIES LABELS lint TIMEOUT 180)
# The store's one binder (store_query, store_exec): the compiler refuses a
# call whose parameters do not match its format letters.
add_test(NAME lint/store-binds
    COMMAND ${CMAKE_SOURCE_DIR}/tests/lint/store-binds.py ${CMAKE_BINARY_DIR})
set_tests_properties(lint/store-binds PROPERTIES LABELS lint TIMEOUT 120)

# The command line against the real binary, on SQLite and on PostgreSQL.
include(${CMAKE_SOURCE_DIR}/tests/cli/cli.cmake)

# Each fuzz target over its seed corpus (fuzz/fuzz.cmake builds replay-NAME),
# under the preset's sanitizers: a finding kept in the corpus fails here.
file(GLOB FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/fuzz-*.c)
foreach(src ${FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz-" "" name ${name})
  add_test(NAME fuzz/replay-${name} COMMAND replay-${name}
      ${CMAKE_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(fuzz/replay-${name} PROPERTIES LABELS fuzz
      TIMEOUT 120)
endforeach()

# The Kubernetes API simulator, checked by itself (and with kubectl).
add_test(NAME kube/sim COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/kube/test-kube-sim.py)
set_tests_properties(kube/sim PROPERTIES LABELS kube TIMEOUT 300)

# deploy/'s manifests against the same schemas and validation.
add_test(NAME kube/deploy COMMAND python3 ${CMAKE_SOURCE_DIR}/tests/kube/test-deploy.py)
set_tests_properties(kube/deploy PROPERTIES LABELS kube TIMEOUT 120)

# The dashboard in headless Chromium (acceptance 2 of issue 7), on SQLite;
# its screenshots stay in build/<preset>/artifacts/browser.
add_test(NAME browser/dashboard
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/browser/test-dashboard.sh)
set_tests_properties(browser/dashboard PROPERTIES
  ENVIRONMENT "ORCHESTRA_BIN=$<TARGET_FILE:orchestra>;ORCHESTRA_ARTIFACTS=${CMAKE_BINARY_DIR}/artifacts/browser"
  LABELS browser
  TIMEOUT 300)

# `cmake --install` into a DESTDIR: every file, man pages rendered, the
# completion, the configuration example, a task run by the installed
# binary; and the systemd units through systemd-analyze verify.
add_test(NAME install/destdir COMMAND bash
  ${CMAKE_SOURCE_DIR}/tests/install/test-install.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install/destdir PROPERTIES LABELS install TIMEOUT 300)
add_test(NAME install/systemd-units COMMAND bash
  ${CMAKE_SOURCE_DIR}/tests/install/test-units.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install/systemd-units PROPERTIES LABELS install
  TIMEOUT 120)
# deploy/Containerfile, the image deploy/*.yaml run, built and looked into
# where a container builder and a Debian 12 base image are at hand (else
# skipped, saying which is missing).
add_test(NAME install/image COMMAND bash
  ${CMAKE_SOURCE_DIR}/tests/install/test-image.sh)
set_tests_properties(install/image PROPERTIES LABELS install TIMEOUT 1200)

# A test that cannot run here exits 77 and says why ("# skip: ..."); ctest
# reports it as skipped, not passed, and scripts/check.sh counts it.  One
# rule for every test above (cli.cmake's too); lint/skip-code checks that
# none is left out.
add_test(NAME lint/skip-code COMMAND ${CMAKE_SOURCE_DIR}/tests/lint/skip-code.sh
    ${CMAKE_BINARY_DIR})
set_tests_properties(lint/skip-code PROPERTIES LABELS lint TIMEOUT 60)
get_property(ORCHESTRA_ALL_TESTS DIRECTORY PROPERTY TESTS)
set_tests_properties(${ORCHESTRA_ALL_TESTS} PROPERTIES SKIP_RETURN_CODE 77)
# The longest tests (a minute or more on a 2-core machine) start first:
# ctest runs the costliest first, and a clean build has no
# Testing/Temporary/CTestCostData.txt to know them by, so one of them could
# start last and run alone (install/image did: the last 2 minutes of CI).
set_tests_properties(install/image cli/t0203-kube-faults
    cli-pg/t0203-kube-faults cli/t0131-torture cli-pg/t0131-torture
    cli-pg/t0320-remote-cli lint/layers-bypass PROPERTIES COST 100)
