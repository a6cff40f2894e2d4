// The memory this process may use, and sizes as the refusals of hostile inputs print them
// ("tensor 'w' has shape [...], which would need 4.40 TB (this machine has 23.6 GB)").
//
// Every reader or command that would allocate in proportion to a size it was given (a file
// header, a shape, --batch and --input-size) compares what that size would need with
// memory_limit_bytes() first and refuses with fits_text() rather than allocating.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

// Installed physical memory (sysconf); UINT64_MAX when unknown.
uint64_t physical_memory_bytes();
// What this process may allocate at most: physical memory, or the address-space limit
// (RLIMIT_AS, `ulimit -v`) when that is lower.
uint64_t memory_limit_bytes();
// "this machine has 23.6 GB", or "this process may use 4.29 GB under ulimit -v" where the address-
// space limit is the lower one.
std::string memory_limit_text();
// Whether `bytes` (computed in long double so that absurd sizes do not wrap) exceeds
// memory_limit_bytes().
bool exceeds_memory(long double bytes);
// A byte count as "4.40 TB", "412 GB", "23.6 GB", "512 B"; beyond the exabytes in scientific
// notation ("5.07e+30 B").
std::string format_bytes(long double bytes);
// A count as "1.10 T" (format_si), "4.61 E", or "1.27e+30" beyond 10^21.
std::string format_big(long double n);

// Refuses a tensor of `shape` whose elements at `element_bytes` each exceed memory_limit_bytes(),
// before anything is allocated: fw::Error(subject + " has shape [1099511627776] (1.10 T
// elements), which would need 4.40 TB (this machine has 23.6 GB)"); a product beyond int64 says
// so.
void require_shape_fits(const std::string& subject, const std::vector<int64_t>& shape,
                        int element_bytes);

}  // namespace fw
