//===- Half.h - 16-bit float conversions ------------------------*- C++ -*-===//
//
// IEEE binary16 and bfloat16 to and from f32, exact in the widening
// direction, round-to-nearest-even in the narrowing one.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_HALF_H
#define TFM_RUNTIME_HALF_H

#include <cstdint>
#include <cstring>

namespace tfm::rt {

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}

inline float bf16ToFloat(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }

inline uint16_t floatToBf16(float f) {
  uint32_t bits = floatToBits(f);
  if ((bits & 0x7fffffff) > 0x7f800000) // NaN stays NaN
    return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) // inf / NaN
    return bitsToFloat(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {
    if (mant == 0)
      return bitsToFloat(sign);
    // Subnormal: value = mant * 2^-24.
    float v = float(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  return bitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t floatToF16(float f) {
  uint32_t bits = floatToBits(f);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t absBits = bits & 0x7fffffff;
  if (absBits > 0x7f800000)
    return sign | 0x7e00; // NaN
  if (absBits >= 0x477ff000) // rounds to >= 65520: overflow to inf
    return sign | 0x7c00;
  if (absBits < 0x38800000) { // below the smallest normal half: subnormal
    float v = bitsToFloat(absBits) * 16777216.0f; // in units of 2^-24
    uint32_t m = uint32_t(v);
    float rest = v - float(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1)))
      ++m;
    return sign | uint16_t(m);
  }
  uint32_t exp = (absBits >> 23) - 112;
  uint32_t mant = absBits & 0x7fffff;
  uint32_t half = (exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return sign | uint16_t(half);
}

} // namespace tfm::rt

#endif // TFM_RUNTIME_HALF_H
