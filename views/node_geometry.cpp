#include "views/node_geometry.h"

#include <algorithm>

namespace fw::views {

namespace {

// Code points in a UTF-8 string.
size_t glyphs(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string num(int64_t v) { return std::to_string(v); }

const char* mixer_label(const std::string& m) {
  if (m == "pooling") return "pooling";
  if (m == "sepconv") return "sep-conv";
  if (m == "attention") return "attention";
  if (m == "identity") return "identity";
  if (m == "random_mixing") return "random mixing";
  return m.c_str();
}

int64_t int_attr(const Attrs& a, const char* name) {
  if (!a.has(name)) return -1;
  const AttrValue& v = a.get(name);
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  return -1;
}

}  // namespace

std::string node_title(const Node& n) {
  if (!n.name.empty()) return n.name;
  const OpDef* def = find_op(n.kind);
  return def ? def->label : n.kind;
}

std::string node_subtitle(const Node& n) {
  const OpDef* def = find_op(n.kind);
  std::string out = def ? def->label : n.kind;
  const Attrs& a = n.attrs;
  auto add = [&](const std::string& piece) { out += " \xC2\xB7 " + piece; };  // ·
  // The attributes that tell nodes of one kind apart, by their registry names.
  const int64_t cin = int_attr(a, "in_channels"), cout = int_attr(a, "out_channels");
  const int64_t fin = int_attr(a, "in_features"), fout = int_attr(a, "out_features");
  const int64_t dim = int_attr(a, "dim"), in_dim = int_attr(a, "in_dim");
  if (n.kind == "input" && a.has("channels")) {
    out += " \xC2\xB7 " + num(int_attr(a, "channels")) + "\xC3\x97" + num(int_attr(a, "height")) +
           "\xC3\x97" + num(int_attr(a, "width"));  // ×
    return out;
  }
  if (cin > 0 && cout > 0)
    add(num(cin) + "\xE2\x86\x92" + num(cout));  // →
  else if (fin > 0 && fout > 0)
    add(num(fin) + "\xE2\x86\x92" + num(fout));
  else if (in_dim > 0 && dim > 0 && in_dim != dim)
    add(num(in_dim) + "\xE2\x86\x92" + num(dim));
  else if (dim > 0)
    add("dim " + num(dim));
  else if (fin > 0 && a.has("num_classes"))
    add(num(fin) + "\xE2\x86\x92" + num(int_attr(a, "num_classes")));
  else if (a.has("channels") && int_attr(a, "channels") > 0)
    add(num(int_attr(a, "channels")));
  const int64_t k = int_attr(a, "kernel"), stride = int_attr(a, "stride");
  if (k > 0) add(num(k) + "\xC3\x97" + num(k) + (stride > 1 ? " /" + num(stride) : ""));
  if (const int64_t d = int_attr(a, "depth"); d > 0) add(num(d) + (d == 1 ? " block" : " blocks"));
  if (a.has("token_mixer") && std::holds_alternative<std::string>(a.get("token_mixer")))
    add(mixer_label(a.s("token_mixer")));
  if (const int64_t h = int_attr(a, "heads"); h > 0) add(num(h) + " heads");
  return out;
}

std::string shape_text(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += "\xC3\x97";  // ×
    out += std::to_string(s[i]);
  }
  return out;
}

bool is_container(const Node& n) {
  const OpDef* def = find_op(n.kind);
  return def ? def->cls != OpClass::Leaf : !n.children.empty();
}

BoxSize node_box(const Node& n) {
  const OpDef* def = find_op(n.kind);
  const size_t ins = def ? def->inputs.size() : n.inputs.size();
  const size_t outs = def ? def->outputs.size() : n.outputs.size();
  const float rows = std::max<float>(kNodeBodyLines, static_cast<float>(std::max(ins, outs)));
  // Average advances of DejaVu Sans Bold / Sans at the canvas text sizes.
  const float title = static_cast<float>(glyphs(node_title(n))) * kNodeTitleSize * 0.62f;
  const float sub = static_cast<float>(glyphs(node_subtitle(n))) * kNodeBodySize * 0.56f;
  const float text = std::max(title + 28, sub);  // room for the expand chevron beside the title
  BoxSize b;
  b.w = std::clamp(text + 2 * kNodePadding, kNodeMinWidth, kNodeMaxWidth);
  b.h = kNodeHeaderHeight + rows * kNodeRowHeight + 10;
  return b;
}

}  // namespace fw::views
