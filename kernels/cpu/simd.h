// Portable 16-float vectors (GCC/Clang vector extensions) for the hand-written inner loops, and
// per-thread scratch buffers. With -march=native on an AVX-512 machine a V16 is one zmm register;
// elsewhere the compiler splits it into narrower registers.
#pragma once
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fw::cpu {

typedef float V16 __attribute__((vector_size(64)));
constexpr int kLanes = 16;

inline V16 load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, V16 v) { std::memcpy(p, &v, sizeof v); }
inline V16 splat16(float x) { return V16{} + x; }
inline float hsum16(V16 v) {
  float s = 0;
  for (int i = 0; i < kLanes; ++i) s += v[i];
  return s;
}
// Lanes S..S+15 of the 32-lane concatenation (a, b): the vector starting S floats after a.
// One valignd on AVX-512 (a shuffle instead of an unaligned load that splits cache lines).
template <int S>
inline V16 shift_lanes(V16 a, V16 b) {
  static_assert(S >= 0 && S < 16, "shift by 0..15 lanes");
  if constexpr (S == 0) {
    return a;
  } else {
#if defined(__AVX512F__)
    // (the maskz form: GCC 12 warns about the undefined source of the plain intrinsic)
    return (V16)_mm512_maskz_alignr_epi32(0xFFFF, (__m512i)b, (__m512i)a, S);
#else
    return __builtin_shufflevector(a, b, S, S + 1, S + 2, S + 3, S + 4, S + 5, S + 6, S + 7, S + 8,
                                   S + 9, S + 10, S + 11, S + 12, S + 13, S + 14, S + 15);
#endif
  }
}

inline int64_t round_up16(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// A per-thread buffer of at least n floats (contents unspecified), kept between calls so that
// kernels do not allocate (fresh pages fault, which is slow in a VM). `slot` picks one of a few
// independent buffers so one kernel can hold several at once. Valid until the same thread asks
// for the same slot again. Slots 0-2 are for work inside parallel bodies; slots 3 and 4
// (kSharedSlot, kSharedSlot2) are for buffers the calling thread allocates before a parallel_for
// and shares with the workers (partial sums, gathered operands): never use them inside a
// parallel body.
constexpr int kSharedSlot = 3, kSharedSlot2 = 4;
inline float* scratch(int slot, size_t n) {
  thread_local std::vector<float> buffers[5];
  std::vector<float>& b = buffers[slot];
  if (b.size() < n) b.resize(n);
  return b.data();
}

}  // namespace fw::cpu
