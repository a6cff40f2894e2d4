// A tiny self-contained .npy reader/writer for the test tools: float32 (written and read) and
// float64 (read, converted), little-endian, C order. Not the project's npy module (core/npy.h):
// the tools must not depend on it.
#pragma once
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fwtest::npy {

struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

inline Array read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  char magic[8];
  f.read(magic, 8);
  if (!f || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw std::runtime_error(path + ": not a .npy file");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    f.read(reinterpret_cast<char*>(b), 2);
    hlen = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    f.read(reinterpret_cast<char*>(b), 4);
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
  }
  std::string header(hlen, '\0');
  f.read(header.data(), hlen);
  auto field = [&](const std::string& key) {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw std::runtime_error(path + ": header lacks " + key);
    return header.substr(header.find(':', k) + 1);
  };
  const std::string descr = field("descr");
  const bool f4 = descr.find("<f4") != std::string::npos;
  const bool f8 = descr.find("<f8") != std::string::npos;
  if (!f4 && !f8) throw std::runtime_error(path + ": dtype must be <f4 or <f8");
  std::string order = field("fortran_order");
  if (order.substr(0, order.find(',')).find("True") != std::string::npos)
    throw std::runtime_error(path + ": Fortran order is not supported");
  Array a;
  std::string shape = field("shape");
  shape = shape.substr(shape.find('(') + 1, shape.find(')') - shape.find('(') - 1);
  size_t pos = 0;
  while (pos < shape.size()) {
    const size_t comma = shape.find(',', pos);
    const std::string tok = shape.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (tok.find_first_not_of(" ") != std::string::npos) a.shape.push_back(std::stoll(tok));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  int64_t n = 1;
  for (int64_t d : a.shape) n *= d;
  a.data.resize(n);
  if (f4) {
    f.read(reinterpret_cast<char*>(a.data.data()), n * 4);
  } else {
    std::vector<double> tmp(n);
    f.read(reinterpret_cast<char*>(tmp.data()), n * 8);
    for (int64_t i = 0; i < n; ++i) a.data[i] = static_cast<float>(tmp[i]);
  }
  if (!f) throw std::runtime_error(path + ": truncated data");
  return a;
}

inline void write(const std::string& path, const std::vector<int64_t>& shape,
                  const std::vector<float>& data) {
  std::string dims = "(";
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  dims += shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot write");
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t hl = static_cast<uint16_t>(header.size());
  const char hb[2] = {static_cast<char>(hl & 0xff), static_cast<char>(hl >> 8)};
  f.write(hb, 2);
  f.write(header.data(), header.size());
  f.write(reinterpret_cast<const char*>(data.data()), data.size() * 4);
}

}  // namespace fwtest::npy
