//===- Position.cpp - embeddings and position schemes -----------*- C++ -*-===//
//
// tfm.embed, absolute positions (tfm.position), rotary positions
// (tfm.rope), and the attention biases computed from positions (tfm.alibi,
// tfm.relative_bias). Position-dependent angles are computed in f64 so
// long contexts keep f32 accuracy.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

#include <cmath>

using namespace Halide;

namespace tfm::halide {
namespace {

void lowerEmbed(ir::EmbedOp e, Lowering &l) {
  Var c("c"), s("s");
  Func table = l.f(e.getTable()), tokens = l.f(e.getTokens());
  int vocab = int(Lowering::size(e.getTable(), 0));
  Func out("embed");
  out(c, s) = table(c, clamp(tokens(s), 0, vocab - 1));
  l.define(e.getResult(), out);
}

void lowerPosition(ir::PositionOp p, Lowering &l) {
  Var c("c"), s("s");
  Func x = l.f(p.getInput()), out("position");
  Expr pos = l.scalar(p.getPos());
  if (p.getTable()) {
    Func table = l.f(p.getTable());
    int rows = int(Lowering::size(p.getTable(), 0));
    out(c, s) = x(c, s) + table(c, clamp(pos + s, 0, rows - 1));
  } else {
    int64_t dim = Lowering::size(p.getInput(), 1);
    Buffer<double> inv(int(dim / 2), "sinusoid_frequencies");
    for (int64_t i = 0; i < dim / 2; ++i)
      inv(int(i)) = 1.0 / std::pow(10000.0, double(2 * i) / double(dim));
    Expr angle = cast<double>(pos + s) * inv(c / 2);
    out(c, s) =
        x(c, s) + cast<float>(select(c % 2 == 0, sin(angle), cos(angle)));
  }
  l.define(p.getResult(), out);
}

void lowerRope(ir::RopeOp r, Lowering &l) {
  Rotation rotation{l.scalar(r.getPos()), int(r.getHeadDim()),
                    int(r.getRotaryDim()), r.getLayout(),
                    r.getInverseFrequencies(), r.getAttentionFactor()};
  l.define(r.getResult(), rotate(l, l.f(r.getInput()), rotation,
                                 int(Lowering::size(r.getInput(), 1))));
}

void lowerAlibi(ir::AlibiOp a, Lowering &l) {
  Var t("t"), s("s"), h("h");
  mlir::SmallVector<double> slopes = ir::AlibiOp::getSlopes(a.getNumHeads());
  Buffer<float> table(int(slopes.size()), "alibi_slopes");
  for (size_t i = 0; i < slopes.size(); ++i)
    table(int(i)) = float(slopes[i] * a.getSlopeScale().convertToDouble());
  Func out("alibi");
  out(t, s, h) = table(h) * cast<float>(t - (l.scalar(a.getPos()) + s));
  l.define(a.getResult(), out);
}

void lowerRelativeBias(ir::RelativeBiasOp r, Lowering &l) {
  Var t("t"), s("s"), h("h");
  Func table = l.f(r.getTable());
  int buckets = int(r.getNumBuckets());
  Expr rel = t - (l.scalar(r.getPos()) + s);
  Expr bucket = 0;
  if (r.getBidirectional()) {
    buckets /= 2;
    bucket = select(rel > 0, buckets, 0);
    rel = cast<int>(abs(rel)); // Halide's abs of an int is unsigned
  } else {
    rel = -min(rel, 0);
  }
  int maxExact = buckets / 2;
  // As in RelativeBiasOp::getBucket: the log ratio in f32.
  Expr ratio = log(cast<float>(rel) / float(maxExact)) /
               float(std::log(float(r.getMaxDistance()) / float(maxExact)));
  Expr large = min(maxExact + cast<int>(ratio * float(buckets - maxExact)),
                   buckets - 1);
  bucket = bucket + select(rel < maxExact, rel, large);
  // Always in range; the clamp tells bounds inference so.
  bucket = clamp(bucket, 0, int(r.getNumBuckets()) - 1);
  Func out("relative_bias");
  out(t, s, h) = table(h, bucket);
  l.define(r.getResult(), out);
}

} // namespace

Func rotate(Lowering &l, Func x, const Rotation &r, int features) {
  Var c("c"), s("s"), k("k");
  int hd = r.headDim, rd = r.rotaryDim;
  int half = rd / 2;
  Stages &stages = l.stages;
  if (!stages.ropeCos.defined()) {
    Buffer<double> inv(half, "rope_frequencies");
    for (int i = 0; i < half; ++i)
      inv(i) = r.inverseFrequencies[i];
    // Angles in f64: positions reach 1e5 and more.
    Func cosT("rope_cos"), sinT("rope_sin");
    Expr angle = cast<double>(r.pos + s) * inv(k);
    // YaRN's attention factor (1 otherwise, which the simplifier drops).
    Expr factor = Internal::make_const(Float(64), r.attentionFactor);
    cosT(k, s) = cast<float>(cos(angle) * factor);
    sinT(k, s) = cast<float>(sin(angle) * factor);
    stages.ropeCos = cosT;
    stages.ropeSin = sinT;
  }
  Func cosT = stages.ropeCos, sinT = stages.ropeSin;

  Expr j = c % hd;
  Expr first, pair, partner;
  switch (r.layout) {
  case ir::RopeLayout::half:
    first = j < half;
    pair = select(first, j, j - half);
    partner = select(first, c + half, c - half);
    break;
  case ir::RopeLayout::interleaved:
    first = j % 2 == 0;
    pair = j / 2;
    partner = select(first, c + 1, c - 1);
    break;
  }
  pair = clamp(pair, 0, half - 1);
  partner = clamp(partner, 0, features - 1);
  Expr cs = cosT(pair, s), sn = sinT(pair, s);
  Expr rotated = select(first, x(c, s) * cs - x(partner, s) * sn,
                        x(c, s) * cs + x(partner, s) * sn);
  Func out("rope");
  out(c, s) = rd == hd ? rotated : select(j < rd, rotated, x(c, s));
  return out;
}

void addPositionLowerings(LoweringTable &table) {
  table.add(lowerEmbed);
  table.add(lowerPosition);
  table.add(lowerRope);
  table.add(lowerAlibi);
  table.add(lowerRelativeBias);
}

} // namespace tfm::halide
