//===- Linear.cpp - projections: linear, lm_head, linear_glu, qkv_rope -*- C++ -*-===//
//
// A product x·wᵀ is one reduction (the stage `product.dot`), tiled by the
// GEMV (decode) or GEMM (prefill) template. The fused projections compute
// what follows the product on its accumulators or row by row: the GLU's
// act(gate)·up, and Q's and K's norms and rotations.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

using namespace Halide;

namespace tfm::halide {
namespace {

/// Records the block size of the product's weight storage.
void noteBlock(Lowering &l, mlir::Value weight) {
  l.stages.product.block =
      int(ir::blockElements(ir::storageOf(weight.getType())));
}

void lowerLinear(ir::LinearOp op, Lowering &l) {
  l.define(op.getResult(),
           product(l, l.f(op.getInput()), l.f(op.getWeight()),
                   l.optional(op.getBias()),
                   int(Lowering::size(op.getWeight(), 1))));
  noteBlock(l, op.getWeight());
}

void lowerLmHead(ir::LmHeadOp op, Lowering &l) {
  l.define(op.getResult(),
           product(l, l.f(op.getInput()), l.f(op.getWeight()), Func(),
                   int(Lowering::size(op.getWeight(), 1))));
  noteBlock(l, op.getWeight());
}

void lowerLinearGlu(ir::LinearGluOp g, Lowering &l) {
  Var n("n"), j("j"), s("s"), k("k");
  Func x = l.f(g.getInput()), w = l.f(g.getWeight());
  int rows = int(Lowering::size(g.getWeight(), 0)), width = rows / 2;
  RDom r(0, int(Lowering::size(g.getWeight(), 1)), "k");
  // The gate row and the up row of each output side by side (j = 0, 1),
  // so a tile of outputs reads both halves of the concatenated weight.
  Func paired("glu_weight");
  paired(k, n, j) = w(k, n + j * width);
  Func dot("dot");
  dot(n, j, s) += x(r, s) * paired(r, n, j);
  l.stages.product = {dot, x, paired, r};
  noteBlock(l, g.getWeight());
  Expr gate = dot(n, 0, s), up = dot(n, 1, s);
  if (g.getBias()) {
    Func bias = l.f(g.getBias());
    gate = gate + bias(n);
    up = up + bias(n + width);
  }
  Func out("linear_glu");
  out(n, s) = activate(g.getAct(), gate) * up;
  l.define(g.getResult(), out);
}

void lowerQkvRope(ir::QkvRopeOp op, Lowering &l) {
  Var c("c"), s("s");
  int hd = int(op.getHeadDim()), qw = int(op.getNumHeads()) * hd,
      kw = int(op.getNumKvHeads()) * hd;
  Func dot = product(l, l.f(op.getInput()), l.f(op.getWeight()),
                     l.optional(op.getBias()),
                     int(Lowering::size(op.getWeight(), 1)));
  noteBlock(l, op.getWeight());
  // The product is tiled like a projection's output; the three results
  // read their columns of it.
  Func whole("qkv_product");
  whole(c, s) = dot(c, s);
  l.stages.qkvProduct = whole;
  Func q("q"), k("k"), v("v");
  q(c, s) = whole(c, s);
  k(c, s) = whole(qw + c, s);
  v(c, s) = whole(qw + kw + c, s);
  if (auto kind = op.getNorm()) {
    auto group = op.getNormGroup();
    NormParams params{0,
                      *kind,
                      float(op.getNormEps()->convertToDouble()),
                      Func(),
                      Func(),
                      float(op.getNormGainOffset().convertToDouble())};
    params.group = group ? int(*group) : qw;
    params.gain = l.f(op.getQGain());
    q = normalize(q, params, l.stages.qNorm, "q_");
    params.group = group ? int(*group) : kw;
    params.gain = l.f(op.getKGain());
    k = normalize(k, params, l.stages.kNorm, "k_");
  }
  Rotation rotation{l.scalar(op.getPos()), hd, int(op.getRotaryDim()),
                    op.getLayout(), op.getInverseFrequencies()};
  l.define(op.getQuery(), rotate(l, q, rotation, qw));
  l.define(op.getKey(), rotate(l, k, rotation, kw));
  l.define(op.getValue(), v);
}

} // namespace

Func product(Lowering &l, Func x, Func w, Func bias, int k) {
  Var n("n"), s("s");
  RDom r(0, k, "k");
  Func dot("dot");
  dot(n, s) += x(r, s) * w(r, n);
  l.stages.product = {dot, x, w, r};
  if (!bias.defined())
    return dot;
  Func out("linear");
  out(n, s) = dot(n, s) + bias(n);
  return out;
}

void addLinearLowerings(LoweringTable &table) {
  table.add(lowerLinear);
  table.add(lowerLmHead);
  table.add(lowerLinearGlu);
  table.add(lowerQkvRope);
}

} // namespace tfm::halide
