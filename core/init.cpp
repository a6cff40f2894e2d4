#include "core/init.h"

#include <cmath>

namespace fw {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do u1 = uniform();
  while (u1 <= 0.0);
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * M_PI * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * M_PI * u2);
}

uint64_t hash_name(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Tensor init_param(const ParamInfo& p, uint64_t seed) {
  Tensor t(p.shape);
  Rng rng(seed ^ hash_name(p.name));
  switch (p.init) {
    case InitKind::Zeros: break;
    case InitKind::Ones:
      for (float& v : t.data) v = 1.0f;
      break;
    case InitKind::Constant:
      for (float& v : t.data) v = float(p.value);
      break;
    case InitKind::Normal:
      for (float& v : t.data) v = float(p.value * rng.normal());
      break;
    case InitKind::TruncNormal:
      // timm's trunc_normal_(std=s, a=-2, b=2): the cut is absolute, at +-2.
      for (float& v : t.data) {
        double x;
        do x = p.value * rng.normal();
        while (x < -2.0 || x > 2.0);
        v = float(x);
      }
      break;
    case InitKind::RandomSoftmax: {
      const int64_t cols = p.shape.empty() ? 1 : p.shape.back();
      for (int64_t r = 0; r < t.size() / cols; ++r) {
        float* row = t.ptr() + r * cols;
        double sum = 0;
        std::vector<double> e(cols);
        for (int64_t c = 0; c < cols; ++c) sum += e[c] = std::exp(rng.uniform());
        for (int64_t c = 0; c < cols; ++c) row[c] = float(e[c] / sum);
      }
      break;
    }
  }
  return t;
}

TensorMap init_weights(const Analysis& a, uint64_t seed) {
  TensorMap out;
  for (const ParamInfo& p : a.params) out.emplace(p.name, init_param(p, seed));
  return out;
}

}  // namespace fw
