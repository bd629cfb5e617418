//===- Cohere.cpp - cohere configs (Command R) ------------------*- C++ -*-===//
//
// A parallel block on one LayerNorm without bias, RoPE over interleaved
// pairs (the checkpoints store Q and K in that order), and logits scaled by
// logit_scale.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readCohere(JsonFields &f,
                                        const std::string &type) {
  LlamaKeys keys;
  keys.norm = NormKind::layer;
  keys.normEps = 1e-5;
  keys.normEpsKey = "layer_norm_eps";
  keys.tied = true;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "cohere";
  spec.norm.bias = false;
  spec.attention.rope.layout = RopeLayout::interleaved;
  readAttentionBias(f, spec);
  spec.parallel = spec.sharedNorm = true;
  spec.logitScale = 0.0625;
  f.number("logit_scale", spec.logitScale, /*positive=*/true);
  bool qkNorm = false;
  f.boolean("use_qk_norm", qkNorm);
  if (qkNorm) // a LayerNorm over each head, with gains of its own
    spec.attention.qkNorm = QkNorm::PerHeadGains;
  return finish(f, spec);
}

// llama.cpp's command-r: the same block; the converter keeps Cohere's
// interleaved Q/K rows, and the file's logit_scale multiplies the logits.
void hf::ggufCommandR(GgufFields &f, ModelSpec &spec) {
  spec.attention.rope.layout = RopeLayout::interleaved;
  spec.parallel = spec.sharedNorm = true;
  spec.logitScale = 0.0625;
  f.archNumber("logit_scale", spec.logitScale, /*positive=*/true);
}
