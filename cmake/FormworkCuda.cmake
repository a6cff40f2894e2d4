# FORMWORK_CUDA=AUTO|ON|OFF -> FORMWORK_CUDA_ENABLED (ON/OFF): whether the CUDA toolkit is
# found. AUTO looks for nvcc; ON fails the configure without it. No code is built with it yet (the
# CUDA backend is still to be written); this is where it will hook in.
set(FORMWORK_CUDA_ENABLED OFF)
if(NOT FORMWORK_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(FORMWORK_CUDA_ENABLED ON)
  elseif(FORMWORK_CUDA STREQUAL "ON")
    message(FATAL_ERROR "FORMWORK_CUDA=ON but no CUDA compiler (nvcc) was found")
  else()
    message(STATUS "Formwork: nvcc not found")
  endif()
endif()
