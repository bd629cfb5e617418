//===- Gemv.cpp - decode projections (one row times a matrix) ---*- C++ -*-===//
//
// y(n) = Σ_k x(k)·W(k, n) with W stored n-major (each output's weights
// contiguous in k). Memory-bound: the schedule streams W once, in blocks of
// output rows spread over threads. Within a block, groups of four rows are
// reduced together: the reduction over k is split into vector lanes
// (rfactor), so each step loads one vector of x and four of W into four
// register accumulators; a horizontal sum finishes each row.
//
// Measured (bench/RESULTS.md, cold weights): 80-99% of OpenBLAS sgemv;
// 6.5-10.7 GB/s on one thread and 11-19 GB/s on two, against a triad
// bandwidth of 10.2 and 18.9 GB/s.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleGemv(KernelPipeline &p, mlir::DictionaryAttr s, const Target &) {
  int vec = param(s, "vector", 8);
  int rows = param(s, "rows_per_task", 32);
  constexpr int kGroup = 4;
  Func &out = p.output;
  Func &dot = stage(p, "dot");
  RDom r = p.rdoms.at("dot");
  Var n = p.vars[0];
  Var no("no"), ni("ni"), group("group"), member("member");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf)
      .split(ni, group, member, kGroup, TailStrategy::GuardWithIf)
      .parallel(no);

  RVar ko("ko"), ki("ki");
  Var lane("lane");
  Var dn = dot.args()[0];
  dot.compute_at(out, group);
  Func partial = dot.update()
                     .split(r.x, ko, ki, vec, TailStrategy::GuardWithIf)
                     .rfactor(ki, lane);
  // partial(n, s, lane): lanes innermost in storage, four rows' worth, so
  // it lives in registers.
  Var pn = partial.args()[0], ps = partial.args()[1];
  partial.compute_at(out, group)
      .reorder_storage(lane, pn, ps)
      .reorder(lane, pn, ps)
      .vectorize(lane)
      .unroll(pn, kGroup, TailStrategy::GuardWithIf);
  partial.update()
      .reorder(lane, pn, ko)
      .vectorize(lane)
      .unroll(pn, kGroup, TailStrategy::GuardWithIf);
  dot.unroll(dn, kGroup, TailStrategy::GuardWithIf);
}

} // namespace tfm::halide::cpu
