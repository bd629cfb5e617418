//===- Bloom.cpp - bloom configs --------------------------------*- C++ -*-===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readBloom(JsonFields &f, const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  f.string("_name_or_path", spec.name);
  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  if (!f.integer("hidden_size", spec.hiddenSize, 1) &&
      !f.integer("n_embed", spec.hiddenSize, 1))
    f.requiredInteger("hidden_size", spec.hiddenSize, 1);
  f.raw("n_embed");
  if (!f.integer("n_layer", spec.numLayers, 1))
    f.requiredInteger("num_hidden_layers", spec.numLayers, 1);
  if (!f.integer("n_head", spec.attention.numHeads, 1))
    f.requiredInteger("num_attention_heads", spec.attention.numHeads, 1);
  f.number("layer_norm_epsilon", spec.norm.eps, /*positive=*/true);
  readTokenId(f, "bos_token_id", spec.bosTokenId);
  readTokenId(f, "eos_token_id", spec.eosTokenId);
  spec.ffn.hiddenSize = 4 * spec.hiddenSize;
  spec.ffn.activation = Activation::gelu_tanh;
  spec.embeddingNorm = true;
  spec.attention.position = AttentionPosition::Alibi;
  spec.tieEmbeddings = true;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);
  bool residualAfterNorm = false;
  f.boolean("apply_residual_connection_post_layernorm", residualAfterNorm);
  if (residualAfterNorm)
    spec.placement = NormPlacement::PreNormed;
  ignore(f, {"slow_but_exact", "masked_softmax_fusion", "offset_alibi",
             "seq_length", "n_inner"});
  return finish(f, spec);
}

// llama.cpp's bloom: ALiBi, a GELU (tanh) MLP; its converter stores the
// fused Q/K/V one after another. The file does not say whether residuals
// are taken after the norm (apply_residual_connection_post_layernorm);
// llama.cpp takes them before, as the published BLOOM models do.
void hf::ggufBloom(GgufFields &, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu_tanh;
  spec.attention.position = AttentionPosition::Alibi;
}
