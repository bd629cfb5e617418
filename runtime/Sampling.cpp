//===- Sampling.cpp - choosing the next token -------------------*- C++ -*-===//

#include "runtime/Sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace tfm::rt;

int32_t tfm::rt::argmax(const float *logits, int64_t vocab) {
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best])
      best = i;
  return int32_t(best);
}

Sampler::Sampler(const SamplingParams &params) : params_(params) {
  // xoshiro256** seeded through splitmix64.
  uint64_t s = params.seed;
  for (uint64_t &word : state_) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    word = z ^ (z >> 31);
  }
}

double Sampler::uniform() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  uint64_t result = rotl(state_[1] * 5, 7) * 9;
  uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return double(result >> 11) * 0x1.0p-53; // [0, 1)
}

int32_t Sampler::sample(const float *logits, int64_t vocab) {
  if (params_.temperature <= 0)
    return argmax(logits, vocab);

  order_.resize(size_t(vocab));
  std::iota(order_.begin(), order_.end(), 0);
  int64_t keep = vocab;
  if (params_.topK > 0 && params_.topK < vocab)
    keep = params_.topK;
  auto byLogit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(),
                    byLogit);

  // Softmax of the kept logits at the given temperature.
  probs_.resize(size_t(keep));
  double maxLogit = logits[order_[0]], sum = 0;
  for (int64_t i = 0; i < keep; ++i) {
    probs_[i] = std::exp((logits[order_[i]] - maxLogit) / params_.temperature);
    sum += probs_[i];
  }
  for (double &p : probs_)
    p /= sum;

  // Nucleus: the shortest prefix whose mass reaches top_p.
  if (params_.topP < 1.0) {
    double mass = 0;
    int64_t n = 0;
    while (n < keep) {
      mass += probs_[n++];
      if (mass >= params_.topP)
        break;
    }
    keep = n;
    for (int64_t i = 0; i < keep; ++i)
      probs_[i] /= mass;
  }

  double u = uniform(), acc = 0;
  for (int64_t i = 0; i < keep; ++i) {
    acc += probs_[i];
    if (u < acc)
      return order_[i];
  }
  return order_[keep - 1];
}
