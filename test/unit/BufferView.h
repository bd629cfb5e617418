//===- BufferView.h - halide_buffer_t over a test's vectors ----*- C++ -*-===//
//
// The unit tests of the micro-kernels call their extern stages directly,
// as Halide would, on buffers that view the tests' own vectors.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TEST_UNIT_BUFFERVIEW_H
#define TFM_TEST_UNIT_BUFFERVIEW_H

#include <HalideRuntime.h>

#include <utility>
#include <vector>

namespace tfm::test {

/// A halide_buffer_t over `data` with dimensions (min, extent), dense, in
/// order (at most 3).
struct View {
  halide_dimension_t dims[3] = {};
  halide_buffer_t buf = {};
  View(void *data, halide_type_t type, std::vector<std::pair<int, int>> shape) {
    int stride = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
      dims[d] = {shape[d].first, shape[d].second, stride, 0};
      stride *= shape[d].second;
    }
    buf.host = static_cast<uint8_t *>(data);
    buf.type = type;
    buf.dimensions = int(shape.size());
    buf.dim = dims;
  }
};

} // namespace tfm::test

#endif // TFM_TEST_UNIT_BUFFERVIEW_H
