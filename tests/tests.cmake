# The test suite.  Labels: unit, store, cli, bench-smoke.
find_library(CMOCKA_LIB cmocka REQUIRED)

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

include(${CMAKE_SOURCE_DIR}/tests/cli/cli.cmake)
