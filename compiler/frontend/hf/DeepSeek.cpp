//===- DeepSeek.cpp - deepseek_v2 configs -----------------------*- C++ -*-===//
//
// Multi-head latent attention: keys and values come up from a latent of
// kv_lora_rank features (the KV cache keeps it, with the rotated key part
// every head shares), queries from a latent of q_lora_rank (or the hidden
// state); RoPE over interleaved pairs on the last qk_rope_head_dim features
// of each head. DeepSeekMoE: many small routed experts, routing limited to
// the best expert groups, shared experts always on, the first
// first_k_dense_replace layers dense.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tfm;

std::optional<ModelSpec> hf::readDeepseekV2(JsonFields &f,
                                            const std::string &type) {
  ModelSpec spec = readLlamaStyle(f, type);
  spec.weightNaming = "deepseek";
  AttentionSpec &attn = spec.attention;
  SpecDiagnostics &diags = f.diags();
  int64_t nope = 128, rope = 64;
  attn.vHeadDim = 128;
  attn.latent = {512, 1536};
  f.integer("qk_nope_head_dim", nope, 1);
  f.integer("qk_rope_head_dim", rope, 1);
  f.integer("v_head_dim", attn.vHeadDim, 1);
  f.integer("kv_lora_rank", attn.latent.kvRank, 1);
  if (const llvm::json::Value *q = f.raw("q_lora_rank"); q && q->getAsNull())
    attn.latent.qRank = 0; // a full query projection (V2-Lite)
  else
    f.integer("q_lora_rank", attn.latent.qRank, 1);
  attn.headDim = nope + rope;
  attn.rope.rotaryDim = rope;
  attn.rope.layout = RopeLayout::interleaved;
  readAttentionBias(f, spec);
  if (attn.qkvBias)
    diags.error("attention_bias", "latent attention with biases is not supported");
  // The softmax scale carries YaRN's magnitude term for mscale_all_dim,
  // squared (the rotation carries the mscale / mscale_all_dim ratio).
  attn.scale = 1.0 / std::sqrt(double(attn.headDim));
  if (const llvm::json::Object *s = f.object("rope_scaling"))
    if (auto factor = s->getNumber("factor"))
      if (auto all = s->getNumber("mscale_all_dim"); all && *all != 0)
        *attn.scale *= std::pow(yarnMscale(*factor, *all), 2);

  // DeepSeekMoE; without n_routed_experts every layer is dense.
  MoeSpec &moe = spec.ffn.moe;
  moe.hiddenSize = 1407;
  moe.normTopK = false;
  int64_t shared = 0, freq = 1;
  std::string scoring = "softmax", method = "greedy";
  nullableInteger(f, "n_routed_experts", moe.numExperts, 1);
  nullableInteger(f, "n_shared_experts", shared, 1);
  nullableInteger(f, "num_experts_per_tok", moe.topK, 1);
  nullableInteger(f, "n_group", moe.numGroups, 1);
  nullableInteger(f, "topk_group", moe.topGroups, 1);
  f.integer("moe_intermediate_size", moe.hiddenSize, 1);
  f.integer("moe_layer_freq", freq, 1);
  f.integer("first_k_dense_replace", moe.firstDenseLayers, 0);
  f.boolean("norm_topk_prob", moe.normTopK);
  f.number("routed_scaling_factor", moe.routedScale, /*positive=*/true);
  f.string("scoring_func", scoring);
  f.string("topk_method", method);
  ignore(f, {"aux_loss_alpha", "seq_aux", "ep_size", "pretraining_tp",
             "attention_dropout", "mlp_bias"});
  if (moe.numExperts == 0)
    return finish(f, spec);
  moe.numShared = shared;
  moe.firstDenseLayers = std::min(moe.firstDenseLayers, spec.numLayers);
  if (method == "greedy")
    moe.numGroups = moe.topGroups = 1; // the groups are not used
  else if (method != "group_limited_greedy")
    diags.error("topk_method", "expected \"greedy\" or "
                               "\"group_limited_greedy\", got \"" +
                                   method + "\"");
  if (moe.topK <= 0)
    diags.error("num_experts_per_tok", "missing required field");
  if (freq != 1)
    diags.error("moe_layer_freq", "experts in every layer after "
                                  "first_k_dense_replace are all tfm builds");
  // DeepSeek's code normalises the top-k weights or scales them, not both.
  if (moe.normTopK && moe.routedScale != 1)
    diags.error("norm_topk_prob",
                "normalised top-k weights with routed_scaling_factor "
                "other than 1 are ambiguous; expected one of the two");
  if (scoring != "softmax")
    diags.error("scoring_func",
                "expected \"softmax\" (DeepSeek-V2's), got \"" + scoring +
                    "\"");
  return finish(f, spec);
}

// llama.cpp's deepseek2: latent attention from the file's ranks, RoPE over
// interleaved pairs on qk_rope of each head; YaRN's magnitude term enters
// the softmax scale alone (mscale = 1 + yarn_log_multiplier·ln(factor),
// squared), the rotation keeping cos and sin unscaled. The routed weights
// are normalised when the file says and always scaled by
// expert_weights_scale; the shared experts are one MLP of
// expert_shared_count experts' width.
void hf::ggufDeepseek2(GgufFields &f, ModelSpec &spec) {
  AttentionSpec &attn = spec.attention;
  attn.rope.layout = RopeLayout::interleaved;
  f.archInteger("attention.kv_lora_rank", attn.latent.kvRank, 1, true);
  f.archInteger("attention.q_lora_rank", attn.latent.qRank, 1);
  attn.scale = 1.0 / std::sqrt(double(spec.headDim()));
  if (attn.rope.scaling == RopeScaling::Yarn) {
    double logMul = 0; // 0.1 · mscale_all_dim
    f.archNumber("rope.scaling.yarn_log_multiplier", logMul, false);
    *attn.scale *= std::pow(yarnMscale(attn.rope.factor, 10 * logMul), 2);
    attn.rope.attentionFactor = 1;
  }
  MoeSpec &moe = spec.ffn.moe;
  if (moe.numExperts == 0)
    return;
  moe.normTopK = false;
  f.archBoolean("expert_weights_norm", moe.normTopK);
  f.archNumber("expert_weights_scale", moe.routedScale, true);
  if (f.archInteger("expert_shared_count", moe.numShared, 0))
    moe.sharedHiddenSize = 0; // numShared × the experts' width
  int64_t gating = 1, dense = moe.firstDenseLayers;
  if (f.archInteger("expert_gating_func", gating, 1) && gating != 1)
    f.diags().error(f.key("expert_gating_func"),
                    llvm::formatv("expected 1 (softmax), got {0}", gating));
  if (f.archInteger("leading_dense_block_count", dense, 0) &&
      dense != moe.firstDenseLayers)
    f.diags().error(f.key("leading_dense_block_count"),
                    llvm::formatv("is {0}, but the first {1} layers have no "
                                  "experts",
                                  dense, moe.firstDenseLayers));
}
