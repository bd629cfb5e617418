//===- Common.h - helpers shared by the CPU schedule templates --*- C++ -*-===//

#ifndef TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H
#define TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H

#include "compiler/halide/Pipeline.h"

namespace tfm::halide::cpu {

/// An integer schedule parameter, or `fallback` when absent.
int param(mlir::DictionaryAttr schedule, llvm::StringRef name, int fallback);

/// The stage `role` of the pipeline (it must exist).
Halide::Func &stage(KernelPipeline &p, const std::string &role);

void scheduleGemm(KernelPipeline &p, mlir::DictionaryAttr s,
                  const Halide::Target &t);
/// Tiles `out` (whose stage "dot" is a projection's reduction) as a decode
/// GEMV over its feature coordinate `n`.
void tileGemv(KernelPipeline &p, Halide::Func out, Halide::Var n,
              mlir::DictionaryAttr s);
/// Tiles `out` as a prefill GEMM over (n, row), with `rows` rows.
void tileGemm(KernelPipeline &p, Halide::Func out, Halide::Var n,
              Halide::Var row, Halide::Expr rows, mlir::DictionaryAttr s);
/// A norm computed in the prologue of a projection kernel (stage
/// "prologue"), once per kernel call, before the product.
void schedulePrologue(KernelPipeline &p, mlir::DictionaryAttr s);

void scheduleQkv(KernelPipeline &p, mlir::DictionaryAttr s,
                 const Halide::Target &t);
void scheduleFlashAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                            const Halide::Target &t);
void scheduleGemv(KernelPipeline &p, mlir::DictionaryAttr s,
                  const Halide::Target &t);
void scheduleAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                       const Halide::Target &t);
void scheduleRows(KernelPipeline &p, mlir::DictionaryAttr s,
                  const Halide::Target &t);
void scheduleElementwise(KernelPipeline &p, mlir::DictionaryAttr s,
                         const Halide::Target &t);
void scheduleMoe(KernelPipeline &p, mlir::DictionaryAttr s,
                 const Halide::Target &t);

} // namespace tfm::halide::cpu

#endif // TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H
