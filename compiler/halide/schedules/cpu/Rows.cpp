//===- Rows.cpp - row-wise kernels: norms, RoPE, embeddings -----*- C++ -*-===//
//
// Rows are independent: parallel over rows (prefill), vectorized along the
// features. Per-row statistics (norm sums) and per-row tables (RoPE cos/sin)
// are computed once per row, just before the row.
//
// Measured (bench/RESULTS.md): under 0.5% of decode time together; the
// norms run at 4-9 GB/s, bounded by call overhead at these sizes.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleRows(KernelPipeline &p, mlir::DictionaryAttr s,
                  const Target &) {
  int vec = param(s, "vector", 8);
  Func &out = p.output;
  Var inner = p.vars[0], row = p.vars.back();
  out.vectorize(inner, vec, TailStrategy::GuardWithIf);
  if (!p.decode || p.vars.size() > 2)
    out.parallel(row);
  for (const char *role : {"stats", "mean"})
    if (p.stages.count(role)) {
      Func &f = p.stages[role];
      f.compute_at(out, row);
    }
  for (const char *role : {"cos", "sin"})
    if (p.stages.count(role))
      p.stages[role].compute_at(out, row).vectorize(
          p.stages[role].args()[0], vec, TailStrategy::GuardWithIf);
}

void scheduleElementwise(KernelPipeline &p, mlir::DictionaryAttr s,
                         const Target &) {
  int vec = param(s, "vector", 8);
  Func &out = p.output;
  out.vectorize(p.vars[0], vec, TailStrategy::GuardWithIf);
  if (!p.decode && p.vars.size() > 1)
    out.parallel(p.vars.back());
}

} // namespace tfm::halide::cpu
