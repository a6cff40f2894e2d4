# Sanitizer and fuzzing builds (tests/fuzz/README.md; scripts/sanitize.sh builds both at once).
#
#  FORMWORK_SANITIZE=address,undefined  every target (libraries, the binary, the tests) is built
#      with -fsanitize=<list> -fno-sanitize-recover=undefined (undefined behaviour fails the run
#      instead of printing and going on), -g -fno-omit-frame-pointer, and -O1 in Debug so that
#      the tests run in reasonable time. Use with CMAKE_BUILD_TYPE=Debug and FORMWORK_GUI=OFF.
#  FORMWORK_FUZZ=ON  the libFuzzer targets of tests/fuzz/ (Clang only). Every library is also
#      built with -fsanitize=fuzzer-no-link (coverage instrumentation), the targets link
#      -fsanitize=fuzzer. Implies FORMWORK_SANITIZE=address,undefined when it is empty. The
#      instrumented libraries still make an ordinary (sanitized) binary and unit tests, so one
#      build directory serves both.
set(FORMWORK_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined (empty: none)")
option(FORMWORK_FUZZ "Build the libFuzzer targets (tests/fuzz/, Clang only)" OFF)

if(FORMWORK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FORMWORK_FUZZ=ON needs Clang (libFuzzer), e.g. "
                        "-DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 "
                        "(clang-16, libclang-rt-16-dev); this is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(FORMWORK_SANITIZE STREQUAL "")
    set(FORMWORK_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(NOT FORMWORK_SANITIZE STREQUAL "")
  add_compile_options(-fsanitize=${FORMWORK_SANITIZE} -fno-omit-frame-pointer -g
                      $<$<CONFIG:Debug>:-O1>)
  add_link_options(-fsanitize=${FORMWORK_SANITIZE})
  # The instrumentation keeps Clang from vectorising some `#pragma omp simd` loops, which it
  # reports as a warning (an error under -Werror); the loops are still correct.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-Wno-pass-failed)
    # g++-only pragmas (-Wmaybe-uninitialized) and MPI-only constants: warnings, not errors.
    add_compile_options(-Wno-error=unknown-warning-option -Wno-error=unused-const-variable)
  endif()
  if(FORMWORK_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  message(STATUS "Formwork: sanitizers ${FORMWORK_SANITIZE}, fuzz targets ${FORMWORK_FUZZ}")
endif()
