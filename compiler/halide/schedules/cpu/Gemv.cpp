//===- Gemv.cpp - decode projections (one row times a matrix) ---*- C++ -*-===//
//
// y(n) = Σ_k x(k)·W(k, n) with W stored n-major (each output's weights
// contiguous in k). Memory-bound: the schedule streams W once, in blocks of
// output rows spread over threads. Within a block, groups of four rows are
// reduced together: the reduction over k is split into vector lanes
// (rfactor), so each step loads one vector of x and four of W into four
// register accumulators; a horizontal sum finishes each row. A fused GLU
// product reduces the gate and the up row of each output together (eight
// accumulators). A prologue norm runs once, before the row blocks.
//
// Measured (bench/RESULTS.md, cold weights): 80-99% of OpenBLAS sgemv;
// 6.5-10.7 GB/s on one thread and 11-19 GB/s on two, against a triad
// bandwidth of 10.2 and 18.9 GB/s.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void tileGemv(KernelPipeline &p, Func out, Var n, ir::GemvScheduleAttr s) {
  int vec = int(s.getVector());
  int rows = int(s.getRowsPerTask());
  constexpr int kGroup = 4;
  Func &dot = need(p.stages.product.dot, "product.dot");
  RDom r = need(p.stages.product.k, "product.k");
  bool paired = dot.dimensions() == 3; // (n, j, s): a fused GLU product
  Var no("no"), ni("ni"), group("group"), member("member");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf)
      .split(ni, group, member, kGroup, TailStrategy::GuardWithIf)
      .parallel(no);

  RVar ko("ko"), ki("ki"), kc("kc"), kin("kin");
  Var lane("lane");
  Var dn = dot.args()[0];
  dot.compute_at(out, group);
  // A block-format weight is reduced a block (32 elements, or a K-quant's
  // 256) at a time, its vectors unrolled, so each row's scales are decoded
  // once per block (or sub-block) rather than once per vector.
  int block = p.stages.product.block;
  bool blocks = block > 1 && block % vec == 0;
  Stage update = dot.update();
  if (blocks)
    update.split(r.x, kc, kin, block, TailStrategy::GuardWithIf)
        .split(kin, ko, ki, vec, TailStrategy::GuardWithIf);
  else
    update.split(r.x, ko, ki, vec, TailStrategy::GuardWithIf);
  Func partial = update.rfactor(ki, lane);
  // partial(n, [j,] s, lane): lanes innermost in storage, four rows' worth
  // (of each half), so it lives in registers.
  Var pn = partial.args()[0], ps = partial.args()[paired ? 2 : 1];
  std::vector<Var> storage{lane, pn};
  std::vector<VarOrRVar> steps{lane, pn};
  if (paired) {
    storage.push_back(partial.args()[1]);
    steps.push_back(partial.args()[1]);
  }
  storage.push_back(ps);
  steps.push_back(ko);
  if (blocks)
    steps.push_back(kc);
  partial.compute_at(out, group)
      .reorder_storage(storage)
      .reorder(std::vector<VarOrRVar>(storage.begin(), storage.end()))
      .vectorize(lane)
      .unroll(pn, kGroup, TailStrategy::GuardWithIf);
  partial.update()
      .reorder(steps)
      .vectorize(lane)
      .unroll(pn, kGroup, TailStrategy::GuardWithIf);
  if (blocks)
    partial.update().unroll(ko);
  if (paired) {
    partial.unroll(partial.args()[1]);
    partial.update().unroll(partial.args()[1]);
    dot.unroll(dot.args()[1]);
  }
  dot.unroll(dn, kGroup, TailStrategy::GuardWithIf);
}

void scheduleGemv(KernelPipeline &p, ir::GemvScheduleAttr s, const Target &) {
  schedulePrologue(p, int(s.getVector()));
  tileGemv(p, p.output, p.vars[0], s);
}

} // namespace tfm::halide::cpu
