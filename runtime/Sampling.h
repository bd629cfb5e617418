//===- Sampling.h - choosing the next token ---------------------*- C++ -*-===//
//
// Greedy, temperature, top-k and top-p sampling with a seeded generator whose
// output is the same on every platform.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_SAMPLING_H
#define TFM_RUNTIME_SAMPLING_H

#include <cstdint>
#include <vector>

namespace tfm::rt {

struct SamplingParams {
  /// 0 picks the arg max (greedy); otherwise logits are divided by it.
  double temperature = 0;
  /// Keep the k most likely tokens (0: all).
  int64_t topK = 0;
  /// Keep the smallest set of most likely tokens whose mass reaches p.
  double topP = 1.0;
  uint64_t seed = 0;
};

class Sampler {
public:
  explicit Sampler(const SamplingParams &params);
  /// Picks a token id from one row of `vocab` logits.
  int32_t sample(const float *logits, int64_t vocab);

private:
  double uniform();
  SamplingParams params_;
  uint64_t state_[4];
  std::vector<int32_t> order_;
  std::vector<double> probs_;
};

/// Index of the largest logit; the lowest index among equal maxima.
int32_t argmax(const float *logits, int64_t vocab);

} // namespace tfm::rt

#endif // TFM_RUNTIME_SAMPLING_H
