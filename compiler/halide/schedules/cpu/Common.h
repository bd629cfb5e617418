//===- Common.h - the CPU schedule templates --------------------*- C++ -*-===//
//
// One template per schedule attribute; each reads only its own typed
// parameters (chosen by tfm-select-schedules).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H
#define TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H

#include "compiler/halide/Pipeline.h"

namespace tfm::halide::cpu {

namespace ir = mlir::tfm;

/// `stage`, which the template needs: an error names `role` when the
/// kernel lacks it.
Halide::Func &need(Halide::Func &stage, const char *role);
Halide::RDom need(Halide::RDom domain, const char *role);

void scheduleGemm(KernelPipeline &p, ir::GemmScheduleAttr s,
                  const Halide::Target &t);
/// Tiles `out` (whose stage `product.dot` is a projection's reduction) as a decode
/// GEMV over its feature coordinate `n`.
void tileGemv(KernelPipeline &p, Halide::Func out, Halide::Var n,
              ir::GemvScheduleAttr s);
/// Tiles `out` as a prefill GEMM over (n, row), with `rows` rows.
void tileGemm(KernelPipeline &p, Halide::Func out, Halide::Var n,
              Halide::Var row, Halide::Expr rows, ir::GemmScheduleAttr s);
/// A norm computed in the prologue of a projection kernel (stage
/// `prologue`), once per kernel call, before the product.
void schedulePrologue(KernelPipeline &p, int vector);
/// The block scales of a micro-kernel's activations (ProductStages::
/// actScale), once per kernel call, by rows (in parallel where
/// `parallel`), 8 blocks at a time where a row has 8 or more.
void scheduleActScale(KernelPipeline &p, bool parallel);
/// A product's rounded activations (ProductStages::actScale), once per
/// kernel call, before the product; the integer GEMV places its own.
void scheduleRounding(KernelPipeline &p, int vector);

void scheduleQkv(KernelPipeline &p, ir::QkvScheduleAttr s,
                 const Halide::Target &t);
void scheduleFlashDecode(KernelPipeline &p, ir::FlashDecodeScheduleAttr s,
                         const Halide::Target &t);
void scheduleFlashPrefill(KernelPipeline &p, ir::FlashPrefillScheduleAttr s,
                          const Halide::Target &t);
void scheduleGemv(KernelPipeline &p, ir::GemvScheduleAttr s,
                  const Halide::Target &t);
void scheduleAttention(KernelPipeline &p, ir::AttentionScheduleAttr s,
                       const Halide::Target &t);
void scheduleRows(KernelPipeline &p, ir::RowsScheduleAttr s,
                  const Halide::Target &t);
void scheduleElementwise(KernelPipeline &p, ir::ElementwiseScheduleAttr s,
                         const Halide::Target &t);
void scheduleMoe(KernelPipeline &p, ir::MoeScheduleAttr s,
                 const Halide::Target &t);

} // namespace tfm::halide::cpu

#endif // TFM_COMPILER_HALIDE_SCHEDULES_CPU_COMMON_H
