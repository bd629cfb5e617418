//===- ModelBuilder.h - ModelSpec → graph-level tfm IR ----------*- C++ -*-===//

#ifndef TFM_COMPILER_FRONTEND_MODELBUILDER_H
#define TFM_COMPILER_FRONTEND_MODELBUILDER_H

#include "compiler/frontend/ModelSpec.h"
#include "runtime/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace tfm {

/// Builds a module with two entry points, layers unrolled:
///   @prefill(tokens: tensor<?xi32>, pos: index, caches...)
///       -> (logits: tensor<?xVxf32>, caches...)
///   @decode(token: tensor<1xi32>, pos: index, caches...)
///       -> (logits: tensor<1xVxf32>, caches...)
/// with one !tfm.kv_cache per layer. The spec must be valid (validateSpec).
mlir::OwningOpRef<mlir::ModuleOp> buildModel(mlir::MLIRContext &context,
                                             const ModelSpec &spec);

/// The weights the module's `tfm.weight` ops name, each once, in order of
/// first use.
std::vector<rt::WeightRequest> collectWeightRequests(mlir::ModuleOp module);

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_MODELBUILDER_H
