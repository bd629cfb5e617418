//===- ExternBuffers.h - the micro-kernels' extern stages ----*- C++ -*-===//
//
// Halide calls an extern stage twice: with bounds queries (buffers without
// memory, whose region the stage fills in) and then with the buffers. The
// micro-kernels (QuantDot.h, BfloatGemm.h) answer the first with `request`
// and address rows with `rowOf`.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_EXTERNBUFFERS_H
#define TFM_RUNTIME_EXTERNBUFFERS_H

#include <HalideRuntime.h>

#include <cstdint>

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

} // namespace tfm::rt

#endif // TFM_RUNTIME_EXTERNBUFFERS_H
