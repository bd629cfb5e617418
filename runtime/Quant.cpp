//===- Quant.cpp - GGUF block formats ----------------------------*- C++ -*-===//
//
// Block layouts (bytes from the block's start):
//   q8_0  (32, 34):  d f16 | qs int8[32]
//   q4_0  (32, 18):  d f16 | qs[16]: element j low nibble, j+16 high; q-8
//   q4_1  (32, 20):  d f16 | m f16 | qs[16] as q4_0; q·d + m
//   q5_0  (32, 22):  d f16 | qh u32 (bit i: element i's fifth bit) | qs[16]
//   q5_1  (32, 24):  d f16 | m f16 | qh u32 | qs[16]
//   q2_K (256, 84):  scales[16] (low nibble scale, high min) | qs[64] | d | dmin
//   q3_K (256, 110): hmask[32] | qs[64] | scales[12] (16 × 6 bits) | d
//   q4_K (256, 144): d | dmin | scales[12] (8 × 6-bit scale and min) | qs[128]
//   q5_K (256, 176): d | dmin | scales[12] | qh[32] | qs[128]
//   q6_K (256, 210): ql[128] | qh[64] | scales int8[16] | d
// Within a K-quant block, element i's sub-block scale is scales[i / 16] (q2,
// q3, q6) or the pair i / 32 (q4, q5); where its bits lie is spelled out in
// each function below.
//
//===----------------------------------------------------------------------===//

#include "runtime/Quant.h"
#include "runtime/Half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace tfm::rt;

namespace {

float halfAt(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16ToFloat(h);
}
void setHalf(uint8_t *p, float v) {
  uint16_t h = floatToF16(v);
  std::memcpy(p, &h, 2);
}
uint32_t u32At(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

/// The 6-bit scale and min of sub-block j of a q4_K/q5_K block.
void scaleMinK4(const uint8_t *s, int j, int &scale, int &min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}
void setScaleMinK4(uint8_t *s, int j, int scale, int min) {
  if (j < 4) {
    s[j] = uint8_t((s[j] & 0xC0) | scale);
    s[j + 4] = uint8_t((s[j + 4] & 0xC0) | min);
  } else {
    s[j + 4] = uint8_t((scale & 0xF) | ((min & 0xF) << 4));
    s[j - 4] = uint8_t(s[j - 4] | ((scale >> 4) << 6));
    s[j] = uint8_t(s[j] | ((min >> 4) << 6));
  }
}

/// The 6-bit (biased by 32) scale s of a q3_K block: its low 4 bits are a
/// nibble of scales[s % 8], its high 2 bits a pair of scales[8 + s % 4].
int scaleK3(const uint8_t *s, int j) {
  int low = (s[j % 8] >> (4 * (j / 8))) & 0xF;
  int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}
void setScaleK3(uint8_t *s, int j, int scale) {
  int v = scale + 32;
  s[j % 8] = uint8_t(s[j % 8] | ((v & 0xF) << (4 * (j / 8))));
  s[8 + j % 4] = uint8_t(s[8 + j % 4] | ((v >> 4) << (2 * (j / 4))));
}

void dequantizeBlock(DType t, const uint8_t *b, float *y) {
  switch (t) {
  case DType::Q8_0: {
    float d = halfAt(b);
    for (int i = 0; i < 32; ++i)
      y[i] = float(int8_t(b[2 + i])) * d;
    return;
  }
  case DType::Q4_0:
  case DType::Q4_1: {
    bool hasMin = t == DType::Q4_1;
    float d = halfAt(b), m = hasMin ? halfAt(b + 2) : 0.0f;
    const uint8_t *qs = b + (hasMin ? 4 : 2);
    for (int i = 0; i < 32; ++i) {
      int q = (qs[i % 16] >> (4 * (i / 16))) & 0xF;
      y[i] = hasMin ? float(q) * d + m : float(q - 8) * d;
    }
    return;
  }
  case DType::Q5_0:
  case DType::Q5_1: {
    bool hasMin = t == DType::Q5_1;
    float d = halfAt(b), m = hasMin ? halfAt(b + 2) : 0.0f;
    uint32_t qh = u32At(b + (hasMin ? 4 : 2));
    const uint8_t *qs = b + (hasMin ? 8 : 6);
    for (int i = 0; i < 32; ++i) {
      int q = ((qs[i % 16] >> (4 * (i / 16))) & 0xF) | (((qh >> i) & 1) << 4);
      y[i] = hasMin ? float(q) * d + m : float(q - 16) * d;
    }
    return;
  }
  case DType::Q2_K: {
    const uint8_t *scales = b, *qs = b + 16;
    float d = halfAt(b + 80), dmin = halfAt(b + 82);
    for (int i = 0; i < 256; ++i) {
      int sc = scales[i / 16];
      int q = (qs[(i / 128) * 32 + i % 32] >> (2 * ((i % 128) / 32))) & 3;
      y[i] = d * float(sc & 0xF) * float(q) - dmin * float(sc >> 4);
    }
    return;
  }
  case DType::Q3_K: {
    const uint8_t *hmask = b, *qs = b + 32, *scales = b + 96;
    float d = halfAt(b + 108);
    for (int i = 0; i < 256; ++i) {
      int group = (i % 128) / 32, l = i % 32;
      int low = (qs[(i / 128) * 32 + l] >> (2 * group)) & 3;
      bool high = (hmask[l] >> ((i / 128) * 4 + group)) & 1;
      y[i] = d * float(scaleK3(scales, i / 16)) * float(low - (high ? 0 : 4));
    }
    return;
  }
  case DType::Q4_K:
  case DType::Q5_K: {
    bool five = t == DType::Q5_K;
    float d = halfAt(b), dmin = halfAt(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
    for (int i = 0; i < 256; ++i) {
      int sub = i / 32, sc, m;
      scaleMinK4(scales, sub, sc, m);
      int q = (qs[(i / 64) * 32 + i % 32] >> (4 * (sub % 2))) & 0xF;
      if (five)
        q |= ((qh[i % 32] >> sub) & 1) << 4;
      y[i] = d * float(sc) * float(q) - dmin * float(m);
    }
    return;
  }
  case DType::Q6_K: {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *scales = reinterpret_cast<const int8_t *>(b + 192);
    float d = halfAt(b + 208);
    for (int i = 0; i < 256; ++i) {
      int half = i / 128, group = (i % 128) / 32, l = i % 32;
      int low = (ql[half * 64 + (group % 2) * 32 + l] >> (4 * (group / 2))) &
                0xF;
      int high = (qh[half * 32 + l] >> (2 * group)) & 3;
      y[i] = d * float(scales[i / 16]) * float((low | (high << 4)) - 32);
    }
    return;
  }
  default:
    return;
  }
}

/// The value of largest magnitude among x[0..n), with its sign.
float signedMax(const float *x, int n) {
  float best = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(best))
      best = x[i];
  return best;
}

/// The scales of the 16 sub-blocks of 16 of a q3_K or q6_K block: each
/// sub-block's signed largest value over `levels` (the most negative
/// integer). Returns the scale of largest magnitude, with its sign.
float signedScales(const float *x, float levels, float (&scale)[16]) {
  float largest = 0;
  for (int s = 0; s < 16; ++s) {
    scale[s] = signedMax(x + 16 * s, 16) / levels;
    if (std::fabs(scale[s]) > std::fabs(largest))
      largest = scale[s];
  }
  return largest;
}

int nearest(float v, int lo, int hi) {
  return std::clamp(int(std::lround(v)), lo, hi);
}

/// Sub-block ranges for the formats with a scale and a min per sub-block
/// (q2_K, q4_K, q5_K): x ≈ scale·q − min with q in [0, levels].
void scaleAndMin(const float *x, int n, int levels, float &scale,
                 float &min) {
  float lo = std::min(0.0f, *std::min_element(x, x + n));
  float hi = *std::max_element(x, x + n);
  scale = (hi - lo) / float(levels);
  min = -lo;
}

void quantizeBlock(DType t, const float *x, uint8_t *b) {
  switch (t) {
  case DType::Q8_0: {
    float amax = std::fabs(signedMax(x, 32)), d = amax / 127.0f;
    setHalf(b, d);
    for (int i = 0; i < 32; ++i)
      b[2 + i] = uint8_t(int8_t(d != 0 ? nearest(x[i] / d, -127, 127) : 0));
    return;
  }
  case DType::Q4_0:
  case DType::Q5_0: {
    bool five = t == DType::Q5_0;
    int half = five ? 16 : 8;
    float d = signedMax(x, 32) / float(-half);
    setHalf(b, d);
    uint8_t *qs = b + (five ? 6 : 2);
    uint32_t qh = 0;
    std::memset(qs, 0, 16);
    for (int i = 0; i < 32; ++i) {
      int q = d != 0 ? nearest(x[i] / d + float(half), 0, 2 * half - 1) : half;
      qs[i % 16] = uint8_t(qs[i % 16] | ((q & 0xF) << (4 * (i / 16))));
      qh |= uint32_t((q >> 4) & 1) << i;
    }
    if (five)
      std::memcpy(b + 2, &qh, 4);
    return;
  }
  case DType::Q4_1:
  case DType::Q5_1: {
    bool five = t == DType::Q5_1;
    int levels = five ? 31 : 15;
    float lo = *std::min_element(x, x + 32), hi = *std::max_element(x, x + 32);
    float d = (hi - lo) / float(levels);
    setHalf(b, d);
    setHalf(b + 2, lo);
    uint8_t *qs = b + (five ? 8 : 4);
    uint32_t qh = 0;
    std::memset(qs, 0, 16);
    for (int i = 0; i < 32; ++i) {
      int q = d != 0 ? nearest((x[i] - lo) / d, 0, levels) : 0;
      qs[i % 16] = uint8_t(qs[i % 16] | ((q & 0xF) << (4 * (i / 16))));
      qh |= uint32_t((q >> 4) & 1) << i;
    }
    if (five)
      std::memcpy(b + 4, &qh, 4);
    return;
  }
  case DType::Q2_K: {
    float scale[16], min[16], maxScale = 0, maxMin = 0;
    for (int s = 0; s < 16; ++s) {
      scaleAndMin(x + 16 * s, 16, 3, scale[s], min[s]);
      maxScale = std::max(maxScale, scale[s]);
      maxMin = std::max(maxMin, min[s]);
    }
    float d = maxScale / 15, dmin = maxMin / 15;
    setHalf(b + 80, d);
    setHalf(b + 82, dmin);
    d = halfAt(b + 80);
    dmin = halfAt(b + 82);
    std::memset(b + 16, 0, 64);
    for (int s = 0; s < 16; ++s) {
      int sc = d != 0 ? nearest(scale[s] / d, 0, 15) : 0;
      int m = dmin != 0 ? nearest(min[s] / dmin, 0, 15) : 0;
      b[s] = uint8_t(sc | (m << 4));
      float step = d * float(sc), offset = dmin * float(m);
      for (int k = 0; k < 16; ++k) {
        int i = 16 * s + k;
        int q = step != 0 ? nearest((x[i] + offset) / step, 0, 3) : 0;
        b[16 + (i / 128) * 32 + i % 32] |=
            uint8_t(q << (2 * ((i % 128) / 32)));
      }
    }
    return;
  }
  case DType::Q3_K: {
    float scale[16];
    float d = signedScales(x, -4.0f, scale) / -32.0f;
    setHalf(b + 108, d);
    d = halfAt(b + 108);
    std::memset(b, 0, 108);
    for (int s = 0; s < 16; ++s) {
      int sc = d != 0 ? nearest(scale[s] / d, -32, 31) : 0;
      setScaleK3(b + 96, s, sc);
      float step = d * float(sc);
      for (int k = 0; k < 16; ++k) {
        int i = 16 * s + k, group = (i % 128) / 32, l = i % 32;
        int v = (step != 0 ? nearest(x[i] / step, -4, 3) : 0) + 4;
        b[32 + (i / 128) * 32 + l] |= uint8_t((v & 3) << (2 * group));
        b[l] |= uint8_t((v >> 2) << ((i / 128) * 4 + group));
      }
    }
    return;
  }
  case DType::Q4_K:
  case DType::Q5_K: {
    bool five = t == DType::Q5_K;
    int levels = five ? 31 : 15;
    float scale[8], min[8], maxScale = 0, maxMin = 0;
    for (int s = 0; s < 8; ++s) {
      scaleAndMin(x + 32 * s, 32, levels, scale[s], min[s]);
      maxScale = std::max(maxScale, scale[s]);
      maxMin = std::max(maxMin, min[s]);
    }
    setHalf(b, maxScale / 63);
    setHalf(b + 2, maxMin / 63);
    float d = halfAt(b), dmin = halfAt(b + 2);
    std::memset(b + 4, 0, size_t(blockBytes(t) - 4));
    uint8_t *qh = b + 16, *qs = b + (five ? 48 : 16);
    for (int s = 0; s < 8; ++s) {
      int sc = d != 0 ? nearest(scale[s] / d, 0, 63) : 0;
      int m = dmin != 0 ? nearest(min[s] / dmin, 0, 63) : 0;
      setScaleMinK4(b + 4, s, sc, m);
      float step = d * float(sc), offset = dmin * float(m);
      for (int k = 0; k < 32; ++k) {
        int i = 32 * s + k;
        int q = step != 0 ? nearest((x[i] + offset) / step, 0, levels) : 0;
        qs[(i / 64) * 32 + k] |= uint8_t((q & 0xF) << (4 * (s % 2)));
        if (five)
          qh[k] |= uint8_t(((q >> 4) & 1) << s);
      }
    }
    return;
  }
  case DType::Q6_K: {
    float scale[16];
    float d = signedScales(x, -32.0f, scale) / -128.0f;
    setHalf(b + 208, d);
    d = halfAt(b + 208);
    std::memset(b, 0, 208);
    for (int s = 0; s < 16; ++s) {
      int sc = d != 0 ? nearest(scale[s] / d, -128, 127) : 0;
      b[192 + s] = uint8_t(int8_t(sc));
      float step = d * float(sc);
      for (int k = 0; k < 16; ++k) {
        int i = 16 * s + k;
        int half = i / 128, group = (i % 128) / 32, l = i % 32;
        int v = (step != 0 ? nearest(x[i] / step, -32, 31) : 0) + 32;
        b[half * 64 + (group % 2) * 32 + l] |=
            uint8_t((v & 0xF) << (4 * (group / 2)));
        b[128 + half * 32 + l] |= uint8_t((v >> 4) << (2 * group));
      }
    }
    return;
  }
  default:
    return;
  }
}

} // namespace

int64_t tfm::rt::blockElements(DType storage) {
  switch (storage) {
  case DType::Q8_0:
  case DType::Q4_0:
  case DType::Q4_1:
  case DType::Q5_0:
  case DType::Q5_1:
    return 32;
  case DType::Q2_K:
  case DType::Q3_K:
  case DType::Q4_K:
  case DType::Q5_K:
  case DType::Q6_K:
    return 256;
  default:
    return 1;
  }
}

int64_t tfm::rt::blockBytes(DType storage) {
  switch (storage) {
  case DType::F32: return 4;
  case DType::F16:
  case DType::BF16: return 2;
  case DType::Q8_0: return 34;
  case DType::Q4_0: return 18;
  case DType::Q4_1: return 20;
  case DType::Q5_0: return 22;
  case DType::Q5_1: return 24;
  case DType::Q2_K: return 84;
  case DType::Q3_K: return 110;
  case DType::Q4_K: return 144;
  case DType::Q5_K: return 176;
  case DType::Q6_K: return 210;
  case DType::Unsupported: break;
  }
  return 0;
}

int64_t tfm::rt::storageSize(DType storage, int64_t n) {
  int64_t elements = blockElements(storage), bytes = blockBytes(storage);
  if (n < 0 || bytes == 0 || n % elements != 0 ||
      n / elements > INT64_MAX / bytes)
    return -1;
  return n / elements * bytes;
}

void tfm::rt::dequantize(DType storage, const uint8_t *in, int64_t n,
                         float *out) {
  int64_t elements = blockElements(storage), bytes = blockBytes(storage);
  for (int64_t b = 0; b < n / elements; ++b)
    dequantizeBlock(storage, in + b * bytes, out + b * elements);
}

void tfm::rt::quantize(DType storage, const float *in, int64_t n,
                       uint8_t *out) {
  int64_t elements = blockElements(storage), bytes = blockBytes(storage);
  for (int64_t b = 0; b < n / elements; ++b)
    quantizeBlock(storage, in + b * elements, out + b * bytes);
}

int64_t tfm::rt::actQuantBlock(ActQuant quant) {
  return quant == ActQuant::Q8_K ? 256 : 32;
}

void tfm::rt::roundActivations(ActQuant quant, const float *x, int64_t n,
                               float *out) {
  int64_t block = actQuantBlock(quant);
  for (int64_t b = 0; b + block <= n; b += block) {
    const float *xb = x + b;
    float *yb = out + b;
    if (quant == ActQuant::Q8_0) {
      float amax = 0;
      for (int64_t j = 0; j < block; ++j)
        amax = std::max(amax, std::fabs(xb[j]));
      float d = f16ToFloat(floatToF16(amax / 127.f));
      float id = amax != 0.f ? 127.f / amax : 0.f;
      for (int64_t j = 0; j < block; ++j)
        yb[j] = std::nearbyint(xb[j] * id) * d;
    } else if (quant == ActQuant::Q8_K) {
      float amax = 0, max = 0;
      for (int64_t j = 0; j < block; ++j)
        if (std::fabs(xb[j]) > amax) {
          amax = std::fabs(xb[j]);
          max = xb[j];
        }
      if (amax == 0.f) {
        std::fill(yb, yb + block, 0.f);
        continue;
      }
      float iscale = -127.f / max, d = 1.f / iscale;
      for (int64_t j = 0; j < block; ++j)
        yb[j] = std::min(127.f, std::nearbyint(iscale * xb[j])) * d;
    }
  }
}

void tfm::rt::storeValues(DType storage, const float *in, int64_t n,
                          uint8_t *out) {
  switch (storage) {
  case DType::F32:
    std::memcpy(out, in, size_t(n) * sizeof(float));
    return;
  case DType::F16:
  case DType::BF16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits =
          storage == DType::F16 ? floatToF16(in[i]) : floatToBf16(in[i]);
      std::memcpy(out + 2 * i, &bits, 2);
    }
    return;
  default:
    quantize(storage, in, n, out);
    return;
  }
}

void tfm::rt::loadValues(DType storage, const uint8_t *in, int64_t n,
                         float *out) {
  switch (storage) {
  case DType::F32:
    std::memcpy(out, in, size_t(n) * sizeof(float));
    return;
  case DType::F16:
  case DType::BF16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, in + 2 * i, 2);
      out[i] = storage == DType::F16 ? f16ToFloat(bits) : bf16ToFloat(bits);
    }
    return;
  default:
    dequantize(storage, in, n, out);
    return;
  }
}
