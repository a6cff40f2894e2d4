#include "tests/fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/analysis.h"
#include "core/arch.h"
#include "core/error.h"
#include "core/graph_json.h"
#include "core/idx.h"
#include "core/image_io.h"
#include "core/npy.h"
#include "core/project_store.h"
#include "core/safetensors.h"
#include "core/templates.h"
#include "nas/search.h"
#include "nas/space.h"

namespace fw::fuzz {
namespace {

// Runs `f`, swallowing the errors a parser may throw on bad input.
template <class F>
void expect_error_or_ok(F&& f) {
  try {
    f();
  } catch (const Error&) {
  } catch (const UsageError&) {
  }
}

// A temp file holding the input, for the readers that take a path: one per target and process,
// rewritten for every input, removed at exit.
class TempFile {
 public:
  explicit TempFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/formwork-fuzz-" + std::to_string(getpid()) +
            suffix;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& write(const uint8_t* data, size_t size) {
    FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path_;
  }

 private:
  std::string path_;
};

std::string text_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// parse_safetensors (with metadata); what was read must encode (unless a name or metadata value
// is not valid UTF-8: fw::Error) and parse again to as many tensors.
void safetensors(const uint8_t* data, size_t size) {
  expect_error_or_ok([&] {
    SafetensorsMetadata meta;
    const TensorMap tensors = parse_safetensors(data, size, "fuzz.safetensors", &meta);
    const std::vector<uint8_t> again = encode_safetensors(tensors, meta);
    if (parse_safetensors(again.data(), again.size(), "again").size() != tensors.size())
      std::abort();
  });
}

// parse_npy (float tensors, re-encoded and parsed again) and parse_npy_labels (int64 labels).
void npy(const uint8_t* data, size_t size) {
  expect_error_or_ok([&] {
    const Tensor t = parse_npy(data, size, "fuzz.npy");
    const std::vector<uint8_t> again = encode_npy(t);
    if (parse_npy(again.data(), again.size(), "again").shape != t.shape) std::abort();
  });
  expect_error_or_ok([&] { parse_npy_labels(data, size, "fuzz.npy"); });
}

// The architecture JSON, then the analysis (a well-formed file can still describe an absurd
// graph: huge dims, deep nesting, cycles, dangling ports), flatten of a valid graph and the JSON
// round trip.
void graph_json(const uint8_t* data, size_t size) {
  expect_error_or_ok([&] {
    const Graph g = graph_from_json(text_of(data, size), "fuzz.json");
    const Analysis a = analyze(g);
    if (a.ok()) flatten(g, a);
    graph_from_json(graph_to_json(g), "again.json");
  });
}

// A project file, as opening it does: every table read (load_project), then its graph parsed and
// analysed and every search's records decoded.
void project(const uint8_t* data, size_t size) {
  static TempFile file(".formwork");
  const std::string& path = file.write(data, size);
  expect_error_or_ok([&] {
    const ProjectData p = load_project(path);
    expect_error_or_ok([&] {
      const Graph g = graph_from_json(p.graph_json, path);
      const Analysis a = analyze(g);
      if (a.ok()) flatten(g, a);
    });
    for (const SearchRow& s : p.searches) expect_error_or_ok([&] { search_records(p, s.name); });
    for (const SearchResult& r : p.search_results)
      expect_error_or_ok([&] { result_graph(p, r.id, "fuzz"); });
  });
}

// IDX images and labels, plain and gzip'ed: the file readers (gzip detected by its magic and
// inflated no further than the header says), the in-memory parsers, a bounded gunzip.
void idx(const uint8_t* data, size_t size) {
  static TempFile file(".idx");
  const std::string& path = file.write(data, size);
  expect_error_or_ok([&] { read_idx_images(path); });
  expect_error_or_ok([&] { read_idx_labels(path); });
  expect_error_or_ok([&] { parse_idx_images(data, size, "fuzz.idx"); });
  expect_error_or_ok([&] { parse_idx_labels(data, size, "fuzz.idx"); });
  expect_error_or_ok([&] { gunzip(data, size, "fuzz.gz", 1 << 20, true); });
}

// Image decoding: image_info on a file (the header), decode_image with each channel count, and
// a small resize of what decoded (of at most a megapixel: resizing is not parsing).
void image(const uint8_t* data, size_t size) {
  static TempFile file(".img");
  const std::string& path = file.write(data, size);
  ImageInfo info;
  const bool known = image_info(path, info);
  const std::vector<uint8_t> bytes(data, data + size);
  for (int channels : {0, 1, 3, 4}) {
    expect_error_or_ok([&] {
      const Image8 img = decode_image(bytes, channels, "fuzz.img");
      if (img.data.size() != size_t(img.width) * size_t(img.height) * size_t(img.channels))
        std::abort();
      // What decodes has the size its header said.
      if (!known || img.width != info.width || img.height != info.height) std::abort();
      if (channels == 0 && int64_t(img.width) * img.height <= (int64_t(1) << 20))
        resize_image(img, 7, 5, img.width % 2 == 0);
    });
  }
}

// The search-space file, checked against a template, then the base pick, the first subnet and
// the choices JSON round trip.
void space(const uint8_t* data, size_t size) {
  static const Graph base = build_template("poolformer_s12");
  expect_error_or_ok([&] {
    const SearchSpace raw = SearchSpace::from_json(text_of(data, size), "fuzz-space.json");
    SearchSpace::from_json(raw.to_json(), "again");
    const SearchSpace s = check_space(base, raw);
    base_pick(base, s);
    const Pick first(s.choices.size(), 0);
    pick_from_choices_json(s, subnet_choices_json(s, first));
    subnet_key(s, first);
    apply_subnet(base, s, first);
  });
}

// --input-size C,H,W (parse_input_size), set on a template's input and analysed, as
// `formwork info ARCH --input-size ...` does.
void input_size(const uint8_t* data, size_t size) {
  static const Graph base = build_template("poolformer_s12");
  expect_error_or_ok([&] {
    const Shape s = parse_input_size(text_of(data, size));
    if (s.size() != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1) std::abort();
    Graph g = base;
    set_input_size(g, s);
    analyze(g);
  });
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", safetensors},
      {"npy", npy},
      {"graph_json", graph_json},
      {"project", project},
      {"idx", idx},
      {"image", image},
      {"space", space},
      {"input_size", input_size},
  };
  return all;
}

const Target& target(const char* name) {
  for (const Target& t : targets())
    if (std::strcmp(t.name, name) == 0) return t;
  std::abort();
}

}  // namespace fw::fuzz
