# Sanitizer and fuzzing builds (tests/fuzz/README.md; scripts/sanitize.sh builds both at once).
#
#  FORMWORK_SANITIZE=address,undefined  every target (libraries, the binary, the tests) is built
#      with -fsanitize=<list> -fno-sanitize-recover=undefined (undefined behaviour fails the run
#      instead of printing and going on), -gline-tables-only -fno-omit-frame-pointer, -O1 in Debug (-O2 for the kernels) so that
#      the tests run in reasonable time. Use with CMAKE_BUILD_TYPE=Debug and FORMWORK_GUI=OFF.
#  FORMWORK_FUZZ=ON  the libFuzzer targets of tests/fuzz/ (Clang only). The parsers' libraries
#      (core, nas) are also built with -fsanitize=fuzzer-no-link (coverage instrumentation), the
#      targets link -fsanitize=fuzzer. Implies FORMWORK_SANITIZE=address,undefined when it is empty. The
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
endif()

if(NOT FORMWORK_SANITIZE STREQUAL "")
  # Line tables are all a sanitizer's stack trace needs (file:line), and build faster than -g.
  add_compile_options(-fsanitize=${FORMWORK_SANITIZE} -fno-omit-frame-pointer -gline-tables-only
                      $<$<CONFIG:Debug>:-O1>)
  add_link_options(-fsanitize=${FORMWORK_SANITIZE})
  # The instrumentation keeps Clang from vectorising some `#pragma omp simd` loops, which it
  # reports as a warning (an error under -Werror); the loops are still correct.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-Wno-pass-failed)
    # g++-only pragmas (-Wmaybe-uninitialized in kernels/cpu/gemm_eigen.cpp) and constants that
    # only Clang sees as unused: warnings, not errors (GCC's -Werror build stays strict).
    add_compile_options(-Wno-error=unknown-warning-option -Wno-error=unused-const-variable)
  endif()
  if(FORMWORK_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  message(STATUS "Formwork: sanitizers ${FORMWORK_SANITIZE}, fuzz targets ${FORMWORK_FUZZ}")
endif()

# Called after the libraries exist (top-level CMakeLists.txt). The parsers' libraries get the
# fuzzers' coverage instrumentation (only they need it: the binary and the tests build faster
# without); the kernels are optimised (-O2, Eigen's own debug checks off) so that the tests that
# run networks finish within CI's time; ASan and UBSan still check every access there.
function(formwork_sanitize_targets)
  if(FORMWORK_FUZZ)
    target_compile_options(formwork_core PRIVATE -fsanitize=fuzzer-no-link)
    target_compile_options(formwork_nas PRIVATE -fsanitize=fuzzer-no-link)
  endif()
  if(NOT FORMWORK_SANITIZE STREQUAL "")
    target_compile_options(formwork_kernels PRIVATE -O2)
    target_compile_definitions(formwork_kernels PRIVATE EIGEN_NO_DEBUG)
  endif()
endfunction()
