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

namespace {

/// A product by a micro-kernel (ProductStages::externDot): called once per
/// task on its block of rows, after its inputs (the activations as it
/// wants them) are computed once per call.
void tileExternGemv(KernelPipeline &p, Func out, Var n, int rows) {
  ProductStages &product = p.stages.product;
  Var no("no"), ni("ni");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf).parallel(no);
  scheduleActScale(p, false);
  if (product.actSums.defined())
    product.actSums.compute_root();
  // 8 lanes: the inputs' extents (k, k / 4) are multiples of 8, so no
  // vector has a predicated tail, which Halide 14 miscompiles for AVX-512.
  for (Func f : product.externInputs)
    f.compute_root().vectorize(f.args()[0], 8, TailStrategy::GuardWithIf);
  product.externDot.compute_at(out, no);
}

/// The integer product over 8-bit activations (ProductStages::intSum):
/// the activations are rounded once per call (to 16-bit integers); each
/// block's pairs of products are one pmaddwd per half-block, whose lanes
/// are scaled into f32 accumulators per row and summed last. Measured on a q8_0 matrix
/// streamed from memory (1 thread, 2-core EPYC with VNNI): 26.6 GB/s
/// against 15.1 for f32 activations times dequantized weights, and the
/// same 26.6 with VNNI's vpdpbusd (unsigned times signed bytes, four per
/// lane); Halide 14 emits that only for its Sapphire Rapids target, whose
/// code uses AVX512-FP16 instructions this machine lacks.
void tileIntegerGemv(KernelPipeline &p, Func out, Var n, int rows) {
  ProductStages &product = p.stages.product;
  Func dot = product.dot, acc = product.intAcc, sum = product.intSum;
  bool paired = dot.dimensions() == 3;
  Var no("no"), ni("ni");
  out.split(n, no, ni, rows, TailStrategy::GuardWithIf).parallel(no);
  Var c = product.actInts.args()[0];
  scheduleActScale(p, false);
  product.actInts.compute_root().vectorize(c, 16, TailStrategy::GuardWithIf);
  if (product.actSums.defined())
    product.actSums.compute_root();
  if (product.intMins.defined())
    product.intMins.compute_at(out, ni);
  dot.compute_at(out, ni);
  Var lane = acc.args()[0];
  acc.compute_at(out, ni).vectorize(lane);
  std::vector<VarOrRVar> order{lane};
  if (paired)
    order.push_back(acc.args()[2]);
  order.push_back(product.blocks.x);
  acc.update().reorder(order).vectorize(lane);
  sum.compute_at(acc, product.blocks.x).vectorize(sum.args()[0]);
  sum.update()
      .reorder(product.pair.x, sum.args()[0], product.pair.y)
      .atomic()
      .vectorize(product.pair.x)
      .vectorize(sum.args()[0])
      .unroll(product.pair.y);
  if (paired) {
    acc.unroll(acc.args()[2]);
    acc.update().unroll(acc.args()[2]);
    sum.unroll(sum.args()[3]);
    sum.update().unroll(sum.args()[3]);
    dot.unroll(dot.args()[1]);
  }
}

} // namespace

void scheduleActScale(KernelPipeline &p, bool parallel) {
  ProductStages &product = p.stages.product;
  if (!product.actScale.defined())
    return;
  Func scale = product.actScale;
  scale.compute_root();
  if (parallel)
    scale.parallel(scale.args()[1]);
  // Each lane a block's largest magnitude. ShiftInwards (a row's last 8
  // blocks again, not a predicated tail, which Halide 14 miscompiles for
  // AVX-512) needs 8 blocks.
  if (product.actBlocks >= 8)
    scale.vectorize(scale.args()[0], 8, TailStrategy::ShiftInwards);
}

void scheduleRounding(KernelPipeline &p, int vec) {
  ProductStages &product = p.stages.product;
  if (product.actBf16.defined() && !product.externDot.defined()) {
    // Rounded to bf16 once per element, not once per product that reads it.
    Func rounded = product.actBf16;
    rounded.compute_root().vectorize(rounded.args()[0], vec,
                                     TailStrategy::GuardWithIf);
    return;
  }
  if (!product.actScale.defined() || product.intSum.defined() ||
      product.externDot.defined())
    return;
  Func rounded = product.input;
  Var c = rounded.args()[0], row = rounded.args()[1];
  rounded.compute_root().vectorize(c, vec, TailStrategy::GuardWithIf);
  if (!p.decode)
    rounded.parallel(row);
  product.actScale.compute_at(rounded, row);
}

void tileGemv(KernelPipeline &p, Func out, Var n, ir::GemvScheduleAttr s) {
  int vec = int(s.getVector());
  int rows = int(s.getRowsPerTask());
  if (p.stages.product.externDot.defined())
    return tileExternGemv(p, out, n, rows);
  if (p.stages.product.intSum.defined())
    return tileIntegerGemv(p, out, n, rows);
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
  scheduleRounding(p, int(s.getVector()));
  tileGemv(p, p.output, p.vars[0], s);
}

} // namespace tfm::halide::cpu
