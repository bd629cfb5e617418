//===- Norm.cpp - tfm.norm and tfm.add_norm ---------------------*- C++ -*-===//
//
// A norm's statistics are reductions over a row (or a head's group of
// features); the schedule computes them once per row, before the row. A
// norm read by a projection of its kernel is that kernel's prologue.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

using namespace Halide;

namespace tfm::halide {
namespace {

/// Defines a normalized value. One read by another op of its kernel
/// (norms are there only before a projection) is that op's prologue.
void defineNorm(Lowering &l, mlir::Value result, Func out) {
  if (result.hasOneUse() &&
      !mlir::isa<ir::YieldOp>(*result.getUsers().begin()))
    l.stages.prologue = out;
  l.define(result, out);
}

void lowerNorm(ir::NormOp n, Lowering &l) {
  NormParams params{int(n.getGroupSizeOrRow()),
                    n.getKind(),
                    float(n.getEps().convertToDouble()),
                    l.optional(n.getGain()),
                    l.optional(n.getBias()),
                    float(n.getGainOffset().convertToDouble())};
  mlir::Value affine = n.getGain() ? n.getGain() : n.getBias();
  params.perFeature =
      affine && Lowering::size(affine, 0) != n.getGroupSizeOrRow();
  defineNorm(l, n.getResult(),
             normalize(l.f(n.getInput()), params, l.stages.norm, ""));
}

/// tfm.add_norm: the residual sum (as tfm.add computes it), and its norm
/// over whole rows, which is the prologue of a projection reading it in
/// the same kernel.
void lowerAddNorm(ir::AddNormOp a, Lowering &l) {
  Func sum = residualAdd(l.f(a.getLhs()), l.f(a.getRhs()),
                         a.getAlpha().convertToDouble());
  l.define(a.getSum(), sum);
  NormParams params{int(Lowering::size(a.getLhs(), 1)),
                    a.getKind(),
                    float(a.getEps().convertToDouble()),
                    l.optional(a.getGain()),
                    l.optional(a.getBias()),
                    float(a.getGainOffset().convertToDouble())};
  defineNorm(l, a.getNormed(), normalize(sum, params, l.stages.norm, ""));
}

} // namespace

Func normalize(Func x, const NormParams &n, NormStages &stages,
               const std::string &prefix) {
  // RMSNorm: x / sqrt(mean(x²) + eps); LayerNorm subtracts the mean first.
  bool rms = true;
  switch (n.kind) {
  case ir::NormKind::rms:
    break;
  case ir::NormKind::layer:
    rms = false;
    break;
  }
  int group = n.group;
  Var c("c"), s("s"), g("g");
  RDom r(0, group, "i");
  Func mean(prefix + "mean"), stats(prefix + "stats");
  if (rms) {
    stats(g, s) += x(g * group + r, s) * x(g * group + r, s);
  } else {
    mean(g, s) += x(g * group + r, s);
    Expr m = mean(g, s) / float(group);
    Expr d = x(g * group + r, s) - m;
    stats(g, s) += d * d;
    stages.mean = mean;
  }
  stages.stats = stats;
  Expr centered = rms ? x(c, s) : x(c, s) - mean(c / group, s) / float(group);
  Expr y = centered / sqrt(stats(c / group, s) / float(group) + n.eps);
  Expr at = n.perFeature ? Expr(c) : c % group;
  if (n.gain.defined())
    y = y * (n.gainOffset == 0.0f ? n.gain(at) : n.gain(at) + n.gainOffset);
  if (n.bias.defined())
    y = y + n.bias(at);
  Func out(prefix + "norm");
  out(c, s) = y;
  return out;
}

void addNormLowerings(LoweringTable &table) {
  table.add(lowerNorm);
  table.add(lowerAddNorm);
}

} // namespace tfm::halide
