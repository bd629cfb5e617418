//===- DeepSeek.cpp - deepseek_v2 configs -----------------------*- C++ -*-===//
//
// Multi-head latent attention: keys and values come up from a latent of
// kv_lora_rank features (the KV cache keeps it, with the rotated key part
// every head shares), queries from a latent of q_lora_rank (or the hidden
// state); RoPE over interleaved pairs on the last qk_rope_head_dim features
// of each head. DeepSeekMoE: many small routed experts, shared experts
// always on, the first first_k_dense_replace layers dense.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tfm;
namespace json = llvm::json;

namespace {

/// YaRN's magnitude term: 0.1·m·ln(factor) + 1 (1 without scaling).
double yarnMscale(double factor, double m) {
  return factor <= 1 ? 1.0 : 0.1 * m * std::log(factor) + 1.0;
}

/// Reads an integer key that may be null (`out` kept then).
void optionalInteger(JsonFields &f, const char *key, int64_t &out,
                     int64_t min) {
  if (const json::Value *v = f.raw(key); v && v->getAsNull())
    return;
  f.integer(key, out, min);
}

} // namespace

std::optional<ModelSpec> hf::readDeepseekV2(JsonFields &f,
                                            const std::string &type) {
  LlamaKeys keys;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "deepseek";
  AttentionSpec &attn = spec.attention;
  SpecDiagnostics &diags = f.diags();

  int64_t nope = 128, rope = 64, vhd = 128;
  attn.latent.kvRank = 512;
  attn.latent.qRank = 1536;
  f.integer("qk_nope_head_dim", nope, 1);
  f.integer("qk_rope_head_dim", rope, 1);
  f.integer("v_head_dim", vhd, 1);
  f.integer("kv_lora_rank", attn.latent.kvRank, 1);
  if (const json::Value *q = f.raw("q_lora_rank"); q && q->getAsNull())
    attn.latent.qRank = 0; // a full query projection (V2-Lite)
  else
    f.integer("q_lora_rank", attn.latent.qRank, 1);
  attn.headDim = nope + rope;
  attn.vHeadDim = vhd;
  attn.rope.rotaryDim = rope;
  attn.rope.layout = RopeLayout::interleaved;
  readAttentionBias(f, spec);
  if (attn.qkvBias)
    diags.error("attention_bias",
                "latent attention with biases is not supported");

  // The softmax scale: 1/√(qk head dim), times YaRN's magnitude term for
  // mscale_all_dim squared (the rotary factor is applied to Q and K).
  double scale = 1.0 / std::sqrt(double(attn.headDim));
  if (const json::Object *s = f.object("rope_scaling")) {
    std::optional<double> factor = s->getNumber("factor");
    std::optional<double> all = s->getNumber("mscale_all_dim");
    if (factor && all && *all != 0) {
      double m = yarnMscale(*factor, *all);
      scale *= m * m;
    }
  }
  attn.scale = scale;

  // DeepSeekMoE. Without n_routed_experts every layer is dense.
  MoeSpec &moe = spec.ffn.moe;
  int64_t experts = 0, shared = 0, topK = 0, moeHidden = 1407;
  optionalInteger(f, "n_routed_experts", experts, 1);
  optionalInteger(f, "n_shared_experts", shared, 1);
  optionalInteger(f, "num_experts_per_tok", topK, 1);
  f.integer("moe_intermediate_size", moeHidden, 1);
  int64_t freq = 1, firstDense = 0;
  f.integer("moe_layer_freq", freq, 1);
  f.integer("first_k_dense_replace", firstDense, 0);
  bool norm = false;
  f.boolean("norm_topk_prob", norm);
  double routedScale = 1;
  f.number("routed_scaling_factor", routedScale, /*positive=*/true);
  std::string scoring = "softmax", method = "greedy";
  f.string("scoring_func", scoring);
  f.string("topk_method", method);
  int64_t groups = 0, topGroups = 0;
  optionalInteger(f, "n_group", groups, 1);
  optionalInteger(f, "topk_group", topGroups, 1);
  ignore(f, {"aux_loss_alpha", "seq_aux", "ep_size", "pretraining_tp",
             "attention_dropout", "mlp_bias"});
  if (experts > 0) {
    moe.numExperts = experts;
    moe.topK = topK;
    moe.hiddenSize = moeHidden;
    if (shared > 0) {
      moe.numShared = shared;
      moe.sharedHiddenSize = moeHidden * shared;
    }
    moe.routedScale = routedScale;
    moe.normTopK = norm;
    moe.firstDenseLayers = std::min(firstDense, spec.numLayers);
    if (topK <= 0)
      diags.error("num_experts_per_tok",
                  "missing required field (the experts each token uses)");
    if (freq != 1)
      diags.error("moe_layer_freq",
                  llvm::formatv("a mixture every {0} layers is not "
                                "supported (only every layer after "
                                "first_k_dense_replace)",
                                freq)
                      .str());
    // DeepSeek's code normalises the top-k weights or scales them, never
    // both.
    if (norm && routedScale != 1)
      diags.error("norm_topk_prob",
                  "normalised top-k weights with routed_scaling_factor "
                  "other than 1 are ambiguous; expected one of the two");
    if (scoring != "softmax")
      diags.error("scoring_func",
                  "expected \"softmax\" (DeepSeek-V2's), got \"" + scoring +
                      "\"");
    if (method == "group_limited_greedy") {
      // The top-k from the best topk_group of n_group expert groups.
      moe.numGroups = std::max<int64_t>(groups, 1);
      moe.topGroups = topGroups > 0 ? topGroups : moe.numGroups;
    } else if (method != "greedy") {
      diags.error("topk_method",
                  "expected \"greedy\" or \"group_limited_greedy\", got \"" +
                      method + "\"");
    }
  }
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
  double scale = 1.0 / std::sqrt(double(spec.headDim()));
  RopeSpec &rope = attn.rope;
  if (rope.scaling == RopeScaling::Yarn) {
    double logMul = 0;
    f.archNumber("rope.scaling.yarn_log_multiplier", logMul, false);
    double m = rope.factor > 1 ? 1 + logMul * std::log(rope.factor) : 1.0;
    scale *= m * m;
    rope.attentionFactor = 1;
  }
  attn.scale = scale;
  MoeSpec &moe = spec.ffn.moe;
  if (moe.numExperts > 0) {
    moe.normTopK = false;
    f.archBoolean("expert_weights_norm", moe.normTopK);
    f.archNumber("expert_weights_scale", moe.routedScale, true);
    int64_t shared = 0;
    if (f.archInteger("expert_shared_count", shared, 0) && shared > 0) {
      moe.numShared = shared;
      moe.sharedHiddenSize = 0; // shared × the experts' width
    }
    int64_t gating = 1;
    if (f.archInteger("expert_gating_func", gating, 1) && gating != 1)
      f.diags().error(f.key("expert_gating_func"),
                      llvm::formatv("expected 1 (softmax; DeepSeek-V2), got "
                                    "{0}",
                                    gating)
                          .str());
    int64_t dense = 0;
    if (f.archInteger("leading_dense_block_count", dense, 0) &&
        dense != moe.firstDenseLayers)
      f.diags().error(f.key("leading_dense_block_count"),
                      llvm::formatv("is {0}, but the first {1} layers have "
                                    "no experts",
                                    dense, moe.firstDenseLayers)
                          .str());
  }
}
