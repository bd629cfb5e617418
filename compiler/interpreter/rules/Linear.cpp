//===- Linear.cpp - projections: linear, lm_head, linear_glu, qkv_rope -*- C++ -*-===//
//
// The fused projections do the same arithmetic as the ops they replace,
// op by op.
//
//===----------------------------------------------------------------------===//

#include "compiler/interpreter/rules/Rules.h"
#include "runtime/Half.h"
#include "runtime/Quant.h"

namespace tfm::interp {
namespace {

/// Columns [from, from + count) of a seq x features tensor.
Tensor columns(const Tensor &x, int64_t from, int64_t count) {
  int64_t seq = x.shape[0], features = x.shape[1];
  Tensor y = Tensor::zeros({seq, count});
  for (int64_t i = 0; i < seq; ++i)
    std::copy_n(x.data + i * features + from, count,
                y.mutableData() + i * count);
  return y;
}

/// `x` with each value rounded to bf16 (to nearest, ties to even).
Tensor roundedToBf16(const Tensor &x) {
  Tensor y = Tensor::zeros(x.shape);
  for (int64_t i = 0; i < x.numel(); ++i)
    y.mutableData()[i] = rt::bf16ToFloat(rt::floatToBf16(x.data[i]));
  return y;
}

/// A product's input, each row rounded per block as `quant` says (the
/// input itself when it says nothing).
Tensor productInput(const Tensor &x, std::optional<ir::ActQuant> quant) {
  if (!quant)
    return x;
  if (*quant == ir::ActQuant::bf16)
    return roundedToBf16(x);
  rt::ActQuant rounding =
      *quant == ir::ActQuant::q8_0 ? rt::ActQuant::Q8_0 : rt::ActQuant::Q8_K;
  Tensor y = Tensor::zeros(x.shape);
  int64_t features = x.shape[1];
  for (int64_t i = 0; i < x.shape[0]; ++i)
    rt::roundActivations(rounding, x.data + i * features, features,
                         y.mutableData() + i * features);
  return y;
}

/// A product's weight as `quant` says it meets the input: rounded to bf16
/// for a bf16 product over a matrix stored otherwise (f32 or f16).
Tensor productWeight(mlir::Value weight, std::optional<ir::ActQuant> quant,
                     Frame &frame) {
  const Tensor &w = frame.tensor(weight);
  if (quant != ir::ActQuant::bf16 ||
      ir::storageOf(weight.getType()) == ir::Storage::bf16)
    return w;
  return roundedToBf16(w);
}

Status linearOp(ir::LinearOp l, Frame &frame) {
  frame.set(l.getResult(),
            linear(productInput(frame.tensor(l.getInput()), l.getActQuant()),
                   productWeight(l.getWeight(), l.getActQuant(), frame),
                   frame.optTensor(l.getBias())));
  return Status::ok();
}

Status lmHead(ir::LmHeadOp l, Frame &frame) {
  frame.set(l.getResult(),
            linear(productInput(frame.tensor(l.getInput()), l.getActQuant()),
                   productWeight(l.getWeight(), l.getActQuant(), frame),
                   frame.optTensor(l.getBias())));
  return Status::ok();
}

Status linearGlu(ir::LinearGluOp g, Frame &frame) {
  Tensor all =
      linear(productInput(frame.tensor(g.getInput()), g.getActQuant()),
             productWeight(g.getWeight(), g.getActQuant(), frame),
             frame.optTensor(g.getBias()));
  int64_t f = all.shape[1] / 2;
  Tensor gate = columns(all, 0, f), up = columns(all, f, f);
  Tensor y = Tensor::zeros(gate.shape);
  for (int64_t i = 0; i < gate.numel(); ++i)
    y.mutableData()[i] =
        float(activate(g.getAct(), gate.data[i]) * double(up.data[i]));
  frame.set(g.getResult(), std::move(y));
  return Status::ok();
}

Status qkvRope(ir::QkvRopeOp op, Frame &frame) {
  Tensor all =
      linear(productInput(frame.tensor(op.getInput()), op.getActQuant()),
             productWeight(op.getWeight(), op.getActQuant(), frame),
             frame.optTensor(op.getBias()));
  int64_t hd = op.getHeadDim(), qw = op.getNumHeads() * hd,
          kw = op.getNumKvHeads() * hd,
          vw = op.getNumKvHeads() * op.getVHeadDim();
  Tensor q = columns(all, 0, qw), k = columns(all, qw, kw),
         v = columns(all, qw + kw, vw);
  if (auto kind = op.getNorm()) {
    double eps = op.getNormEps()->convertToDouble(),
           offset = op.getNormGainOffset().convertToDouble();
    auto group = op.getNormGroup();
    q = normalize(q, &frame.tensor(op.getQGain()), nullptr, *kind, eps,
                  group ? int64_t(*group) : qw, offset);
    k = normalize(k, &frame.tensor(op.getKGain()), nullptr, *kind, eps,
                  group ? int64_t(*group) : kw, offset);
  }
  int64_t pos = frame.index(op.getPos());
  llvm::SmallVector<double> inv = op.getInverseFrequencies();
  double factor = op.getAttentionFactor();
  frame.set(op.getQuery(), rotate(q, pos, hd, op.getRotaryDim(), factor,
                                  op.getLayout(), inv));
  frame.set(op.getKey(), rotate(k, pos, hd, op.getRotaryDim(), factor,
                                op.getLayout(), inv));
  frame.set(op.getValue(), std::move(v));
  return Status::ok();
}

/// Head h of the result: input head h times weight[h]ᵀ (or weight[h] as
/// stored, when transposed).
Status headLinear(ir::HeadLinearOp op, Frame &frame) {
  const Tensor &x = frame.tensor(op.getInput());
  const Tensor &w = frame.tensor(op.getWeight());
  int64_t seq = x.shape[0], heads = op.getNumHeads(),
          in = op.getInFeatures(), out = op.getOutFeatures();
  bool transposed = op.getTransposeWeight();
  Tensor y = Tensor::zeros({seq, heads * out});
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t h = 0; h < heads; ++h) {
      const float *xh = x.data + i * heads * in + h * in;
      const float *wh = w.data + h * in * out;
      for (int64_t n = 0; n < out; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < in; ++k)
          acc += double(xh[k]) *
                 double(transposed ? wh[k * out + n] : wh[n * in + k]);
        y.mutableData()[i * heads * out + h * out + n] = float(acc);
      }
    }
  frame.set(op.getResult(), std::move(y));
  return Status::ok();
}

} // namespace

Tensor linear(const Tensor &x, const Tensor &w, const Tensor *b) {
  int64_t seq = x.shape[0], k = x.shape[1], n = w.shape[0];
  Tensor y = Tensor::zeros({seq, n});
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = b ? double(b->data[j]) : 0.0;
      const float *xr = x.data + i * k, *wr = w.data + j * k;
      for (int64_t c = 0; c < k; ++c)
        acc += double(xr[c]) * double(wr[c]);
      y.mutableData()[i * n + j] = float(acc);
    }
  return y;
}

void addLinearRules(RuleTable &table) {
  table.add(linearOp);
  table.add(lmHead);
  table.add(linearGlu);
  table.add(qkvRope);
  table.add(headLinear);
}

} // namespace tfm::interp
