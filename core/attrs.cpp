#include "core/attrs.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace fw {
namespace {

const char* type_name(const AttrValue& v) {
  switch (v.index()) {
    case 0: return "int";
    case 1: return "float";
    case 2: return "bool";
    default: return "string";
  }
}

[[noreturn]] void wrong_type(const std::string& name, const AttrValue& v, const char* expected) {
  throw Error("attribute '" + name + "' is " + (v.index() == 0 ? "an " : "a ") + type_name(v) +
              ", expected " + expected);
}

}  // namespace

std::string attr_to_string(const AttrValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  std::ostringstream os;
  os.precision(9);  // enough to round-trip any float attribute
  os << std::get<double>(v);
  return os.str();
}

const AttrValue& Attrs::get(const std::string& name) const {
  auto it = map_.find(name);
  if (it == map_.end()) throw Error("attribute '" + name + "' is missing");
  return it->second;
}

int64_t Attrs::i(const std::string& name) const {
  const AttrValue& v = get(name);
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1 : 0;
  if (const auto* d = std::get_if<double>(&v)) {
    // An integral float (from a JSON file that wrote 3.0) is accepted; 2.5 is not.
    if (std::isfinite(*d) && std::floor(*d) == *d) return static_cast<int64_t>(*d);
  }
  wrong_type(name, v, "int");
}

double Attrs::f(const std::string& name) const {
  const AttrValue& v = get(name);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  wrong_type(name, v, "float");
}

bool Attrs::b(const std::string& name) const {
  const AttrValue& v = get(name);
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (*i == 0 || *i == 1) return *i == 1;
  }
  wrong_type(name, v, "bool");
}

const std::string& Attrs::s(const std::string& name) const {
  const AttrValue& v = get(name);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  wrong_type(name, v, "string");
}

}  // namespace fw
