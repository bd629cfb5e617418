//===- Npy.h - .npy files of float32 matrices -------------------*- C++ -*-===//

#ifndef TFM_RUNTIME_NPY_H
#define TFM_RUNTIME_NPY_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tfm::rt {

/// Writes a rows x cols little-endian float32 array (NPY format 1.0). The
/// file appears complete or not at all (written aside, then renamed).
Status writeNpy(const std::string &path, const float *data, int64_t rows,
                int64_t cols);

struct NpyMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
};

/// Reads a 2-D '<f4' C-order array written by writeNpy or numpy.
Expected<NpyMatrix> readNpy(const std::string &path);

} // namespace tfm::rt

#endif // TFM_RUNTIME_NPY_H
