//===- Falcon.cpp - falcon configs ------------------------------*- C++ -*-===//
//
// All three layouts of Falcon's fused query_key_value: multi-query (one KV
// head), new_decoder_architecture (num_kv_heads groups, each with its own
// ln_attn/ln_mlp when num_ln_in_parallel_attn is 2), and one KV head per
// query head. Blocks are parallel (one or two norms) or serial. Positions
// are rotary, or ALiBi added before the scores are scaled.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include <cmath>

using namespace tfm;

std::optional<ModelSpec> hf::readFalcon(JsonFields &f,
                                        const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  spec.weightNaming = "falcon";
  AttentionSpec &attn = spec.attention;
  readSizes(f, type, spec);
  spec.ffn.hiddenSize = 4 * spec.hiddenSize;
  f.integer("ffn_hidden_size", spec.ffn.hiddenSize, 1);
  f.number("layer_norm_epsilon", spec.norm.eps, /*positive=*/true);
  readActivation(f, "activation", "gelu", spec);
  spec.tieEmbeddings = true;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);

  bool bias = false, newArch = false, multiQuery = true, parallel = true,
       alibi = false;
  f.boolean("bias", bias);
  attn.qkvBias = attn.outBias = spec.ffn.bias = bias;
  f.boolean("new_decoder_architecture", newArch);
  f.boolean("multi_query", multiQuery);
  f.boolean("parallel_attn", parallel);
  f.boolean("alibi", alibi);
  int64_t kvHeads = 0;
  f.integer("num_kv_heads", kvHeads, 1);
  if (newArch)
    attn.numKvHeads = kvHeads ? kvHeads : attn.numHeads;
  else
    attn.numKvHeads = multiQuery ? 1 : attn.numHeads;
  int64_t norms = newArch ? 2 : 1;
  f.integer("num_ln_in_parallel_attn", norms, 1);
  if (newArch && !parallel)
    f.diags().error("parallel_attn", "the new decoder architecture with "
                                     "serial blocks is not supported");
  spec.parallel = parallel;
  spec.sharedNorm = parallel && !(newArch && norms == 2);

  bool residualAfterNorm = false;
  f.boolean("apply_residual_connection_post_layernorm", residualAfterNorm);
  if (residualAfterNorm)
    f.diags().error("apply_residual_connection_post_layernorm",
                    "residuals taken after the layer norm are not supported");
  if (alibi) {
    // Added to q·k before the scores are scaled by 1/√head_dim.
    attn.position = AttentionPosition::Alibi;
    if (attn.numHeads > 0 && spec.hiddenSize > 0)
      attn.alibiScale =
          1.0 / std::sqrt(double(spec.hiddenSize / attn.numHeads));
    ignore(f, {"rope_theta", "rope_scaling"});
  } else {
    attn.position = AttentionPosition::Rope;
    f.number("rope_theta", attn.rope.theta, /*positive=*/true);
    readRopeScaling(f, spec);
  }
  ignore(f, {"hidden_dropout"});
  return finish(f, spec);
}

// llama.cpp's falcon: a parallel block on one norm, or on two (attn_norm
// and attn_norm_2, the new decoder architecture); its converter stores
// query_key_value as Q, K, V one after another. Falcon's MLP uses the
// exact GELU (llama.cpp computes the tanh approximation).
void hf::ggufFalcon(GgufFields &f, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu;
  spec.parallel = true;
  spec.sharedNorm = !f.hasLayerTensor(spec.numLayers - 1, "attn_norm_2");
}
