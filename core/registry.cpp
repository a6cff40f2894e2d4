#include "core/registry.h"

#include <cmath>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"

namespace fw {

// Defined in ops_builtin.cpp and blocks_builtin.cpp.
void register_leaf_ops(std::vector<OpDef>& out);
void register_block_ops(std::vector<OpDef>& out);

namespace {

struct Registry {
  std::vector<OpDef> defs;
  std::vector<const OpDef*> order;
  std::unordered_map<std::string, const OpDef*> by_id;
};

const Registry& registry() {
  static const Registry* reg = [] {
    auto* r = new Registry;
    register_leaf_ops(r->defs);
    register_block_ops(r->defs);
    for (const OpDef& d : r->defs) {
      FW_ASSERT(!r->by_id.count(d.id), "two registry entries share an id");
      FW_ASSERT(d.cls != OpClass::Leaf || d.infer, "a leaf op needs an infer function");
      FW_ASSERT(d.cls != OpClass::Composite || d.build, "a composite needs a build function");
      r->by_id[d.id] = &d;
      r->order.push_back(&d);
    }
    return r;
  }();
  return *reg;
}

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::Int:
      return "int";
    case AttrType::Float:
      return "float";
    case AttrType::Bool:
      return "bool";
    case AttrType::Choice:
      return "choice";
    case AttrType::String:
      return "string";
  }
  return "?";
}

}  // namespace

const AttrSpec* OpDef::attr(const std::string& name) const {
  for (const AttrSpec& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

const OpDef* find_op(std::string_view id) {
  const Registry& r = registry();
  auto it = r.by_id.find(std::string(id));
  return it == r.by_id.end() ? nullptr : it->second;
}

const OpDef& op_def(std::string_view id) {
  const OpDef* d = find_op(id);
  if (!d) throw Error("unknown op kind '" + std::string(id) + "'");
  return *d;
}

const std::vector<const OpDef*>& all_ops() { return registry().order; }

Attrs complete_attrs(const OpDef& def, const Attrs& given) {
  for (const auto& [name, value] : given) {
    (void)value;
    if (!def.attr(name)) throw Error(def.id + ": unknown attribute '" + name + "'");
  }
  Attrs out;
  for (const AttrSpec& spec : def.attrs) {
    AttrValue v = given.has(spec.name) ? given.get(spec.name) : spec.def;
    const std::string where = def.id + ": attribute '" + spec.name + "'";
    auto bad_type = [&] {
      return Error(where + " must be " + attr_type_name(spec.type) + ", got '" + attr_to_string(v) +
                   "'");
    };
    switch (spec.type) {
      case AttrType::Int:
        if (auto b = std::get_if<bool>(&v)) v = int64_t(*b);
        if (auto d = std::get_if<double>(&v)) {
          if (std::floor(*d) != *d) throw bad_type();
          // A whole number beyond int64 (3e52) would not convert: refused, not wrapped (#16).
          if (!(*d >= -0x1p63 && *d < 0x1p63))
            throw Error(where + " = " + attr_to_string(v) + " does not fit a 64-bit integer");
          v = int64_t(*d);
        }
        if (!std::holds_alternative<int64_t>(v)) throw bad_type();
        break;
      case AttrType::Float:
        if (auto i = std::get_if<int64_t>(&v)) v = double(*i);
        if (!std::holds_alternative<double>(v)) throw bad_type();
        if (!std::isfinite(std::get<double>(v))) throw Error(where + " must be finite");
        break;
      case AttrType::Bool:
        if (auto i = std::get_if<int64_t>(&v)) {
          if (*i != 0 && *i != 1) throw bad_type();
          v = *i != 0;
        }
        if (!std::holds_alternative<bool>(v)) throw bad_type();
        break;
      case AttrType::Choice: {
        if (!std::holds_alternative<std::string>(v)) throw bad_type();
        const std::string& s = std::get<std::string>(v);
        bool found = false;
        for (const std::string& c : spec.choices) found |= c == s;
        if (!found) {
          std::string list;
          for (const std::string& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
          throw Error(where + " is '" + s + "'; choose one of: " + list);
        }
        break;
      }
      case AttrType::String:
        if (!std::holds_alternative<std::string>(v)) throw bad_type();
        break;
    }
    if ((spec.type == AttrType::Int || spec.type == AttrType::Float) && spec.min != spec.max) {
      const double x =
          spec.type == AttrType::Int ? double(std::get<int64_t>(v)) : std::get<double>(v);
      if (x < spec.min || x > spec.max)
        throw Error(where + " = " + attr_to_string(v) + " is outside [" +
                    attr_to_string(spec.type == AttrType::Int ? AttrValue(int64_t(spec.min))
                                                              : AttrValue(spec.min)) +
                    ", " +
                    attr_to_string(spec.type == AttrType::Int ? AttrValue(int64_t(spec.max))
                                                              : AttrValue(spec.max)) +
                    "]");
    }
    out.set(spec.name, std::move(v));
  }
  if (def.check) def.check(out);
  return out;
}

}  // namespace fw
