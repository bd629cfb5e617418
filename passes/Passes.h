//===- Passes.h - tfm passes and pipelines ----------------------*- C++ -*-===//
//
// Declares every tfm pass (generated from Passes.td) and the pipelines that
// the driver runs between emit stages.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_PASSES_PASSES_H
#define TFM_PASSES_PASSES_H

#include "dialects/Tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <set>
#include <string>
#include <vector>

namespace mlir::tfm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The ops that multiply by a weight matrix: they take a norm prologue in
/// their kernel and are tiled by the matrix-product schedules.
inline bool isProjection(Operation *op) {
  return isa<LinearOp, LinearGluOp, QkvRopeOp, LmHeadOp>(op);
}

/// The fusion patterns, one set per fusion pass (`tfm-fuse-<name>`); a
/// pass applies its set with the greedy driver.
void populateFuseAttentionKvCachePatterns(RewritePatternSet &patterns);
void populateFuseRopeQkPatterns(RewritePatternSet &patterns);
void populateFuseGluPatterns(RewritePatternSet &patterns);
void populateFuseNormResidualPatterns(RewritePatternSet &patterns);

/// Graph-level clean-up after the frontend: tfm folds, CSE (which also
/// merges repeated `tfm.weight` ops, e.g. a tied embedding), dead-op removal.
void buildGraphPipeline(OpPassManager &pm);

/// The fusions, by the names `--disable-fusion` takes, in the order they
/// run: each pass's flag is `tfm-fuse-<name>`.
const std::vector<std::string> &fusionNames();

/// Graph level to fused level: every fusion not named in `disabled`.
void buildFusionPipeline(OpPassManager &pm,
                         const std::set<std::string> &disabled = {});

/// The code generation target of a whole module: the kind, the vector ISA
/// of every kernel, and a wider ISA for the prefill products that fit its
/// vectors (empty: none).
struct KernelTarget {
  std::string kind = "cpu";
  std::string isa = "avx2";
  std::string wideIsa;
};

/// Graph level to kernel level: form kernels, select each one's target and
/// schedule, then clean up the host functions (CSE merges the size
/// computations the launches need).
void buildKernelPipeline(OpPassManager &pm, const KernelTarget &target = {});

/// Registers the passes above and the named pipelines (`tfm-graph`,
/// `tfm-fuse`, `tfm-kernels`).
void registerTfmPipelines();

} // namespace mlir::tfm

#endif // TFM_PASSES_PASSES_H
