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

namespace tfm {

inline rt::DType runtimeStorage(mlir::tfm::Storage storage) {
  switch (storage) {
  case mlir::tfm::Storage::f32:
    return rt::DType::F32;
  case mlir::tfm::Storage::f16:
    return rt::DType::F16;
  case mlir::tfm::Storage::bf16:
    return rt::DType::BF16;
  }
  return rt::DType::F32;
}

/// The storage a weight of type `type` is kept in.
inline rt::DType runtimeStorage(mlir::Type type) {
  return runtimeStorage(mlir::tfm::storageOf(type));
}

} // namespace tfm

#endif // TFM_COMPILER_STORAGETYPES_H
