# Writes the ctest file that runs the unit-test binary once per gtest suite
# (unit.<Suite>), run after each link of duel_tests. One process per suite
# rather than per case: every process pays LibTorch's start-up (~0.5 s of
# CPU), which over 260 cases was a third of the suite's time.
# Inputs: TEST_EXE (the binary), WORK_DIR (where the cases run), OUT (the file).
execute_process(COMMAND "${TEST_EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST_EXE} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE ";" "" listing "${listing}")  # parameter values may hold ';'
string(REPLACE "\n" ";" lines "${listing}")
set(text "# written by tests/unit_suites.cmake from ${TEST_EXE} --gtest_list_tests\n")
set(count 0)
foreach(line IN LISTS lines)
  # A suite line starts in column 0 ("Suite." or "Prefix/Suite."); its cases are indented.
  if(line MATCHES "^([A-Za-z0-9_/]+)\\.")
    set(suite "${CMAKE_MATCH_1}")
    string(APPEND text
      "add_test(\"unit.${suite}\" \"${TEST_EXE}\" \"--gtest_filter=${suite}.*\")\n"
      "set_tests_properties(\"unit.${suite}\" PROPERTIES LABELS unit SKIP_RETURN_CODE 77 TIMEOUT 600"
      " WORKING_DIRECTORY \"${WORK_DIR}\" ENVIRONMENT \"OPENBLAS_NUM_THREADS=1\")\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "${TEST_EXE} --gtest_list_tests listed no test suite")
endif()
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
