//===- ExternBuffers.h - the micro-kernels' extern stages ----*- C++ -*-===//
//
// Halide calls an extern stage twice: with bounds queries (buffers without
// memory, whose region the stage fills in) and then with the buffers. The
// micro-kernels (QuantDot.h, BfloatGemm.h) answer the first with `request`
// and address rows with `rowOf`; the prefill ones see their call's window
// through GemmWindow.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_EXTERNBUFFERS_H
#define TFM_RUNTIME_EXTERNBUFFERS_H

#include <HalideRuntime.h>

#include <cstdint>
#include <cstring>

namespace tfm::rt {

/// Requests dimension `d` of a bounds query as [min, min + extent); a
/// buffer that is no query is left as it is.
inline void request(halide_buffer_t *b, int d, int32_t min, int32_t extent) {
  if (!b->is_bounds_query())
    return;
  b->dim[d].min = min;
  b->dim[d].extent = extent;
}

/// The address of element (0, y) of a 2-D input whose x is dense.
template <typename T> const T *rowOf(const halide_buffer_t *b, int32_t y) {
  int64_t element =
      -int64_t(b->dim[0].min) + int64_t(y - b->dim[1].min) * b->dim[1].stride;
  return reinterpret_cast<const T *>(b->host + element * b->type.bytes());
}

/// The window a prefill micro-kernel's call computes, out(n, j, s):
/// outputs [nMin, nMin + nExtent) of halves jMin..jMax (weight row n +
/// j·pairStride) for activation rows [sMin, sMin + sExtent).
struct GemmWindow {
  int32_t nMin, nExtent, jMin, jMax, sMin, sExtent;
  explicit GemmWindow(const halide_buffer_t *out)
      : nMin(out->dim[0].min), nExtent(out->dim[0].extent),
        jMin(out->dim[1].min), jMax(out->dim[1].min + out->dim[1].extent - 1),
        sMin(out->dim[2].min), sExtent(out->dim[2].extent) {}

  /// Answers a bounds query: the weight rows the window reads (`row`
  /// elements each) and its activation rows (`k` each).
  void request(halide_buffer_t *weight, int32_t row, halide_buffer_t *act,
               int32_t k, int32_t pairStride) const {
    int32_t first = nMin + jMin * pairStride,
            last = nMin + nExtent - 1 + jMax * pairStride;
    tfm::rt::request(weight, 0, 0, row);
    tfm::rt::request(weight, 1, first, last - first + 1);
    tfm::rt::request(act, 0, 0, k);
    tfm::rt::request(act, 1, sMin, sExtent);
  }

  /// Stores `count` outputs from n0 of half j for activation row s (n0
  /// and s counted from the window's first).
  void store(halide_buffer_t *out, int n0, int32_t j, int32_t s,
             const float *values, int count) const {
    const halide_dimension_t *o = out->dim;
    float *dst = reinterpret_cast<float *>(out->host) +
                 int64_t(n0) * o[0].stride + int64_t(j - jMin) * o[1].stride +
                 int64_t(s) * o[2].stride;
    if (o[0].stride == 1)
      std::memcpy(dst, values, size_t(count) * sizeof(float));
    else
      for (int i = 0; i < count; ++i)
        dst[i * o[0].stride] = values[i];
  }
};

} // namespace tfm::rt

#endif // TFM_RUNTIME_EXTERNBUFFERS_H
