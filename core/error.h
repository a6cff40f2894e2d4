// Formwork errors, in three tiers (see STYLE.md):
//  - programmer errors: FW_ASSERT(cond, "how to fix it") aborts with the message;
//  - user and data errors: fw::Error (exit status 1) and fw::UsageError (exit status 2), each
//    carrying one line that says what went wrong and where (file, node, tensor name);
//  - library failures (SQLite, later CUDA) go through a checked macro in their own module that
//    records the call site and throws fw::Error.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace fw {

// The work failed: bad file, shape error, out of memory... (exit status 1).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// The command line was wrong (exit status 2).
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

// The work was abandoned on request (a cancelled job, a view request made stale by an edit). Not
// a failure: whoever cancelled it does not report it.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

}  // namespace fw

#define FW_ASSERT(cond, fix)                                                                \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: assertion '%s' failed: %s\n", __FILE__, __LINE__, #cond, \
                   fix);                                                                    \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
