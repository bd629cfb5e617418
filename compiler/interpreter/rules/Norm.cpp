//===- Norm.cpp - tfm.norm and tfm.add_norm ---------------------*- C++ -*-===//

#include "compiler/interpreter/rules/Rules.h"

#include <cmath>

namespace tfm::interp {
namespace {

Status norm(ir::NormOp n, Frame &frame) {
  frame.set(n.getResult(),
            normalize(frame.tensor(n.getInput()),
                      frame.optTensor(n.getGain()),
                      frame.optTensor(n.getBias()), n.getKind(),
                      n.getEps().convertToDouble(), n.getGroupSizeOrRow(),
                      n.getGainOffset().convertToDouble()));
  return Status::ok();
}

/// The sum as tfm.add computes it, then the norm of the sum.
Status addNorm(ir::AddNormOp a, Frame &frame) {
  const Tensor &lhs = frame.tensor(a.getLhs()), &rhs = frame.tensor(a.getRhs());
  double alpha = a.getAlpha().convertToDouble();
  Tensor sum = Tensor::zeros(lhs.shape);
  for (int64_t i = 0; i < lhs.numel(); ++i)
    sum.mutableData()[i] = float(alpha * lhs.data[i] + double(rhs.data[i]));
  frame.set(a.getNormed(),
            normalize(sum, frame.optTensor(a.getGain()),
                      frame.optTensor(a.getBias()), a.getKind(),
                      a.getEps().convertToDouble(), lhs.shape[1],
                      a.getGainOffset().convertToDouble()));
  frame.set(a.getSum(), std::move(sum));
  return Status::ok();
}

} // namespace

Tensor normalize(const Tensor &x, const Tensor *gain, const Tensor *bias,
                 ir::NormKind kind, double eps, int64_t group, double offset) {
  bool rms = true;
  switch (kind) {
  case ir::NormKind::rms:
    break;
  case ir::NormKind::layer:
    rms = false;
    break;
  }
  Tensor y = Tensor::zeros(x.shape);
  for (int64_t g = 0; g < x.numel() / group; ++g) {
    const float *in = x.data + g * group;
    float *out = y.mutableData() + g * group;
    double mean = 0;
    if (!rms) {
      for (int64_t i = 0; i < group; ++i)
        mean += in[i];
      mean /= double(group);
    }
    double var = 0;
    for (int64_t i = 0; i < group; ++i)
      var += (in[i] - mean) * (in[i] - mean);
    double inv = 1.0 / std::sqrt(var / double(group) + eps);
    for (int64_t i = 0; i < group; ++i) {
      double v = (in[i] - mean) * inv;
      // A gain of the group's size is shared by every group; one of the
      // row's size has a value per feature (a gain per head).
      if (gain)
        v *= double(gain->data[(g * group + i) % gain->numel()]) + offset;
      if (bias)
        v += bias->data[(g * group + i) % bias->numel()];
      out[i] = float(v);
    }
  }
  return y;
}

void addNormRules(RuleTable &table) {
  table.add(norm);
  table.add(addNorm);
}

} // namespace tfm::interp
