#include "core/attrs.h"

#include <cstdio>

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
}  // namespace

std::string attr_to_string(const AttrValue& v) {
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", *p);
    return buf;
  }
  if (auto p = std::get_if<bool>(&v)) return *p ? "true" : "false";
  return std::get<std::string>(v);
}

const AttrValue& Attrs::get(const std::string& name) const {
  auto it = map_.find(name);
  if (it == map_.end()) throw Error("attribute '" + name + "' is missing");
  return it->second;
}

int64_t Attrs::i(const std::string& name) const {
  const AttrValue& v = get(name);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p ? 1 : 0;
  throw Error("attribute '" + name + "' is a " + type_name(v) + ", expected int");
}

double Attrs::f(const std::string& name) const {
  const AttrValue& v = get(name);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  throw Error("attribute '" + name + "' is a " + type_name(v) + ", expected float");
}

bool Attrs::b(const std::string& name) const {
  const AttrValue& v = get(name);
  if (auto p = std::get_if<bool>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return *p != 0;
  throw Error("attribute '" + name + "' is a " + type_name(v) + ", expected bool");
}

const std::string& Attrs::s(const std::string& name) const {
  const AttrValue& v = get(name);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  throw Error("attribute '" + name + "' is a " + type_name(v) + ", expected string");
}

}  // namespace fw
