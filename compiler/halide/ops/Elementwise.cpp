//===- Elementwise.cpp - activations, GLU, add, mul, scale, softcap, join ===//
//
// Element by element: each inlines into the stage that reads it.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

#include <cmath>

using namespace Halide;

namespace tfm::halide {
namespace {

/// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), evaluated in f64.
Expr erfApprox(Expr x) {
  auto k = [](double v) { return Expr(v); }; // f64 constants
  Expr a = abs(cast<double>(x));
  Expr t = k(1.0) / (k(1.0) + k(0.3275911) * a);
  Expr poly =
      t * (k(0.254829592) +
           t * (k(-0.284496736) +
                t * (k(1.421413741) +
                     t * (k(-1.453152027) + t * k(1.061405429)))));
  Expr y = k(1.0) - poly * exp(-a * a);
  return cast<float>(select(x < 0, -y, y));
}

void lowerActivation(ir::ActivationOp a, Lowering &l) {
  Var c("c"), s("s");
  Func in = l.f(a.getInput()), out("activation");
  out(c, s) = activate(a.getKind(), in(c, s));
  l.define(a.getResult(), out);
}

void lowerGlu(ir::GluOp g, Lowering &l) {
  Var c("c"), s("s");
  Func gate = l.f(g.getGate()), up = l.f(g.getUp()), out("glu");
  out(c, s) = activate(g.getAct(), gate(c, s)) * up(c, s);
  l.define(g.getResult(), out);
}

void lowerAdd(ir::AddOp a, Lowering &l) {
  l.define(a.getResult(), residualAdd(l.f(a.getLhs()), l.f(a.getRhs()),
                                      a.getAlpha().convertToDouble()));
}

void lowerMul(ir::MulOp m, Lowering &l) {
  Var c("c"), s("s");
  Func lhs = l.f(m.getLhs()), rhs = l.f(m.getRhs()), out("mul");
  out(c, s) = lhs(c, s) * rhs(c, s);
  l.define(m.getResult(), out);
}

void lowerScale(ir::ScaleOp m, Lowering &l) {
  Var c("c"), s("s");
  Func in = l.f(m.getInput()), out("scale");
  out(c, s) = in(c, s) * float(m.getFactor().convertToDouble());
  l.define(m.getResult(), out);
}

void lowerSoftcap(ir::SoftcapOp m, Lowering &l) {
  Var c("c"), s("s");
  Func in = l.f(m.getInput()), out("softcap");
  float cap = float(m.getCap().convertToDouble());
  out(c, s) = cap * tanh(in(c, s) / cap);
  l.define(m.getResult(), out);
}

/// tfm.join: group g of lhs, then group g of rhs, in each group of the
/// result.
void lowerJoin(ir::JoinOp op, Lowering &l) {
  Var c("c"), s("s");
  Func lhs = l.f(op.getLhs()), rhs = l.f(op.getRhs()), out("join");
  int groups = int(op.getGroups());
  int a = int(Lowering::size(op.getLhs(), 1)) / groups,
      b = int(Lowering::size(op.getRhs(), 1)) / groups;
  Expr g = c / (a + b), i = c % (a + b);
  out(c, s) = select(i < a, lhs(g * a + min(i, a - 1), s),
                     rhs(g * b + max(i - a, 0), s));
  l.define(op.getResult(), out);
}

} // namespace

Expr activate(ir::ActKind kind, Expr x) {
  switch (kind) {
  case ir::ActKind::relu:
    return max(x, 0.0f);
  case ir::ActKind::gelu:
    return 0.5f * x * (1.0f + erfApprox(x * float(M_SQRT1_2)));
  case ir::ActKind::gelu_tanh:
    return 0.5f * x *
           (1.0f + tanh(float(std::sqrt(2.0 / M_PI)) *
                        (x + 0.044715f * x * x * x)));
  case ir::ActKind::silu:
    return x / (1.0f + exp(-x));
  case ir::ActKind::relu2: {
    Expr r = max(x, 0.0f);
    return r * r;
  }
  }
  return x;
}

Func residualAdd(Func lhs, Func rhs, double alpha) {
  Var c("c"), s("s");
  Func out("add");
  out(c, s) = alpha == 1.0 ? lhs(c, s) + rhs(c, s)
                           : float(alpha) * lhs(c, s) + rhs(c, s);
  return out;
}

void addElementwiseLowerings(LoweringTable &table) {
  table.add(lowerActivation);
  table.add(lowerGlu);
  table.add(lowerAdd);
  table.add(lowerMul);
  table.add(lowerScale);
  table.add(lowerSoftcap);
  table.add(lowerJoin);
}

} // namespace tfm::halide
