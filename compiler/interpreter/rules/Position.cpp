//===- Position.cpp - embeddings and position schemes -----------*- C++ -*-===//

#include "compiler/interpreter/rules/Rules.h"

#include <cmath>

using llvm::formatv;

namespace tfm::interp {
namespace {

Status embed(ir::EmbedOp e, Frame &frame) {
  const Tensor &table = frame.tensor(e.getTable());
  const Tokens &tokens = std::get<Tokens>(frame[e.getTokens()]);
  int64_t vocab = table.shape[0], dim = table.shape[1];
  Tensor y = Tensor::zeros({int64_t(tokens.size()), dim});
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return Error(formatv("token id {0} is out of range for a vocabulary "
                           "of {1}",
                           tokens[i], vocab)
                       .str());
    std::copy_n(table.data + tokens[i] * dim, dim,
                y.mutableData() + int64_t(i) * dim);
  }
  frame.set(e.getResult(), std::move(y));
  return Status::ok();
}

Status position(ir::PositionOp p, Frame &frame) {
  const Tensor &x = frame.tensor(p.getInput());
  int64_t seq = x.shape[0], dim = x.shape[1], pos = frame.index(p.getPos());
  Tensor y = Tensor::zeros(x.shape);
  const Tensor *table = frame.optTensor(p.getTable());
  if (table && pos + seq > table->shape[0])
    return Error(formatv("position {0} is beyond the {1} learned positions",
                         pos + seq - 1, table->shape[0])
                     .str());
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t f = 0; f < dim; ++f) {
      double pe;
      if (table) {
        pe = table->data[(pos + i) * dim + f];
      } else {
        double angle = double(pos + i) /
                       std::pow(10000.0, double(f - f % 2) / double(dim));
        pe = f % 2 == 0 ? std::sin(angle) : std::cos(angle);
      }
      y.mutableData()[i * dim + f] = float(x.data[i * dim + f] + pe);
    }
  frame.set(p.getResult(), std::move(y));
  return Status::ok();
}

Status rope(ir::RopeOp r, Frame &frame) {
  frame.set(r.getResult(),
            rotate(frame.tensor(r.getInput()), frame.index(r.getPos()),
                   r.getHeadDim(), r.getRotaryDim(), r.getAttentionFactor(),
                   r.getLayout(), r.getInverseFrequencies()));
  return Status::ok();
}

Status alibi(ir::AlibiOp a, Frame &frame) {
  int64_t heads = a.getNumHeads(), pos = frame.index(a.getPos()),
          seq = frame.index(a.getQueryLen()), len = frame.index(a.getKeyLen());
  llvm::SmallVector<double> slopes = ir::AlibiOp::getSlopes(heads);
  // Rounded as the kernels' slope table is.
  for (double &slope : slopes)
    slope = float(slope * a.getSlopeScale().convertToDouble());
  Tensor y = Tensor::zeros({heads, seq, len});
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j < len; ++j)
        y.mutableData()[(h * seq + i) * len + j] =
            float(slopes[h] * double(j - (pos + i)));
  frame.set(a.getResult(), std::move(y));
  return Status::ok();
}

Status relativeBias(ir::RelativeBiasOp r, Frame &frame) {
  const Tensor &table = frame.tensor(r.getTable());
  int64_t heads = table.shape[1], pos = frame.index(r.getPos()),
          seq = frame.index(r.getQueryLen()), len = frame.index(r.getKeyLen());
  Tensor y = Tensor::zeros({heads, seq, len});
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t j = 0; j < len; ++j) {
      int64_t bucket = ir::RelativeBiasOp::getBucket(
          j - (pos + i), r.getBidirectional(), r.getNumBuckets(),
          r.getMaxDistance());
      for (int64_t h = 0; h < heads; ++h)
        y.mutableData()[(h * seq + i) * len + j] =
            table.data[bucket * heads + h];
    }
  frame.set(r.getResult(), std::move(y));
  return Status::ok();
}

} // namespace

Tensor rotate(const Tensor &x, int64_t pos, int64_t hd, int64_t rd,
              double attentionFactor,
              ir::RopeLayout layout, llvm::ArrayRef<double> inv) {
  int64_t seq = x.shape[0], features = x.shape[1], half = rd / 2;
  bool interleaved = false;
  switch (layout) {
  case ir::RopeLayout::half:
    break;
  case ir::RopeLayout::interleaved:
    interleaved = true;
    break;
  }
  Tensor y = Tensor::zeros(x.shape);
  std::copy_n(x.data, x.numel(), y.mutableData());
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t h = 0; h < features / hd; ++h) {
      const float *in = x.data + i * features + h * hd;
      float *out = y.mutableData() + i * features + h * hd;
      for (int64_t k = 0; k < half; ++k) {
        double angle = double(pos + i) * inv[k];
        // As the kernels' tables: each scaled product rounded to f32.
        double c = float(std::cos(angle) * attentionFactor),
               s = float(std::sin(angle) * attentionFactor);
        int64_t a = interleaved ? 2 * k : k;
        int64_t b = interleaved ? 2 * k + 1 : k + half;
        out[a] = float(in[a] * c - in[b] * s);
        out[b] = float(in[b] * c + in[a] * s);
      }
    }
  return y;
}

void addPositionRules(RuleTable &table) {
  table.add(embed);
  table.add(position);
  table.add(rope);
  table.add(alibi);
  table.add(relativeBias);
}

} // namespace tfm::interp
