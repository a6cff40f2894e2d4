// Internal to the dataset files (core/datasets.cpp, dataset_placed.cpp, dataset_folder.cpp); not
// part of the API.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "core/datasets.h"

namespace fw {

// Worker count for LoadOptions::threads (0 = hardware concurrency, at most 64).
int dataset_threads(int threads);
// Runs fn(i) for i in [0, n) on that many std::threads in contiguous chunks (fn must only write
// its own slot). If fn throws, the exception of the lowest failing index is rethrown after all
// threads stop, so the message does not depend on timing.
void dataset_parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn);

// The image-folder loader; `split` is already validated.
Dataset load_image_folder(const std::string& dir, const std::string& split,
                          const LoadOptions& options);

}  // namespace fw
