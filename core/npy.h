// Reading and writing NumPy .npy arrays (format versions 1.0, 2.0 and 3.0).
//
// Format: "\x93NUMPY", major and minor version bytes, the header length (2 bytes little-endian in
// v1, 4 in v2/v3), then a Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } padded with spaces and ended by '\n', then the raw data.
//
// Reading
//  - read_npy / parse_npy: a float32 Tensor. Accepted dtypes: float32 as is; float16 exactly;
//    float64 rounded to nearest (out-of-range -> +-inf); integers (int8..int64, uint8..uint64)
//    and bool when every value is exactly representable as float32 (|v| <= 2^24), else refused
//    with the offending value.
//  - read_npy_labels / parse_npy_labels: an integer array as int64 (labels are '<i8'). Accepted:
//    int8..int64 and uint8..uint64 (uint64 values above INT64_MAX are refused); floats are refused.
//  - Byte order: little ('<'), big ('>'), native ('=', little) and '|' (1-byte types).
//  - C order only: fortran_order True is refused ("...; save it with np.ascontiguousarray").
//  - Refused with a one-line fw::Error naming the file: bad magic, unsupported version, truncated
//    header or data, bytes after the data, malformed header dict (missing or unexpected keys),
//    structured or unsupported dtypes (named), negative dims.
//  - `what` names the source in messages (usually the file name).
//
// Writing
//  - write_npy(path, tensor): '<f4', C order; write_npy_labels(path, labels): '<i8'.
//    Version 1.0 (2.0 when the header needs more than 65535 bytes), header padded so the data
//    starts at a multiple of 64 bytes, exactly as numpy.save writes it. The file is replaced
//    atomically (core/atomic_file.h).
//  - encode_npy / encode_npy_labels: the same bytes in memory.
//  - Refused (fw::Error): data size that does not match the shape, negative dims.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace fw {

// An int64 array in C order; labels are usually shape [N].
struct LabelArray {
  Shape shape;
  std::vector<int64_t> data;  // numel(shape) values
};

Tensor read_npy(const std::string& path);
Tensor parse_npy(const uint8_t* data, size_t size, const std::string& what);
LabelArray read_npy_labels(const std::string& path);
LabelArray parse_npy_labels(const uint8_t* data, size_t size, const std::string& what);

void write_npy(const std::string& path, const Tensor& tensor);
void write_npy_labels(const std::string& path, const LabelArray& labels);
std::vector<uint8_t> encode_npy(const Tensor& tensor);
std::vector<uint8_t> encode_npy_labels(const LabelArray& labels);

}  // namespace fw
