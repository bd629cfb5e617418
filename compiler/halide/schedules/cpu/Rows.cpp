//===- Rows.cpp - row-wise kernels: norms, RoPE, embeddings -----*- C++ -*-===//
//
// Rows are independent: parallel over rows (prefill), vectorized along the
// features. Per-row statistics (norm sums) and per-row tables (RoPE cos/sin)
// are computed once per row, just before the row. The same row loops serve
// a projection's prologue norm and the fused QKV kernel's three outputs
// (its product is tiled by the GEMV/GEMM templates).
//
// Measured (bench/RESULTS.md): under 0.5% of decode time together; the
// norms run at 4-9 GB/s, bounded by call overhead at these sizes.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleRows(KernelPipeline &p, ir::RowsScheduleAttr s, const Target &) {
  int vec = int(s.getVector());
  for (Func &out : p.outputs) {
    Var inner = out.args()[0], row = out.args().back();
    out.vectorize(inner, vec, TailStrategy::GuardWithIf);
    if (!p.decode || out.dimensions() > 2)
      out.parallel(row);
  }
  Func &owner = p.statsOwner;
  Var row = owner.args().back();
  for (Func f : {p.stages.norm.stats, p.stages.norm.mean})
    if (f.defined())
      f.compute_at(owner, row);
  for (Func f : {p.stages.ropeCos, p.stages.ropeSin})
    if (f.defined())
      f.compute_at(owner, row).vectorize(f.args()[0], vec,
                                         TailStrategy::GuardWithIf);
}

void schedulePrologue(KernelPipeline &p, int vec) {
  Func &norm = p.stages.prologue;
  if (!norm.defined())
    return;
  Var c = norm.args()[0], row = norm.args()[1];
  norm.compute_root().vectorize(c, vec, TailStrategy::GuardWithIf);
  if (!p.decode)
    norm.parallel(row);
  for (Func f : {p.stages.norm.stats, p.stages.norm.mean})
    if (f.defined())
      f.compute_at(norm, row);
  // The residual sum the prologue normalizes, also a result of the kernel.
  for (size_t i : p.rowOutputs) {
    Func &sum = p.outputs[i];
    sum.vectorize(sum.args()[0], vec, TailStrategy::GuardWithIf);
    if (!p.decode)
      sum.parallel(sum.args()[1]);
  }
}

void scheduleQkv(KernelPipeline &p, ir::QkvScheduleAttr s, const Target &) {
  int vec = int(s.getVectorLanes());
  schedulePrologue(p, vec);
  scheduleRounding(p, vec);
  Func &product = need(p.stages.qkvProduct, "qkv_product");
  Var c = product.args()[0], row = product.args()[1];
  product.compute_root();
  if (auto gemm = mlir::dyn_cast<ir::GemmScheduleAttr>(s.getProduct()))
    tileGemm(p, product, c, row, p.rows, gemm);
  else
    tileGemv(p, product, c, mlir::cast<ir::GemvScheduleAttr>(s.getProduct()));
  // Q, K and V read their columns of the product; Q's and K's norms and
  // rotations happen on the way, row by row.
  for (auto [i, out] : llvm::enumerate(p.outputs)) {
    if (llvm::is_contained(p.rowOutputs, i))
      continue; // scheduled with the prologue
    out.vectorize(out.args()[0], vec, TailStrategy::GuardWithIf);
    if (!p.decode)
      out.parallel(out.args()[1]);
  }
  const NormStages *norms[] = {&p.stages.qNorm, &p.stages.kNorm};
  for (size_t i = 0; i < 2; ++i)
    for (Func f : {norms[i]->stats, norms[i]->mean})
      if (f.defined())
        f.compute_at(p.outputs[i], p.outputs[i].args()[1]);
  for (Func f : {p.stages.ropeCos, p.stages.ropeSin})
    if (f.defined())
      f.compute_root().vectorize(f.args()[0], vec, TailStrategy::GuardWithIf);
}

void scheduleElementwise(KernelPipeline &p, ir::ElementwiseScheduleAttr s,
                         const Target &) {
  int vec = int(s.getVector());
  Func &out = p.output;
  out.vectorize(p.vars[0], vec, TailStrategy::GuardWithIf);
  if (!p.decode && p.vars.size() > 1)
    out.parallel(p.vars.back());
}

} // namespace tfm::halide::cpu
