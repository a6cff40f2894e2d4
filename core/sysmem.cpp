#include "core/sysmem.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include "core/error.h"
#include "core/format.h"

namespace fw {

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : UINT64_MAX;
}

namespace {
uint64_t address_space_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return uint64_t(r.rlim_cur);
}
}  // namespace

uint64_t memory_limit_bytes() {
  const uint64_t phys = physical_memory_bytes(), as = address_space_limit();
  return as < phys ? as : phys;
}

std::string memory_limit_text() {
  const uint64_t phys = physical_memory_bytes(), as = address_space_limit();
  if (as < phys) return "this process may use " + format_bytes(as) + " under ulimit -v";
  if (phys == UINT64_MAX) return "this machine's memory is unknown";
  return "this machine has " + format_bytes(phys);
}

bool exceeds_memory(long double bytes) {
  return !(bytes <= static_cast<long double>(memory_limit_bytes()));  // NaN exceeds too
}

std::string format_big(long double n) {
  if (n < 999.5e18L) return format_si(double(n), " ");
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2Le", n);
  return buf;
}

std::string format_bytes(long double bytes) {
  const std::string n = format_big(bytes);
  return n + (n.back() >= '0' && n.back() <= '9' ? " B" : "B");
}

void require_shape_fits(const std::string& subject, const std::vector<int64_t>& shape,
                        int element_bytes) {
  long double n = 1;
  for (int64_t d : shape) n *= static_cast<long double>(d);
  const long double bytes = n * element_bytes;
  if (!exceeds_memory(bytes)) return;
  const bool wraps = n > static_cast<long double>(INT64_MAX);
  std::string dims;
  for (int64_t d : shape) {
    if (!dims.empty()) dims += ", ";
    dims += std::to_string(d);
  }
  throw Error(subject + " has shape [" + dims + "] (" + format_big(n) + " elements" +
              (wraps ? ", more than int64 counts" : "") + "), which would need " +
              format_bytes(bytes) + " (" + memory_limit_text() + ")");
}

}  // namespace fw
