# Writes the ctest file that runs the unit-test binary once per group of six
# gtest suites, run after each link of duel_tests. Few processes rather than
# one per case: every process pays LibTorch's start-up (~0.5 s of CPU), which
# over 260 cases was a third of the suite's time.
# Inputs: TEST_EXE (the binary), WORK_DIR (where the cases run), OUT (the file).
execute_process(COMMAND "${TEST_EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST_EXE} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE ";" "" listing "${listing}")  # parameter values may hold ';'
string(REPLACE "\n" ";" lines "${listing}")
set(text "# written by tests/unit_suites.cmake from ${TEST_EXE} --gtest_list_tests\n")
# Suites go to ctest in groups of six (unit.<First>..<Last>), in the order the
# binary lists them; a failure's output names the failing case.
set(suites "")
foreach(line IN LISTS lines)
  # A suite line starts in column 0 ("Suite." or "Prefix/Suite."); its cases are indented.
  if(line MATCHES "^([A-Za-z0-9_/]+)\\.")
    list(APPEND suites "${CMAKE_MATCH_1}")
  endif()
endforeach()
list(LENGTH suites count)
if(count EQUAL 0)
  message(FATAL_ERROR "${TEST_EXE} --gtest_list_tests listed no test suite")
endif()
set(group_size 6)
math(EXPR last "${count} - 1")
foreach(first RANGE 0 ${last} ${group_size})
  math(EXPR end "${first} + ${group_size} - 1")
  if(end GREATER last)
    set(end ${last})
  endif()
  set(filter "")
  foreach(i RANGE ${first} ${end})
    list(GET suites ${i} suite)
    string(APPEND filter "${suite}.*:")
  endforeach()
  list(GET suites ${first} first_suite)
  list(GET suites ${end} last_suite)
  set(name "unit.${first_suite}")
  if(NOT end EQUAL first)
    set(name "unit.${first_suite}..${last_suite}")
  endif()
  string(APPEND text
    "add_test(\"${name}\" \"${TEST_EXE}\" \"--gtest_filter=${filter}\")\n"
    "set_tests_properties(\"${name}\" PROPERTIES LABELS unit SKIP_RETURN_CODE 77 TIMEOUT 600"
    " WORKING_DIRECTORY \"${WORK_DIR}\" ENVIRONMENT \"OPENBLAS_NUM_THREADS=1\")\n")
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
