//===- Gemv.cpp - decode projections (one row times a matrix) ---*- C++ -*-===//
//
// y(n) = Σ_k x(k)·W(k, n) with W stored n-major (each output's weights
// contiguous in k). Memory-bound: the schedule streams W once, in blocks of
// output rows spread over threads. Within a block, each row is reduced on
// its own: the reduction over k is split into vector lanes (rfactor), so
// each step loads one vector of x and one of W into a register
// accumulator; a horizontal sum finishes the row. A fused GLU product
// reduces the gate and the up row of each output together (two
// accumulators). A prologue norm runs once, before the row blocks.
//
// Measured (bench/RESULTS.md): reducing one row at a time streams faster
// on the 2-core EPYC than the four rows at a time this template used to
// reduce together: q8_0 decode 122 against 54 tokens/s, f32 44-54 against
// 33-37 (110M, 1 thread).
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void tileGemv(KernelPipeline &p, Func out, Var n, ir::GemvScheduleAttr s) {
  int vec = int(s.getVector());
  int rows = int(s.getRowsPerTask());
  Func &dot = need(p.stages.product.dot, "product.dot");
  RDom r = need(p.stages.product.k, "product.k");
  bool paired = dot.dimensions() == 3; // (n, j, s): a fused GLU product
  Var no("no"), ni("ni");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf).parallel(no);

  RVar ko("ko"), ki("ki"), kc("kc"), kin("kin");
  Var lane("lane");
  dot.compute_at(out, ni);
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
  // partial(n, [j,] s, lane): one row's lanes (of each half), in registers.
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
  partial.compute_at(out, ni)
      .reorder_storage(storage)
      .reorder(std::vector<VarOrRVar>(storage.begin(), storage.end()))
      .vectorize(lane);
  partial.update().reorder(steps).vectorize(lane);
  if (blocks)
    partial.update().unroll(ko);
  if (paired) {
    partial.unroll(partial.args()[1]);
    partial.update().unroll(partial.args()[1]);
    dot.unroll(dot.args()[1]);
  }
}

void scheduleGemv(KernelPipeline &p, ir::GemvScheduleAttr s, const Target &) {
  schedulePrologue(p, int(s.getVector()));
  tileGemv(p, p.output, p.vars[0], s);
}

} // namespace tfm::halide::cpu
