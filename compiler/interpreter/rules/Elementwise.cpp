//===- Elementwise.cpp - activations, GLU, add, mul, scale, softcap -*- C++ -*-===//

#include "compiler/interpreter/rules/Rules.h"

#include <cmath>

namespace tfm::interp {
namespace {

template <typename F>
Status binary(Frame &frame, mlir::Value result, mlir::Value lhs,
              mlir::Value rhs, F f) {
  const Tensor &a = frame.tensor(lhs), &b = frame.tensor(rhs);
  if (a.shape != b.shape)
    return Error("elementwise operands differ in shape at run time");
  Tensor y = Tensor::zeros(a.shape);
  for (int64_t i = 0; i < a.numel(); ++i)
    y.mutableData()[i] = float(f(double(a.data[i]), double(b.data[i])));
  frame.set(result, std::move(y));
  return Status::ok();
}

template <typename F>
Status unary(Frame &frame, mlir::Value result, mlir::Value input, F f) {
  const Tensor &x = frame.tensor(input);
  Tensor y = Tensor::zeros(x.shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    y.mutableData()[i] = float(f(double(x.data[i])));
  frame.set(result, std::move(y));
  return Status::ok();
}

Status activation(ir::ActivationOp a, Frame &frame) {
  ir::ActKind kind = a.getKind();
  return unary(frame, a.getResult(), a.getInput(),
               [kind](double x) { return activate(kind, x); });
}

Status glu(ir::GluOp g, Frame &frame) {
  ir::ActKind kind = g.getAct();
  return binary(frame, g.getResult(), g.getGate(), g.getUp(),
                [kind](double gate, double up) {
                  return activate(kind, gate) * up;
                });
}

Status add(ir::AddOp a, Frame &frame) {
  double alpha = a.getAlpha().convertToDouble();
  return binary(frame, a.getResult(), a.getLhs(), a.getRhs(),
                [alpha](double x, double y) { return alpha * x + y; });
}

Status mul(ir::MulOp m, Frame &frame) {
  return binary(frame, m.getResult(), m.getLhs(), m.getRhs(),
                [](double x, double y) { return x * y; });
}

Status scale(ir::ScaleOp s, Frame &frame) {
  double factor = s.getFactor().convertToDouble();
  return unary(frame, s.getResult(), s.getInput(),
               [factor](double x) { return x * factor; });
}

Status softcap(ir::SoftcapOp s, Frame &frame) {
  double cap = s.getCap().convertToDouble();
  return unary(frame, s.getResult(), s.getInput(),
               [cap](double x) { return cap * std::tanh(x / cap); });
}

} // namespace

double activate(ir::ActKind kind, double x) {
  switch (kind) {
  case ir::ActKind::relu:
    return x > 0 ? x : 0;
  case ir::ActKind::gelu:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case ir::ActKind::gelu_tanh:
    return 0.5 * x *
           (1.0 +
            std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case ir::ActKind::silu:
    return x / (1.0 + std::exp(-x));
  case ir::ActKind::relu2:
    return x > 0 ? x * x : 0;
  }
  return x;
}

void addElementwiseRules(RuleTable &table) {
  table.add(activation);
  table.add(glu);
  table.add(add);
  table.add(mul);
  table.add(scale);
  table.add(softcap);
}

} // namespace tfm::interp
