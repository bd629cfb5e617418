//===- Gpt2.cpp - gpt2 configs ----------------------------------*- C++ -*-===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readGpt2(JsonFields &f, const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  f.string("_name_or_path", spec.name);
  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  f.requiredInteger("n_embd", spec.hiddenSize, 1);
  f.requiredInteger("n_layer", spec.numLayers, 1);
  f.requiredInteger("n_head", spec.attention.numHeads, 1);
  f.integer("n_positions", spec.maxSeqLen, 1);
  spec.ffn.hiddenSize = 4 * spec.hiddenSize;
  f.integer("n_inner", spec.ffn.hiddenSize, 1);
  f.number("layer_norm_epsilon", spec.norm.eps, /*positive=*/true);
  readActivation(f, "activation_function", "gelu_new", spec);
  readTokenId(f, "bos_token_id", spec.bosTokenId);
  readTokenId(f, "eos_token_id", spec.eosTokenId);
  spec.absolutePosition = AbsolutePosition::Learned;
  spec.attention.position = AttentionPosition::None;
  spec.tieEmbeddings = true;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);
  bool scaled = true, byLayer = false;
  f.boolean("scale_attn_weights", scaled);
  if (!scaled)
    spec.attention.scale = 1.0;
  f.boolean("scale_attn_by_inverse_layer_idx", byLayer);
  if (byLayer)
    f.diags().error("scale_attn_by_inverse_layer_idx",
                    "per-layer attention scaling is not supported");
  // Upcasting and reordering only change fp16 numerics.
  ignore(f, {"reorder_and_upcast_attn", "attn_pdrop", "summary_activation",
             "summary_first_dropout", "summary_proj_to_labels",
             "summary_type", "summary_use_proj", "n_ctx"});
  return finish(f, spec);
}

// llama.cpp's gpt2: learned positions (position_embd), a GELU (tanh) MLP;
// its converter stores c_attn transposed, Q/K/V one after another.
void hf::ggufGpt2(GgufFields &, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu_tanh;
  spec.attention.position = AttentionPosition::None;
}
