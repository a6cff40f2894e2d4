// Small helpers shared by the registry's definition files (ops_builtin.cpp, blocks_builtin.cpp).
// Not part of the public core API.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"

namespace fw::detail {

inline AttrSpec int_attr(std::string name, int64_t def, double min, double max,
                         std::string help) {
  return AttrSpec{std::move(name), AttrType::Int, def, min, max, {}, std::move(help)};
}
inline AttrSpec float_attr(std::string name, double def, double min, double max,
                           std::string help) {
  return AttrSpec{std::move(name), AttrType::Float, def, min, max, {}, std::move(help)};
}
inline AttrSpec bool_attr(std::string name, bool def, std::string help) {
  return AttrSpec{std::move(name), AttrType::Bool, def, 0, 0, {}, std::move(help)};
}
inline AttrSpec choice_attr(std::string name, std::string def, std::vector<std::string> choices,
                            std::string help) {
  return AttrSpec{std::move(name), AttrType::Choice, std::move(def), 0, 0, std::move(choices),
                  std::move(help)};
}

// Throws a shape error (the caller prefixes the node path).
[[noreturn]] inline void shape_error(const std::string& msg) { throw Error(msg); }

// Requires input `port` to have rank `rank`; `what` names the expected layout ("[C,H,W]").
inline void expect_rank(const std::vector<Shape>& in, size_t port, size_t rank,
                        const char* what) {
  if (in[port].size() != rank)
    shape_error("expects a " + std::string(what) + " input, gets " + shape_str(in[port]));
}

inline void expect_channels(int64_t expected, int64_t got, const char* what = "channels") {
  if (expected != got)
    shape_error("expects " + std::to_string(expected) + " " + what + ", gets " +
                std::to_string(got));
}

}  // namespace fw::detail
