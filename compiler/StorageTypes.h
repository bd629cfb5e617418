//===- StorageTypes.h - the IR's weight storage, as the runtime names it --===//
//
// The IR names a weight's storage with the dialect's Storage enum; the
// runtime, which links no MLIR, with DType. One mapping, here.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_STORAGETYPES_H
#define TFM_COMPILER_STORAGETYPES_H

#include "dialects/Tfm/TfmDialect.h"
#include "runtime/WeightFile.h"

#include <optional>

namespace tfm {

inline rt::DType runtimeStorage(mlir::tfm::Storage storage) {
  using mlir::tfm::Storage;
  switch (storage) {
  case Storage::f32: return rt::DType::F32;
  case Storage::f16: return rt::DType::F16;
  case Storage::bf16: return rt::DType::BF16;
  case Storage::q8_0: return rt::DType::Q8_0;
  case Storage::q4_0: return rt::DType::Q4_0;
  case Storage::q4_1: return rt::DType::Q4_1;
  case Storage::q5_0: return rt::DType::Q5_0;
  case Storage::q5_1: return rt::DType::Q5_1;
  case Storage::q2_K: return rt::DType::Q2_K;
  case Storage::q3_K: return rt::DType::Q3_K;
  case Storage::q4_K: return rt::DType::Q4_K;
  case Storage::q5_K: return rt::DType::Q5_K;
  case Storage::q6_K: return rt::DType::Q6_K;
  }
  return rt::DType::F32;
}

/// The IR's name for a runtime storage type (none for Unsupported).
inline std::optional<mlir::tfm::Storage> irStorage(rt::DType dtype) {
  return mlir::tfm::symbolizeStorage(rt::storageName(dtype));
}

/// The storage a weight of type `type` is kept in.
inline rt::DType runtimeStorage(mlir::Type type) {
  return runtimeStorage(mlir::tfm::storageOf(type));
}

} // namespace tfm

#endif // TFM_COMPILER_STORAGETYPES_H
