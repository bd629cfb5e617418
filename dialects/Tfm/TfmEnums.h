//===- TfmEnums.h - the tfm dialect's enums ---------------------*- C++ -*-===//
//
// The kinds the dialect names (norms, activations, RoPE layouts, router
// scorings, ...), defined once in TfmAttrs.td. The frontend's ModelSpec
// uses the same enums, and a spec keyword is the kind's name in the IR.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECTS_TFM_TFMENUMS_H
#define TFM_DIALECTS_TFM_TFMENUMS_H

#include "mlir/IR/DialectImplementation.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <vector>

#include "dialects/Tfm/TfmEnums.h.inc"

namespace mlir::tfm {

/// Every case of a dialect enum, in order (its cases are numbered from 0).
template <typename E> std::vector<E> enumCases() {
  std::vector<E> cases;
  for (uint32_t i = 0; !stringifyEnum(static_cast<E>(i)).empty(); ++i)
    cases.push_back(static_cast<E>(i));
  return cases;
}

} // namespace mlir::tfm

#endif // TFM_DIALECTS_TFM_TFMENUMS_H
