//===- Gguf.cpp - fuzz the GGUF reader and weight loading ------------------===//
//
// Any bytes: GgufFile::open reads or refuses them; what it reads, the
// weight loader maps to tfm weights (names, shapes, dtypes, conversions)
// for a small llama.

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
