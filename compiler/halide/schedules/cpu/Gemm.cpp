//===- Gemm.cpp - prefill projections (matrix times matrix) -----*- C++ -*-===//
//
// C(n, s) = Σ_k X(k, s)·W(k, n). A (3·vector) × 4 register tile: 3 vectors
// of outputs times 4 rows, accumulated in registers over a block of k
// (k_block), each block's tile then added to the tile's total. Summing in
// blocks cut the compiled Gemma 2 2B's logits error against the f64
// reference from 1.4e-4 to 4e-5 (sequential f32 sums over k = 9216). W is
// stored n-major, so each thread first copies its panel of tile_cols output
// columns into k-major order (the "swizzle"), once, and reuses it for every
// row of X. Parallel over column panels. When there are at least tile_rows
// rows, the last row tile shifts inwards (recomputing a few rows) so every
// tile has constant size and its accumulators stay in registers.
//
// Measured (bench/RESULTS.md, 2-core Xeon @ 2.5 GHz, S = 128): with AVX2,
// 40-69 GFLOP/s on one thread, 50-87% of the 80 GFLOP/s AVX2 FMA peak and
// 67-79% of OpenBLAS's AVX-512 sgemm; with AVX-512 (16 lanes, the same
// tile shape, k in blocks), 80-108% of OpenBLAS in the same rounds,
// 1.1-1.6x AVX2.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

/// A product by a prefill micro-kernel (runtime/BfloatGemm.h,
/// runtime/QuantGemm.h): parallel over panels of 64 outputs (fewer when
/// there are fewer), each one call over every row that packs its panel's
/// weights once and sweeps the rows through them. Whole panels only (the
/// last one shifts inwards), so no call asks for a weight row past the
/// matrix. The activations as the micro-kernel reads them (bf16 bits, or
/// 8-bit integers and their blocks' scales) are made once per kernel call.
void tileExternGemm(KernelPipeline &p, Func out, Var n, Var row) {
  ProductStages &product = p.stages.product;
  int cols = std::min(64, product.externGemmOutputs);
  Var no("no"), ni("ni");
  out.split(n, no, ni, cols, TailStrategy::ShiftInwards)
      .reorder(ni, row, no)
      .parallel(no);
  if (cols % 8 == 0)
    out.vectorize(ni, 8);
  // The activations' block scales (an 8-bit product's), once per row.
  scheduleActScale(p, true);
  for (Func f : product.externInputs)
    f.compute_root()
        .vectorize(f.args()[0], 8, TailStrategy::GuardWithIf)
        .parallel(f.args()[1]);
  product.externDot.compute_at(out, no);
}

void tileGemm(KernelPipeline &p, Func out, Var n, Var row, Expr rows,
              ir::GemmScheduleAttr s) {
  if (p.stages.product.externDot.defined())
    return tileExternGemm(p, out, n, row);
  int vec = int(s.getVector());
  int cols = int(s.getTileCols());
  int tileRows = int(s.getTileRows());
  ProductStages &product = p.stages.product;
  Func &dot = need(product.dot, "product.dot");
  Func &weight = need(product.weight, "product.weight");
  RDom r = need(product.k, "product.k");
  bool paired = dot.dimensions() == 3; // (n, j, s): a fused GLU product
  Var no("no"), ni("ni"), so("so"), si("si");
  // With AVX-512 vectors (16 lanes) the last column panel shifts inwards
  // too, so no vector has a guarded tail: Halide 14 miscompiles the
  // predicated stores those become (tfm-select-schedules only picks 16
  // lanes when there are whole vectors and at least one panel of columns).
  TailStrategy colTail =
      vec >= 16 ? TailStrategy::ShiftInwards : TailStrategy::GuardWithIf;
  auto tile = [&](Stage stage, TailStrategy rowTail) {
    stage.split(n, no, ni, cols, colTail)
        .split(row, so, si, tileRows, rowTail)
        .reorder(ni, si, so, no)
        .vectorize(ni, vec, TailStrategy::GuardWithIf)
        .parallel(no);
  };
  tile(out.specialize(rows >= tileRows), TailStrategy::ShiftInwards);
  tile(out, TailStrategy::GuardWithIf);

  // The register tile (for a GLU product, one after the other for the gate
  // and the up half). With k_block, each block of k is summed in a tile of
  // its own (`partial`, an rfactor of the dot), then added to the tile's
  // total: the sum over k is blocked as in BLAS, so its f32 rounding error
  // grows with the block length, not all of k.
  Var dn = dot.args()[0], ds = dot.args()[paired ? 2 : 1];
  auto registerTile = [&](Func f, Stage update, std::vector<VarOrRVar> order) {
    f.compute_at(out, so)
        .vectorize(dn, vec, TailStrategy::GuardWithIf)
        .unroll(dn)
        .unroll(ds, tileRows, TailStrategy::GuardWithIf);
    if (paired) { // the half outside the reduction over (a block of) k
      order.insert(order.begin() + 3, dot.args()[1]);
      f.unroll(dot.args()[1]);
      update.unroll(dot.args()[1]);
    }
    update.reorder(order)
        .vectorize(dn, vec, TailStrategy::GuardWithIf)
        .unroll(dn)
        .unroll(ds, tileRows, TailStrategy::GuardWithIf);
  };
  Func reader = dot; // the stage that reads the weight panel
  int kBlock = int(s.getKBlock());
  if (kBlock > 0) {
    RVar rko("rko"), rki("rki");
    Var block("block");
    Func partial = dot.update()
                       .split(r.x, rko, rki, kBlock, TailStrategy::GuardWithIf)
                       .rfactor(rko, block);
    registerTile(dot, dot.update(), {dn, ds, rko});
    // One block's tile, computed within the total's loop over blocks; for
    // a GLU product the gate block, then the up block.
    registerTile(partial, partial.update(), {dn, ds, rki, block});
    partial.compute_at(dot, rko); // (not at the row tile: once per block)
    reader = partial;
  } else {
    registerTile(dot, dot.update(), {dn, ds, r.x});
  }

  // The swizzled panel of W for this thread's columns, k-major.
  // (For a GLU product, the gate panel then the up panel.)
  Func panel = weight.in(reader);
  Var pk = panel.args()[0], pn = panel.args()[1];
  std::vector<Var> order{pn, pk};
  if (paired)
    order.push_back(panel.args()[2]);
  panel.compute_at(out, no)
      .reorder_storage(order)
      .reorder(std::vector<VarOrRVar>(order.begin(), order.end()))
      .vectorize(pn, vec, TailStrategy::GuardWithIf);
}

void scheduleGemm(KernelPipeline &p, ir::GemmScheduleAttr s, const Target &) {
  schedulePrologue(p, int(s.getVector()));
  scheduleRounding(p, int(s.getVector()));
  tileGemm(p, p.output, p.vars[0], p.vars[1],
           p.output.output_buffer().dim(1).extent(), s);
}

} // namespace tfm::halide::cpu
