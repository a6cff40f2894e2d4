// Node attributes: a small ordered map name -> value (int, float, bool or string).
//
// - Values are typed: reading an int attribute as a float converts, anything else throws fw::Error
//   naming the attribute ("attribute 'dim' is a string, expected int").
// - Missing attributes throw on read; OpDef fills defaults when a node is created (core/registry.h).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace fw {

using AttrValue = std::variant<int64_t, double, bool, std::string>;

std::string attr_to_string(const AttrValue& v);

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<const std::string, AttrValue>> init) : map_(init) {}

  bool has(const std::string& name) const { return map_.count(name) != 0; }
  const AttrValue& get(const std::string& name) const;
  int64_t i(const std::string& name) const;   // int (or bool)
  double f(const std::string& name) const;    // float (or int)
  bool b(const std::string& name) const;      // bool (or int)
  const std::string& s(const std::string& name) const;

  void set(const std::string& name, AttrValue v) { map_[name] = std::move(v); }
  void erase(const std::string& name) { map_.erase(name); }

  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }
  size_t size() const { return map_.size(); }
  bool operator==(const Attrs& o) const { return map_ == o.map_; }

 private:
  std::map<std::string, AttrValue> map_;
};

}  // namespace fw
