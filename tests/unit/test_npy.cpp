#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "store_test_util.h"

namespace {

using fw::test::ScratchDir;
using Bytes = std::vector<uint8_t>;

// A .npy file of the given version from a header dict and raw data, padded as numpy does.
Bytes make_npy(const std::string& dict, const Bytes& data, int major = 1) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  const size_t unpadded = 8 + len_bytes + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < len_bytes; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
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

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

fw::Tensor parse(const Bytes& b) { return fw::parse_npy(b.data(), b.size(), "x.npy"); }
fw::LabelArray parse_labels(const Bytes& b) {
  return fw::parse_npy_labels(b.data(), b.size(), "y.npy");
}

// ---- Round trips --------------------------------------------------------------------------------

TEST(Npy, RoundTripFloat32) {
  ScratchDir dir;
  const std::vector<fw::Tensor> cases = {
      fw::Tensor({2, 3}, {1, -2, 3.5f, 0, 1e-30f, std::numeric_limits<float>::infinity()}),
      fw::Tensor({4}, {1, 2, 3, 4}), fw::Tensor({}, 7.0f), fw::Tensor({0, 3}),
      fw::Tensor({1, 2, 1, 2}, {5, 6, 7, 8})};
  for (const fw::Tensor& t : cases) {
    const std::string path = dir.file("x.npy");
    fw::write_npy(path, t);
    const fw::Tensor back = fw::read_npy(path);
    EXPECT_EQ(back.shape, t.shape);
    EXPECT_EQ(back.data, t.data);
    EXPECT_EQ(fw::read_file_bytes(path), fw::encode_npy(t));
  }
  EXPECT_EQ(dir.names(), std::vector<std::string>{"x.npy"});
}

TEST(Npy, HeaderMatchesNumpySave) {
  // np.save of np.zeros((2, 3), np.float32): v1.0, header length 118, data at byte 128.
  const Bytes b = fw::encode_npy(fw::Tensor({2, 3}));
  const std::string dict_text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  const std::string expect = std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict_text +
                             std::string(118 - dict_text.size() - 1, ' ') + "\n";
  ASSERT_EQ(b.size(), 128u + 24u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 128), expect);
  // 1-D shapes are written as a one-element tuple "(5,)", scalars as "()".
  const Bytes v = fw::encode_npy_labels({{5}, {0, 1, 2, 3, 4}});
  EXPECT_NE(std::string(v.begin(), v.end())
                .find("'descr': '<i8', 'fortran_order': False, 'shape': (5,), }"),
            std::string::npos);
  const Bytes s = fw::encode_npy(fw::Tensor({}, 1.0f));
  EXPECT_NE(std::string(s.begin(), s.end()).find("'shape': (), }"), std::string::npos);
}

TEST(Npy, RoundTripLabels) {
  ScratchDir dir;
  const fw::LabelArray labels{{5}, {0, 9, -1, int64_t{1} << 40, 3}};
  fw::write_npy_labels(dir.file("y.npy"), labels);
  const fw::LabelArray back = fw::read_npy_labels(dir.file("y.npy"));
  EXPECT_EQ(back.shape, labels.shape);
  EXPECT_EQ(back.data, labels.data);
}

TEST(Npy, HugeHeaderUsesVersion2) {
  const fw::Tensor t(fw::Shape(22000, 1), 3.0f);  // rank 22000: the shape tuple needs > 64 KiB
  const Bytes b = fw::encode_npy(t);
  EXPECT_EQ(b[6], 2);
  const fw::Tensor back = parse(b);
  EXPECT_EQ(back.shape, t.shape);
  EXPECT_EQ(back.data, t.data);
}

TEST(Npy, ReadsVersions2And3) {
  for (int major : {2, 3}) {
    const fw::Tensor t = parse(make_npy(dict("<f4", "(2,)"), raw<float>({1.5f, -2}), major));
    EXPECT_EQ(t.data, (std::vector<float>{1.5f, -2})) << "version " << major;
  }
}

TEST(Npy, ConvertsOtherDtypesToFloat32) {
  EXPECT_EQ(parse(make_npy(dict("<f8", "(2,)"), raw<double>({0.1, -3}))).data,
            (std::vector<float>{0.1f, -3}));
  EXPECT_EQ(parse(make_npy(dict("<i4", "(3,)"), raw<int32_t>({-7, 0, 1 << 24}))).data,
            (std::vector<float>{-7, 0, 16777216.0f}));
  EXPECT_EQ(parse(make_npy(dict("<i8", "(1,)"), raw<int64_t>({-5}))).data,
            (std::vector<float>{-5}));
  EXPECT_EQ(parse(make_npy(dict("|u1", "(2,)"), Bytes{0, 255})).data, (std::vector<float>{0, 255}));
  EXPECT_EQ(parse(make_npy(dict("<f2", "(2,)"), raw<uint16_t>({0x3C00, 0x0001}))).data,
            (std::vector<float>{1.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(parse(make_npy(dict(">f4", "(1,)"), Bytes{0x3F, 0x80, 0, 0})).data,
            (std::vector<float>{1.0f}));  // big-endian
  EXPECT_EQ(parse(make_npy(dict("|b1", "(2,)"), Bytes{1, 0})).data, (std::vector<float>{1, 0}));
}

TEST(Npy, ReadsLabelsFromOtherIntegerTypes) {
  EXPECT_EQ(parse_labels(make_npy(dict("<i4", "(3,)"), raw<int32_t>({-1, 0, 7}))).data,
            (std::vector<int64_t>{-1, 0, 7}));
  EXPECT_EQ(parse_labels(make_npy(dict("|u1", "(2, 1)"), Bytes{3, 200})).data,
            (std::vector<int64_t>{3, 200}));
  EXPECT_EQ(parse_labels(make_npy(dict(">i8", "(1,)"), Bytes{0, 0, 0, 0, 0, 0, 1, 0})).data,
            (std::vector<int64_t>{256}));
  // Python 2 writers used longs: (3L,)
  EXPECT_EQ(parse_labels(make_npy(dict("<i8", "(1L,)"), raw<int64_t>({9}))).shape, (fw::Shape{1}));
}

// ---- Errors -------------------------------------------------------------------------------------

TEST(Npy, RejectsBadMagic) {
  EXPECT_ERROR_HAS(parse(Bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}),
                   "x.npy: not a .npy file (bad magic)");
  EXPECT_ERROR_HAS(parse(Bytes{}), "not a .npy file");
}

TEST(Npy, RejectsUnsupportedVersion) {
  Bytes b = make_npy(dict("<f4", "(1,)"), raw<float>({1}));
  b[6] = 4;
  EXPECT_ERROR_HAS(parse(b), "unsupported .npy format version 4.0");
}

TEST(Npy, RejectsTruncatedHeader) {
  Bytes b = make_npy(dict("<f4", "(1,)"), {});
  b.resize(40);
  EXPECT_ERROR_HAS(parse(b), "x.npy: truncated .npy header");
}

TEST(Npy, RejectsTruncatedData) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f4", "(2, 3)"), Bytes(12))),
                   "x.npy: truncated data (shape 2x3 '<f4' needs 24 bytes, the file has 12)");
}

// A header claiming a huge array is refused with what it would need before anything is allocated.
TEST(Npy, RejectsHugeShapeWithTheSizeItWouldNeed) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f4", "(1048576, 3, 1024, 1024)"), Bytes(16))),
                   "x.npy has shape [1048576, 3, 1024, 1024] (3.30 T elements), which would need "
                   "13.2 TB (");
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f8", "(1099511627776, 1099511627776, 3)"), Bytes(16))),
                   "(3.63e+24 elements, more than int64 counts), which would need 2.90e+25 B (");
}

TEST(Npy, RejectsTrailingBytes) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f4", "(2,)"), Bytes(12))),
                   "x.npy: 4 unexpected bytes after the data");
}

TEST(Npy, RejectsFortranOrder) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f4", "(2, 2)", true), Bytes(16))),
                   "x.npy: fortran_order arrays are not supported");
}

TEST(Npy, RejectsUnsupportedDtypes) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<c8", "(1,)"), Bytes(8))),
                   "x.npy: dtype '<c8' is not supported");
  EXPECT_ERROR_HAS(parse(make_npy(dict("<U4", "(1,)"), Bytes(16))), "dtype '<U4' is not supported");
  EXPECT_ERROR_HAS(
      parse(
          make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", Bytes(4))),
      "structured dtypes are not supported");
  EXPECT_ERROR_HAS(parse_labels(make_npy(dict("<f4", "(1,)"), Bytes(4))),
                   "y.npy: labels must be integers (int64 '<i8'), got dtype '<f4'");
}

TEST(Npy, RejectsIntegersNotExactInFloat32) {
  EXPECT_ERROR_HAS(parse(make_npy(dict("<i8", "(2,)"), raw<int64_t>({1, (1 << 24) + 1}))),
                   "x.npy: element 1 = 16777217 is not exactly representable as float32");
  EXPECT_ERROR_HAS(parse_labels(make_npy(dict("<u8", "(1,)"), raw<uint64_t>({~uint64_t{0}}))),
                   "does not fit in int64");
}

TEST(Npy, RejectsMalformedHeaderDict) {
  EXPECT_ERROR_HAS(parse(make_npy("{'descr': '<f4', 'shape': (1,), }", Bytes(4))),
                   "header lacks 'fortran_order'");
  EXPECT_ERROR_HAS(parse(make_npy(dict("<f4", "(-1,)"), {})), "negative dimension");
  EXPECT_ERROR_HAS(parse(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
                                  "'extra': 1}",
                                  Bytes(4))),
                   "unexpected key 'extra'");
  EXPECT_ERROR_HAS(parse(make_npy("{'descr': '<f4' 'shape'", {})), "malformed header dict");
}

TEST(Npy, RejectsMissingFile) {
  ScratchDir dir;
  EXPECT_ERROR_HAS(fw::read_npy(dir.file("in.npy")),
                   "in.npy: cannot open (No such file or directory)");
}

TEST(Npy, FullDiskKeepsOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("x.npy");
  fw::write_npy(path, fw::Tensor({3}, 1.0f));
  const Bytes before = fw::read_file_bytes(path);
  const int outcome = fw::test::save_with_full_disk(64 * 1024, [&] {
    fw::write_npy(path, fw::Tensor({512, 512}, 2.0f));
  });
  EXPECT_EQ(outcome, fw::test::kThrewWithErrno);
  EXPECT_EQ(fw::read_file_bytes(path), before);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"x.npy"});
}

}  // namespace
