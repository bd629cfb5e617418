//===- Gemv.cpp - decode projections (one row times a matrix) ---*- C++ -*-===//
//
// y(n) = Σ_k x(k)·W(k, n) with W stored n-major (each output's weights
// contiguous in k). Memory-bound: the schedule streams W once, split into
// blocks of output rows across threads; within a block the reduction over k
// is split into vector lanes (rfactor) and four rows are interleaved so the
// x vector loaded once feeds four FMAs.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleGemv(KernelPipeline &p, mlir::DictionaryAttr s, const Target &) {
  int vec = param(s, "vector", 8);
  int rows = param(s, "rows_per_task", 32);
  Func &out = p.output;
  Func &dot = stage(p, "dot");
  RDom r = p.rdoms.at("dot");
  Var n = p.vars[0], row = p.vars[1];
  Var no("no"), ni("ni");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf).parallel(no);

  RVar ko("ko"), ki("ki");
  Var lane("lane"), nb("nb"), nu("nu");
  dot.compute_at(out, no);
  Func partial = dot.update().split(r.x, ko, ki, vec, TailStrategy::GuardWithIf)
                     .rfactor(ki, lane);
  Var pn = partial.args()[1];
  partial.compute_at(out, no).vectorize(lane);
  partial.update()
      .split(pn, nb, nu, 4, TailStrategy::GuardWithIf)
      .reorder(lane, nu, ko, nb)
      .vectorize(lane)
      .unroll(nu);
  (void)row;
}

} // namespace tfm::halide::cpu
