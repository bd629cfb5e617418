//===- Safetensors.cpp - fuzz the safetensors reader and weight loading ----===//

#include "MemFile.h"

#include "runtime/Weights.h"

using namespace tfm::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfm::fuzz::MemFile file(data, size);
  auto source = openSafetensors(file.path());
  if (!source)
    return 0;
  for (const std::string &name : (*source)->tensorNames())
    (void)(*source)->find(name);
  WeightLayout layout;
  layout.numHeads = 4;
  layout.numKvHeads = 4;
  layout.headDim = 16;
  layout.rotaryDim = 16;
  static const std::vector<WeightRequest> requests = {
      {"embed.weight", {256, 64}},
      {"layers.0.attn_norm.weight", {64}},
      {"layers.0.attn.q.weight", {64, 64}},
      {"lm_head.weight", {256, 64}},
  };
  (void)loadWeights(file.path(), requests, layout);
  // The same with the matrices kept in 16 bits (views of the file, or
  // repacked without widening).
  for (DType storage : {DType::F16, DType::BF16}) {
    std::vector<WeightRequest> narrow = requests;
    for (WeightRequest &r : narrow)
      if (r.shape.size() == 2)
        r.storage = storage;
    (void)loadWeights(file.path(), narrow, layout);
  }
  return 0;
}
