#include "core/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/float16.h"
#include "core/sysmem.h"

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

namespace fw {
namespace {

using json = nlohmann::json;

struct DtypeInfo {
  const char* name;
  size_t size;
};
constexpr DtypeInfo kDtypes[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}};

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string json_error_text(const std::exception& e) {
  const std::string s = e.what();
  const size_t close = s.find("] ");
  return close == std::string::npos ? s : s.substr(close + 2);
}

std::string span_str(uint64_t begin, uint64_t end) {
  std::string s = "[";  // built by appending: GCC 12 warns falsely (-Wrestrict) on "[" + string
  s += std::to_string(begin);
  s += ", ";
  s += std::to_string(end);
  s += ')';
  return s;
}

// Parses the header, refusing duplicate keys at any level (nlohmann would silently keep one).
json parse_header(const char* text, size_t size, const std::string& what) {
  struct Level {
    std::string name;  // the key this object is the value of ("" at the top)
    std::string last_key;
    std::set<std::string> seen;
  };
  std::vector<Level> levels;
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      levels.push_back({levels.empty() ? "" : levels.back().last_key, "", {}});
    } else if (event == json::parse_event_t::object_end) {
      levels.pop_back();
    } else if (event == json::parse_event_t::key) {
      Level& level = levels.back();
      level.last_key = parsed.get<std::string>();
      if (!level.seen.insert(level.last_key).second) {
        if (levels.size() == 1)
          throw Error(what + ": duplicate tensor name '" + level.last_key + "' in the header");
        throw Error(what + ": tensor '" + level.name + "': duplicate key '" + level.last_key + "'");
      }
    }
    return true;
  };
  try {
    return json::parse(text, text + size, on_event);
  } catch (const json::exception& e) {
    throw Error(what + ": header is not valid JSON (" + json_error_text(e) + ")");
  }
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype = nullptr;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& name, const json& j, uint64_t data_size,
                  const std::string& what) {
  const std::string ctx = what + ": tensor '" + name + "': ";
  if (!j.is_object()) throw Error(ctx + "header entry is not an object");
  Entry e;
  e.name = name;

  const auto dtype = j.find("dtype");
  if (dtype == j.end()) throw Error(ctx + "missing 'dtype'");
  if (!dtype->is_string()) throw Error(ctx + "'dtype' is not a string");
  const std::string dtype_name = dtype->get<std::string>();
  for (const DtypeInfo& d : kDtypes)
    if (dtype_name == d.name) e.dtype = &d;
  if (!e.dtype)
    throw Error(ctx + "dtype '" + dtype_name + "' is not supported (F32, F16, BF16, F64)");

  const auto shape = j.find("shape");
  if (shape == j.end()) throw Error(ctx + "missing 'shape'");
  if (!shape->is_array()) throw Error(ctx + "'shape' is not an array");
  for (const json& d : *shape) {
    if (!d.is_number_integer())
      throw Error(ctx + "shape " + shape->dump() + " has a non-integer dimension " + d.dump());
    if (d.is_number_unsigned() ? d.get<uint64_t>() > uint64_t{INT64_MAX} : false)
      throw Error(ctx + "shape " + shape->dump() + " has a dimension too large");
    const int64_t v = d.get<int64_t>();
    if (v < 0)
      throw Error(ctx + "shape " + shape->dump() + " has a negative dimension " + d.dump());
    e.shape.push_back(v);
  }

  const auto offsets = j.find("data_offsets");
  if (offsets == j.end()) throw Error(ctx + "missing 'data_offsets'");
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned())
    throw Error(ctx + "'data_offsets' " + offsets->dump() + " is not [begin, end]");
  e.begin = (*offsets)[0].get<uint64_t>();
  e.end = (*offsets)[1].get<uint64_t>();
  if (e.begin > e.end)
    throw Error(ctx + "data offsets " + span_str(e.begin, e.end) + " are reversed");

  require_shape_fits(what + ": tensor '" + name + "'", e.shape, 4);  // read as F32
  uint64_t bytes = e.dtype->size;
  for (int64_t d : e.shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
      throw Error(ctx + "shape " + shape->dump() + " is too large");
  if (bytes != e.end - e.begin)
    throw Error(ctx + "shape " + shape_str(e.shape) + " " + e.dtype->name + " needs " +
                std::to_string(bytes) + " bytes but data offsets " + span_str(e.begin, e.end) +
                " span " + std::to_string(e.end - e.begin));
  if (e.end > data_size)
    throw Error(ctx + "data offsets " + span_str(e.begin, e.end) +
                " are out of bounds (the data section has " + std::to_string(data_size) +
                " bytes)");
  return e;
}

void check_overlaps(std::vector<const Entry*> spans, const std::string& what) {
  std::erase_if(spans, [](const Entry* e) { return e->begin == e->end; });  // empty: no bytes
  std::sort(spans.begin(), spans.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end, a->name) < std::tie(b->begin, b->end, b->name);
  });
  const Entry* furthest = nullptr;  // among the spans so far, the one reaching furthest
  for (const Entry* e : spans) {
    if (furthest && e->begin < furthest->end)
      throw Error(what + ": tensor '" + e->name + "': data offsets " + span_str(e->begin, e->end) +
                  " overlap tensor '" + furthest->name + "' " +
                  span_str(furthest->begin, furthest->end));
    if (!furthest || e->end > furthest->end) furthest = e;
  }
}

Tensor convert(const Entry& e, const uint8_t* src) {
  Tensor t(e.shape);
  float* dst = t.ptr();
  const size_t n = t.data.size();
  const std::string dtype = e.dtype->name;
  if (dtype == "F32") {
    if (n) std::memcpy(dst, src, n * 4);
  } else if (dtype == "F16" || dtype == "BF16") {
    const bool bf = dtype == "BF16";
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = bf ? bf16_to_f32(h) : f16_to_f32(h);
    }
  } else {  // F64
    for (size_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      dst[i] = static_cast<float>(d);
    }
  }
  return t;
}

// The padded header of a file holding `tensors` as F32, packed in name order.
std::string build_header(const TensorMap& tensors, const SafetensorsMetadata& metadata,
                         const std::string& what) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::string ctx = what + ": tensor '" + name + "': ";
    if (name == "__metadata__") throw Error(ctx + "the name is reserved for the metadata");
    for (int64_t d : t.shape)
      if (d < 0) throw Error(ctx + "negative dimension in shape " + shape_str(t.shape));
    if (numel(t.shape) != t.size())
      throw Error(ctx + "shape " + shape_str(t.shape) + " needs " + std::to_string(numel(t.shape)) +
                  " values but the tensor has " + std::to_string(t.size()));
    const uint64_t bytes = static_cast<uint64_t>(t.size()) * 4;
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(what + ": a tensor name or metadata string is not valid UTF-8 (" +
                json_error_text(e) + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void append_le64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

TensorMap parse_safetensors(const uint8_t* data, size_t size, const std::string& what,
                            SafetensorsMetadata* metadata) {
  if (size < 8)
    throw Error(what + ": file is too short for a safetensors header (" + std::to_string(size) +
                " bytes, need at least 8)");
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= static_cast<uint64_t>(data[i]) << (8 * i);
  if (header_size > size - 8)
    throw Error(what + ": header length " + std::to_string(header_size) +
                " goes beyond the end of the file (" + std::to_string(size) + " bytes)");
  const json header = parse_header(reinterpret_cast<const char*>(data) + 8, header_size, what);
  if (!header.is_object()) throw Error(what + ": header is not a JSON object");

  const uint8_t* section = data + 8 + header_size;
  const uint64_t section_size = size - 8 - header_size;
  if (metadata) metadata->clear();
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) throw Error(what + ": __metadata__ is not an object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string())
          throw Error(what + ": __metadata__ value of '" + k + "' is not a string");
        if (metadata) (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(name, value, section_size, what));
  }
  std::vector<const Entry*> spans;
  for (const Entry& e : entries) spans.push_back(&e);
  check_overlaps(std::move(spans), what);

  TensorMap tensors;
  for (const Entry& e : entries) tensors.emplace(e.name, convert(e, section + e.begin));
  return tensors;
}

TensorMap read_safetensors(const std::string& path, SafetensorsMetadata* metadata) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_safetensors(bytes.data(), bytes.size(), path, metadata);
}

std::vector<uint8_t> encode_safetensors(const TensorMap& tensors,
                                        const SafetensorsMetadata& metadata) {
  const std::string header = build_header(tensors, metadata, "safetensors");
  std::vector<uint8_t> out;
  append_le64(out, header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (const auto& [name, t] : tensors) {
    const auto* p = reinterpret_cast<const uint8_t*>(t.ptr());
    out.insert(out.end(), p, p + t.data.size() * 4);
  }
  return out;
}

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const SafetensorsMetadata& metadata) {
  const std::string header = build_header(tensors, metadata, path);  // validate before touching
  write_file_atomic(path, [&](int fd) {
    std::vector<uint8_t> prefix;
    append_le64(prefix, header.size());
    write_all(fd, prefix.data(), prefix.size(), path);
    write_all(fd, header.data(), header.size(), path);
    for (const auto& [name, t] : tensors) write_all(fd, t.ptr(), t.data.size() * 4, path);
  });
}

}  // namespace fw
