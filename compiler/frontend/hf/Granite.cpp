//===- Granite.cpp - granite configs ----------------------------*- C++ -*-===//
//
// Llama-style, with four multipliers: the embeddings' (embedding_multiplier),
// the attention scale (attention_multiplier, in place of 1/√head_dim), each
// sublayer's output before its residual add (residual_multiplier), and the
// logits' divisor (logits_scaling).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readGranite(JsonFields &f,
                                         const std::string &type) {
  LlamaKeys keys;
  keys.tied = true;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  readAttentionBias(f, spec);
  f.boolean("mlp_bias", spec.ffn.bias);
  f.number("embedding_multiplier", spec.embeddingScale, /*positive=*/true);
  double attention = 1.0, logits = 1.0;
  f.number("attention_multiplier", attention, /*positive=*/true);
  spec.attention.scale = attention;
  f.number("residual_multiplier", spec.branchScale, /*positive=*/true);
  f.number("logits_scaling", logits, /*positive=*/true);
  spec.logitScale = 1.0 / logits;
  return finish(f, spec);
}

// llama.cpp's granite: llama's layout, the multipliers as keys; the file's
// logit_scale divides the logits.
void hf::ggufGranite(GgufFields &f, ModelSpec &spec) {
  ggufLlama(f, spec);
  f.archNumber("embedding_scale", spec.embeddingScale, /*positive=*/true);
  double attention = 1.0, logits = 1.0;
  if (f.archNumber("attention.scale", attention, /*positive=*/true))
    spec.attention.scale = attention;
  f.archNumber("residual_scale", spec.branchScale, /*positive=*/true);
  f.archNumber("logit_scale", logits, /*positive=*/true);
  spec.logitScale = 1.0 / logits;
}
