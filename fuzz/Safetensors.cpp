//===- Safetensors.cpp - fuzz the safetensors reader and weight loading ----===//

#include "LoadWeights.h"
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
  tfm::fuzz::loadEveryWay(file.path(), requests, layout);
  return 0;
}
