// Exact conversions from 16-bit floats to float32 (for the file readers).
//
//  - f16_to_f32: IEEE 754 binary16 (safetensors F16, NumPy '<f2'). Every value maps exactly:
//    zeros keep their sign, subnormals (down to 2^-24) become normal float32s, infinities stay
//    infinite and NaNs stay NaN with their payload and sign.
//  - bf16_to_f32: bfloat16 (safetensors BF16), the top half of a float32: exact by construction.
#pragma once
#include <bit>
#include <cstdint>

namespace fw {

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {  // inf (mant == 0) or NaN
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {  // signed zero
    bits = sign;
  } else {             // subnormal mant * 2^-24: normalise the mantissa
    uint32_t e = 113;  // exponent of 2^-14, the leading bit's place once shifted to bit 10
    while (!(mant & 0x400u)) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline float bf16_to_f32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

}  // namespace fw
