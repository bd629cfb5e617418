//===- GptNeox.cpp - gpt_neox configs ---------------------------*- C++ -*-===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readGptNeox(JsonFields &f,
                                         const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  AttentionSpec &attn = spec.attention;
  readSizes(f, type, spec);
  f.requiredInteger("intermediate_size", spec.ffn.hiddenSize, 1);
  f.number("layer_norm_eps", spec.norm.eps, /*positive=*/true);
  readActivation(f, "hidden_act", "gelu", spec);
  f.boolean("attention_bias", attn.qkvBias);
  attn.outBias = attn.qkvBias;
  spec.parallel = true;
  f.boolean("use_parallel_residual", spec.parallel);
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);
  attn.position = AttentionPosition::Rope;
  f.number("rotary_emb_base", attn.rope.theta, /*positive=*/true);
  f.number("rope_theta", attn.rope.theta, /*positive=*/true);
  double pct = 0.25;
  f.number("rotary_pct", pct, /*positive=*/true);
  f.number("partial_rotary_factor", pct, /*positive=*/true);
  if (attn.numHeads > 0)
    attn.rope.rotaryDim = partialRotary(f.diags(), "rotary_pct",
                                        spec.hiddenSize / attn.numHeads, pct);
  readRopeScaling(f, spec);
  ignore(f, {"classifier_dropout"});
  return finish(f, spec);
}

// llama.cpp's gptneox: its converter stores the fused Q/K/V one after
// another; the block is parallel unless use_parallel_residual says not.
// GPT-NeoX's MLP uses the exact GELU (llama.cpp computes the tanh
// approximation).
void hf::ggufGptNeox(GgufFields &f, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu;
  spec.parallel = true;
  f.archBoolean("use_parallel_residual", spec.parallel);
}
