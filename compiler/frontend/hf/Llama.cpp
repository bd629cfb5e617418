//===- Llama.cpp - llama, mistral, mixtral and olmo2 configs ----*- C++ -*-===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readLlama(JsonFields &f, const std::string &type) {
  ModelSpec spec = readLlamaStyle(f, type);
  readAttentionBias(f, spec);
  f.boolean("mlp_bias", spec.ffn.bias);
  return finish(f, spec);
}

std::optional<ModelSpec> hf::readOlmo2(JsonFields &f, const std::string &type) {
  LlamaKeys keys;
  keys.normEps = 1e-5;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  readAttentionBias(f, spec);
  // Norms after each sublayer, and over all of Q and K.
  spec.placement = NormPlacement::PostSublayer;
  spec.weightNaming = "sandwich";
  spec.attention.qkNorm = QkNorm::Full;
  return finish(f, spec);
}

std::optional<ModelSpec> hf::readMistral(JsonFields &f,
                                         const std::string &type) {
  bool mixtral = type == "mixtral";
  LlamaKeys keys;
  if (mixtral) {
    keys.normEps = 1e-5;
    keys.ropeTheta = 1e6;
  }
  ModelSpec spec = readLlamaStyle(f, type, keys);
  readSlidingWindow(f, spec, mixtral ? 0 : 4096);
  if (mixtral) {
    MoeSpec &moe = spec.ffn.moe;
    moe.numExperts = 8;
    moe.topK = 2;
    f.integer("num_local_experts", moe.numExperts, 1);
    f.integer("num_experts_per_tok", moe.topK, 1);
    moe.normTopK = true;
  }
  return finish(f, spec);
}

// llama.cpp's llama (also Mistral's and Mixtral's files): its converter
// stores Q and K for RoPE over interleaved pairs.
void hf::ggufLlama(GgufFields &, ModelSpec &spec) {
  spec.attention.rope.layout = RopeLayout::interleaved;
}

// llama.cpp's olmo2: its tensors show the norms after each sublayer and
// over all of Q and K.
void hf::ggufOlmo2(GgufFields &, ModelSpec &) {}
