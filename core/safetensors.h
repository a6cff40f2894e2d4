// Reading and writing .safetensors weight files (https://github.com/huggingface/safetensors).
//
// Format: an 8-byte little-endian header length N, N bytes of JSON header, then the data section.
// The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end)} (offsets into
// the data section) and may hold "__metadata__": a string -> string map.
//
// Reading
//  - read_safetensors(path) / parse_safetensors(bytes, size, what) return float32 tensors by name.
//    `what` names the source in messages (usually the file name). If `metadata` is given it gets
//    the "__metadata__" map (empty when absent).
//  - dtypes: F32 as is; F16 and BF16 converted exactly (F16 subnormals, infinities and NaNs
//    included); F64 rounded to the nearest float32 (out-of-range values become +-inf). Any other
//    dtype is refused, by name.
//  - Gaps between tensors and unused bytes at the end of the data section are allowed.
//  - Anything malformed throws fw::Error with one line naming the file, the tensor and the reason:
//    file shorter than 8 bytes, header length beyond the file, header not valid JSON or not an
//    object, duplicate names (also duplicate keys inside an entry), missing/ill-typed fields,
//    unsupported dtype, negative or non-integer dims, shape x dtype size != byte span, offsets
//    reversed or out of bounds, data spans of two tensors overlapping:
//    "w.safetensors: tensor 'head.fc.weight': data offsets [10, 5000) overlap tensor 'x' [0, 20)".
//
// Writing
//  - write_safetensors(path, tensors, metadata): F32 little-endian, tensors in name order and
//  packed
//    back to back, "__metadata__" first when not empty, header padded with spaces to a multiple of
//    8 bytes as the reference implementation does. The file is replaced atomically
//    (core/atomic_file.h): after a crash or a full disk the old file is intact.
//  - encode_safetensors: the same bytes in memory.
//  - Refused (fw::Error): a tensor whose data size does not match its shape, a negative dim, the
//    name "__metadata__", names or metadata that are not valid UTF-8.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace fw {

using SafetensorsMetadata = std::map<std::string, std::string>;

TensorMap read_safetensors(const std::string& path, SafetensorsMetadata* metadata = nullptr);
TensorMap parse_safetensors(const uint8_t* data, size_t size, const std::string& what,
                            SafetensorsMetadata* metadata = nullptr);

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const SafetensorsMetadata& metadata = {});
std::vector<uint8_t> encode_safetensors(const TensorMap& tensors,
                                        const SafetensorsMetadata& metadata = {});

}  // namespace fw
