//===- Opt.cpp - opt configs ------------------------------------*- C++ -*-===//
//
// Learned positions (their table starts two rows in), pre- or post-LN
// blocks (do_layer_norm_before), ReLU MLP, biases on every projection, and
// embeddings narrower than the hidden size (word_embed_proj_dim).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readOpt(JsonFields &f, const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  spec.weightNaming = "opt";
  AttentionSpec &attn = spec.attention;
  readSizes(f, type, spec);
  f.requiredInteger("ffn_dim", spec.ffn.hiddenSize, 1);
  readActivation(f, "activation_function", "relu", spec);
  spec.tieEmbeddings = true;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);
  bool bias = true;
  f.boolean("enable_bias", bias);
  attn.qkvBias = attn.outBias = spec.ffn.bias = bias;
  attn.position = AttentionPosition::None;
  spec.absolutePosition = AbsolutePosition::Learned;

  bool before = true, removeFinal = false, affine = true;
  f.boolean("do_layer_norm_before", before);
  f.boolean("_remove_final_layer_norm", removeFinal);
  spec.placement = before ? NormPlacement::Pre : NormPlacement::Post;
  spec.finalNorm = before && !removeFinal;
  f.boolean("layer_norm_elementwise_affine", affine);
  if (!affine)
    f.diags().error("layer_norm_elementwise_affine",
                    "LayerNorms without gains are not supported");
  f.integer("word_embed_proj_dim", spec.embeddingDim, 1);
  if (spec.embeddingDim == spec.hiddenSize)
    spec.embeddingDim = 0;
  ignore(f, {"dropout", "layerdrop", "init_std", "enable_bias"});
  return finish(f, spec);
}
