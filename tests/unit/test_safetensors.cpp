#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/atomic_file.h"
#include "core/safetensors.h"
#include "store_test_util.h"

namespace {

using fw::test::ScratchDir;
using Bytes = std::vector<uint8_t>;

// A safetensors file from a header text and a data section, as a writer would lay it out.
Bytes make_file(const std::string& header, const Bytes& data = {}) {
  Bytes out;
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <typename T>
Bytes raw(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

fw::TensorMap parse(const Bytes& b, fw::SafetensorsMetadata* meta = nullptr) {
  return fw::parse_safetensors(b.data(), b.size(), "w.safetensors", meta);
}

bool same_bits(const fw::Tensor& a, const fw::Tensor& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.ptr(), b.ptr(), a.data.size() * sizeof(float)) == 0);
}

fw::TensorMap sample_tensors() {
  fw::TensorMap m;
  m["stem.conv.weight"] = fw::Tensor({2, 3}, {1, -2, 3.5f, 0, -0.0f, 1e-30f});
  m["head.fc.bias"] = fw::Tensor(
      {3}, {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 7});
  m["scalar"] = fw::Tensor({}, 42.0f);
  m["empty"] = fw::Tensor({0, 4});
  return m;
}

// ---- Round trips --------------------------------------------------------------------------------

TEST(Safetensors, RoundTripF32WithMetadata) {
  ScratchDir dir;
  const std::string path = dir.file("w.safetensors");
  const fw::TensorMap in = sample_tensors();
  fw::write_safetensors(path, in, {{"format", "pt"}, {"note", "é"}});
  fw::SafetensorsMetadata meta;
  const fw::TensorMap out = fw::read_safetensors(path, &meta);
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [name, t] : in) EXPECT_TRUE(same_bits(out.at(name), t)) << name;
  EXPECT_EQ(meta, (fw::SafetensorsMetadata{{"format", "pt"}, {"note", "é"}}));
  EXPECT_EQ(dir.names(), std::vector<std::string>{"w.safetensors"});  // no temp left behind
  EXPECT_EQ(fw::read_file_bytes(path), fw::encode_safetensors(in, meta));
}

TEST(Safetensors, WriterLayoutMatchesReference) {
  fw::TensorMap m;
  m["b"] = fw::Tensor({}, 2.0f);
  m["a"] = fw::Tensor({2}, {0, 1});
  const Bytes file = fw::encode_safetensors(m, {{"format", "pt"}});
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{file[i]} << (8 * i);
  const std::string expect =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}})";
  ASSERT_EQ(n % 8, 0u);
  ASSERT_EQ(n, (expect.size() + 7) / 8 * 8);
  const std::string header(file.begin() + 8, file.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header, expect + std::string(n - expect.size(), ' '));  // padded with spaces
  EXPECT_EQ(file.size(), 8 + n + 12);
  float tail[3];
  std::memcpy(tail, file.data() + 8 + n, 12);
  EXPECT_EQ(tail[0], 0);
  EXPECT_EQ(tail[1], 1);
  EXPECT_EQ(tail[2], 2);
}

TEST(Safetensors, ReadsF16Exactly) {
  const std::vector<uint16_t> h = {0x3C00, 0xC000, 0x3555, 0x7BFF, 0x0001, 0x03FF,
                                   0x0400, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE01};
  const std::string header = R"({"x":{"dtype":"F16","shape":[3,4],"data_offsets":[0,24]}})";
  const fw::Tensor t = parse(make_file(header, raw(h))).at("x");
  ASSERT_EQ(t.shape, (fw::Shape{3, 4}));
  EXPECT_EQ(t.data[0], 1.0f);
  EXPECT_EQ(t.data[1], -2.0f);
  EXPECT_EQ(t.data[2], 0.333251953125f);
  EXPECT_EQ(t.data[3], 65504.0f);                  // largest finite half
  EXPECT_EQ(t.data[4], std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(t.data[5], std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(t.data[6], std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(t.data[7], 0.0f);
  EXPECT_TRUE(std::signbit(t.data[7]));  // -0 keeps its sign
  EXPECT_EQ(t.data[8], std::numeric_limits<float>::infinity());
  EXPECT_EQ(t.data[9], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(t.data[10]));
  EXPECT_TRUE(std::isnan(t.data[11]));
  EXPECT_TRUE(std::signbit(t.data[11]));
}

TEST(Safetensors, ReadsBF16Exactly) {
  const std::vector<uint16_t> h = {0x3F80, 0xC0A0, 0x4049, 0x0001, 0x7F80, 0x7FC0};
  const std::string header = R"({"x":{"dtype":"BF16","shape":[6],"data_offsets":[0,12]}})";
  const fw::Tensor t = parse(make_file(header, raw(h))).at("x");
  EXPECT_EQ(t.data[0], 1.0f);
  EXPECT_EQ(t.data[1], -5.0f);
  EXPECT_EQ(t.data[2], 3.140625f);
  EXPECT_EQ(t.data[3], std::ldexp(1.0f, -133));  // a float32 subnormal
  EXPECT_EQ(t.data[4], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(t.data[5]));
}

TEST(Safetensors, ReadsF64Rounded) {
  const std::vector<double> d = {0.1, -1e300, 3.0};
  const std::string header = R"({"x":{"dtype":"F64","shape":[3],"data_offsets":[0,24]}})";
  const fw::Tensor t = parse(make_file(header, raw(d))).at("x");
  EXPECT_EQ(t.data[0], 0.1f);
  EXPECT_EQ(t.data[1], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(t.data[2], 3.0f);
}

TEST(Safetensors, AcceptsGapsAndAnyOffsetOrder) {
  const std::vector<float> f = {9, 1, 2, 8, 3};
  const std::string header = R"({"late":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},)"
                             R"("early":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  const fw::TensorMap m = parse(make_file(header, raw(f)));
  EXPECT_EQ(m.at("early").data, (std::vector<float>{1, 2}));
  EXPECT_EQ(m.at("late").data, (std::vector<float>{3}));
}

// ---- Malformed input ----------------------------------------------------------------------------

TEST(Safetensors, RejectsFileShorterThan8Bytes) {
  EXPECT_ERROR_HAS(parse(Bytes{1, 2, 3}), "w.safetensors: file is too short");
}

TEST(Safetensors, RejectsHeaderLengthBeyondFile) {
  Bytes b = make_file("{}");
  b[0] = 200;
  EXPECT_ERROR_HAS(parse(b), "header length 200 goes beyond the end of the file (10 bytes)");
}

TEST(Safetensors, RejectsInvalidJson) {
  EXPECT_ERROR_HAS(parse(make_file(R"({"x": )")), "w.safetensors: header is not valid JSON");
}

TEST(Safetensors, RejectsNonObjectHeader) {
  EXPECT_ERROR_HAS(parse(make_file("[1, 2]")), "w.safetensors: header is not a JSON object");
}

TEST(Safetensors, RejectsUnknownDtypeByName) {
  const std::string h = R"({"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(8))),
                   "w.safetensors: tensor 'ids': dtype 'I64' is not supported");
}

TEST(Safetensors, RejectsShapeSizeMismatch) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(24))),
                   "tensor 'w': shape 2x3 F32 needs 24 bytes but data offsets [0, 20) span 20");
}

// A header claiming a huge tensor is refused with what it would need, before anything is
// allocated (the file is a few bytes); a shape whose product wraps int64 says so.
TEST(Safetensors, RejectsHugeShapeWithTheSizeItWouldNeed) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]}})";
  const std::string msg = fw::test::error_of([&] { parse(make_file(h, Bytes(4))); });
  EXPECT_EQ(msg.rfind("w.safetensors: tensor 'w' has shape [1099511627776] (1.10 T elements), "
                      "which would need 4.40 TB (",
                      0),
            0u)
      << msg;
  const std::string wraps =
      R"({"w":{"dtype":"F16","shape":[1099511627776,1099511627776,1048576],"data_offsets":[0,4]}})";
  EXPECT_ERROR_HAS(parse(make_file(wraps, Bytes(4))),
                   "(1.27e+30 elements, more than int64 counts), which would need 5.07e+30 B (");
}

// A header length of 2^60 is refused from the file's size, not by reading that much.
TEST(Safetensors, RejectsHugeHeaderLengthFromTheFileSize) {
  Bytes b = make_file("{}");
  b[0] = 0;
  b[7] = 0x10;  // 2^60
  EXPECT_ERROR_HAS(parse(b), "header length 1152921504606846976 goes beyond the end of the file");
}

TEST(Safetensors, RejectsOffsetsOutOfBounds) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(16))),
                   "tensor 'w': data offsets [8, 24) are out of bounds (the data section has 16");
}

TEST(Safetensors, RejectsReversedOffsets) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(16))), "tensor 'w': data offsets [8, 4) are reversed");
}

TEST(Safetensors, RejectsOverlappingTensors) {
  const std::string h = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("head.fc.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(12))),
                   "w.safetensors: tensor 'head.fc.weight': data offsets [4, 12) overlap "
                   "tensor 'x' [0, 8)");
}

TEST(Safetensors, RejectsTensorInsideAnother) {
  const std::string h = R"({"big":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(16))), "overlap tensor 'big' [0, 16)");
}

TEST(Safetensors, RejectsDuplicateNames) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                        R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(8))),
                   "w.safetensors: duplicate tensor name 'w' in the header");
}

TEST(Safetensors, RejectsDuplicateKeyInEntry) {
  const std::string h = R"({"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(4))), "tensor 'w': duplicate key 'dtype'");
}

TEST(Safetensors, RejectsNegativeDims) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(16))),
                   "tensor 'w': shape [-1,4] has a negative dimension -1");
}

TEST(Safetensors, RejectsNonIntegerDims) {
  const std::string h = R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})";
  EXPECT_ERROR_HAS(parse(make_file(h, Bytes(8))), "has a non-integer dimension 2.5");
}

TEST(Safetensors, RejectsMissingFields) {
  EXPECT_ERROR_HAS(parse(make_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", Bytes(4))),
                   "tensor 'w': missing 'dtype'");
  EXPECT_ERROR_HAS(parse(make_file(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", Bytes(4))),
                   "tensor 'w': missing 'shape'");
  EXPECT_ERROR_HAS(parse(make_file(R"({"w":{"dtype":"F32","shape":[1]}})", Bytes(4))),
                   "tensor 'w': missing 'data_offsets'");
  EXPECT_ERROR_HAS(
      parse(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", Bytes(4))),
      "'data_offsets' [0] is not [begin, end]");
}

TEST(Safetensors, RejectsBadMetadata) {
  EXPECT_ERROR_HAS(parse(make_file(R"({"__metadata__":{"epoch":3}})")),
                   "__metadata__ value of 'epoch' is not a string");
  EXPECT_ERROR_HAS(parse(make_file(R"({"__metadata__":[]})")), "__metadata__ is not an object");
}

TEST(Safetensors, RejectsMissingFile) {
  ScratchDir dir;
  EXPECT_ERROR_HAS(fw::read_safetensors(dir.file("none.safetensors")),
                   "none.safetensors: cannot open (No such file or directory)");
}

TEST(Safetensors, WriteRefusesInconsistentTensor) {
  ScratchDir dir;
  fw::TensorMap m;
  fw::Tensor bad({2, 3});
  bad.data.pop_back();
  m["w"] = bad;
  EXPECT_ERROR_HAS(fw::write_safetensors(dir.file("w.safetensors"), m),
                   "tensor 'w': shape 2x3 needs 6 values but the tensor has 5");
  m.clear();
  m["__metadata__"] = fw::Tensor({1});
  EXPECT_ERROR_HAS(fw::write_safetensors(dir.file("w.safetensors"), m), "reserved");
  EXPECT_TRUE(dir.names().empty());
}

// ---- Atomic writes ------------------------------------------------------------------------------

fw::TensorMap big_tensors() {
  fw::TensorMap m;
  for (int i = 0; i < 8; ++i) m["layer" + std::to_string(i)] = fw::Tensor({256, 128}, float(i));
  return m;  // 1 MiB
}

TEST(Safetensors, FullDiskKeepsOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("w.safetensors");
  fw::write_safetensors(path, sample_tensors());
  const Bytes before = fw::read_file_bytes(path);
  const int outcome =
      fw::test::save_with_full_disk(64 * 1024, [&] { fw::write_safetensors(path, big_tensors()); });
  EXPECT_EQ(outcome, fw::test::kThrewWithErrno);  // fw::Error with "File too large"
  EXPECT_EQ(fw::read_file_bytes(path), before);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"w.safetensors"});  // temp file removed
}

TEST(Safetensors, CrashBeforeRenameKeepsOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("w.safetensors");
  fw::write_safetensors(path, sample_tensors());
  const Bytes before = fw::read_file_bytes(path);
  const int code = fw::test::run_in_child([&] {
    fw::testing::set_atomic_write_hook([](const std::string&) { _exit(42); });
    fw::write_safetensors(path, big_tensors());
    return 0;
  });
  ASSERT_EQ(code, 42);
  EXPECT_EQ(fw::read_file_bytes(path), before);
  EXPECT_EQ(dir.names().size(), 2u);  // the dead writer's temp file is left behind...
  fw::write_safetensors(path, big_tensors());
  EXPECT_EQ(dir.names(), std::vector<std::string>{"w.safetensors"});  // ...until the next write
  EXPECT_EQ(fw::read_safetensors(path).size(), 8u);
}

}  // namespace
