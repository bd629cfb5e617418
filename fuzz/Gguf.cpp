//===- Gguf.cpp - fuzz the GGUF reader and weight loading ------------------===//
//
// Any bytes: GgufFile::open reads or refuses them; what it reads, the
// weight loader maps to tfm weights (names, shapes, dtypes, conversions)
// for a small llama.

#include "LoadWeights.h"
#include "MemFile.h"

#include "runtime/Gguf.h"
#include "runtime/Weights.h"

using namespace tfm::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfm::fuzz::MemFile file(data, size);
  auto gguf = GgufFile::open(file.path());
  if (!gguf)
    return 0;
  for (const std::string &name : (*gguf)->tensorNames())
    (void)(*gguf)->find(name);
  WeightLayout layout;
  layout.numHeads = 4;
  layout.numKvHeads = 2;
  layout.headDim = 16;
  layout.rotaryDim = 16;
  layout.ropeInterleaved = true;
  layout.layers = 1;
  layout.hidden = 64;
  static const std::vector<WeightRequest> requests = {
      {"embed.weight", {6, 64}},
      {"layers.0.attn_norm.weight", {64}},
      {"layers.0.attn.q.weight", {64, 64}},
      {"layers.0.attn.k.weight", {32, 64}},
      {"lm_head.weight", {6, 64}},
  };
  tfm::fuzz::loadEveryWay(file.path(), requests, layout);
  return 0;
}
