//===- Moe.cpp - tfm.moe ----------------------------------------*- C++ -*-===//

#include "compiler/interpreter/rules/Rules.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tfm::interp {
namespace {

/// down · (act(gate · x) ⊙ (up · x)) for one token; weights are rows of
/// `ffn` x `dim` (gate, up) and `dim` x `ffn` (down).
void gatedMlp(ir::ActKind act, const float *x, const float *gate,
                     const float *up, const float *down, int64_t dim,
                     int64_t ffn, double weight, std::vector<double> &out) {
  std::vector<double> hidden(static_cast<size_t>(ffn));
  for (int64_t f = 0; f < ffn; ++f) {
    double g = 0, u = 0;
    for (int64_t c = 0; c < dim; ++c) {
      g += double(gate[f * dim + c]) * double(x[c]);
      u += double(up[f * dim + c]) * double(x[c]);
    }
    // Round like an f32 model storing its intermediate activations.
    hidden[f] = double(float(activate(act, float(g)) * double(float(u))));
  }
  for (int64_t c = 0; c < dim; ++c) {
    double acc = 0;
    for (int64_t f = 0; f < ffn; ++f)
      acc += double(down[c * ffn + f]) * hidden[f];
    out[c] += weight * double(float(acc));
  }
}

/// Group-limited routing: the experts of all but the `topGroups` groups
/// with the best top expert score 0 (ties go to the lower group).
void limitToGroups(std::vector<double> &scores, int64_t groups,
                   int64_t topGroups) {
  int64_t size = int64_t(scores.size()) / groups;
  std::vector<double> best(size_t(groups), 0.0);
  for (int64_t g = 0; g < groups; ++g)
    best[size_t(g)] = *std::max_element(scores.begin() + g * size,
                                        scores.begin() + (g + 1) * size);
  for (int64_t g = 0; g < groups; ++g) {
    int64_t above = 0;
    for (int64_t h = 0; h < groups; ++h)
      above += best[size_t(h)] > best[size_t(g)] ||
               (best[size_t(h)] == best[size_t(g)] && h < g);
    if (above >= topGroups)
      std::fill(scores.begin() + g * size, scores.begin() + (g + 1) * size,
                0.0);
  }
}

Status moe(ir::MoeOp m, Frame &frame) {
  const Tensor &x = frame.tensor(m.getInput()), &router = frame.tensor(m.getRouter()),
               &gate = frame.tensor(m.getGate()), &up = frame.tensor(m.getUp()),
               &down = frame.tensor(m.getDown());
  int64_t seq = x.shape[0], dim = x.shape[1], experts = m.getNumExperts(),
          topK = m.getTopK(), ffn = gate.shape[1], groups = m.getNumGroups();
  double routedScale = m.getRoutedScale().convertToDouble();
  Tensor y = Tensor::zeros(x.shape);
  std::vector<double> scores(static_cast<size_t>(experts)), out(static_cast<size_t>(dim));
  std::vector<int64_t> order(static_cast<size_t>(experts));
  for (int64_t i = 0; i < seq; ++i) {
    const float *xi = x.data + i * dim;
    for (int64_t e = 0; e < experts; ++e) {
      double acc = 0;
      for (int64_t c = 0; c < dim; ++c)
        acc += double(router.data[e * dim + c]) * double(xi[c]);
      scores[e] = double(float(acc));
    }
    switch (m.getScoring()) {
    case ir::MoeScoring::softmax: {
      double mx = *std::max_element(scores.begin(), scores.end()), sum = 0;
      for (double &s : scores)
        sum += (s = std::exp(s - mx));
      for (double &s : scores)
        s /= sum;
      break;
    }
    case ir::MoeScoring::sigmoid:
      for (double &s : scores)
        s = 1.0 / (1.0 + std::exp(-s));
      break;
    }
    if (groups > 1)
      limitToGroups(scores, groups, m.getTopGroups());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return scores[a] > scores[b];
    });
    double chosen = 0;
    for (int64_t t = 0; t < topK; ++t)
      chosen += scores[order[t]];
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t t = 0; t < topK; ++t) {
      int64_t e = order[t];
      double w = scores[e] * routedScale;
      if (m.getNormTopk())
        w = scores[e] / chosen * routedScale;
      gatedMlp(m.getAct(), xi, gate.data + e * ffn * dim,
               up.data + e * ffn * dim, down.data + e * dim * ffn, dim, ffn,
               double(float(w)), out);
    }
    if (m.getSharedGate()) {
      const Tensor &sg = frame.tensor(m.getSharedGate()),
                   &su = frame.tensor(m.getSharedUp()),
                   &sd = frame.tensor(m.getSharedDown());
      double w = 1.0;
      if (const Tensor *sr = frame.optTensor(m.getSharedRouter())) {
        double acc = 0;
        for (int64_t c = 0; c < dim; ++c)
          acc += double(sr->data[c]) * double(xi[c]);
        w = 1.0 / (1.0 + std::exp(-acc));
      }
      gatedMlp(m.getAct(), xi, sg.data, su.data, sd.data, dim, sg.shape[0],
               w, out);
    }
    for (int64_t c = 0; c < dim; ++c)
      y.mutableData()[i * dim + c] = float(out[c]);
  }
  frame.set(m.getResult(), std::move(y));
  return Status::ok();
}

} // namespace

void addMoeRules(RuleTable &table) { table.add(moe); }

} // namespace tfm::interp
