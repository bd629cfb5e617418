//===- HfConfig.cpp - Hugging Face config.json → ModelSpec ------*- C++ -*-===//
//
// Supported model_type values: llama, mistral, qwen2, mixtral, gemma2, olmo2
// (llama-style checkpoints), gpt2, gpt_neox and bloom.
// Defaults for absent keys follow each family's transformers config class.
// Keys that change the computation and are not understood are errors; keys
// that do not (training settings, dtype, tokenizer ids) are read or ignored;
// anything else draws a warning so a new option cannot pass silently.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/JsonFields.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"


#include <cmath>

using namespace tfm;
using llvm::formatv;
using llvm::StringRef;
namespace json = llvm::json;
namespace ir = mlir::tfm;

namespace {

/// Keys with no effect on inference, present in many saved configs.
constexpr const char *kIgnoredKeys[] = {
    "architectures", "transformers_version", "pad_token_id",
    "initializer_range", "use_cache", "attention_dropout", "pretraining_tp",
    "_name_or_path", "tokenizer_class", "output_router_logits",
    "router_aux_loss_coef", "router_jitter_noise", "cache_implementation",
    "return_dict", "output_hidden_states", "output_attentions", "torchscript",
    "use_bfloat16", "tie_encoder_decoder", "is_decoder",
    "is_encoder_decoder", "add_cross_attention", "chunk_size_feed_forward",
    "problem_type", "id2label", "label2id", "prefix", "task_specific_params",
    "finetuning_task", "quantization_config", "max_length",
    "hidden_dropout", "embd_pdrop", "resid_pdrop", "rope_interleaved"};

enum class Family {
  Llama, Mistral, Qwen2, Mixtral, Gemma2, Olmo2, Gpt2, GptNeox, Bloom
};

std::optional<Activation> hfActivation(StringRef name) {
  return llvm::StringSwitch<std::optional<Activation>>(name)
      .Cases("silu", "swish", Activation::silu)
      .Case("gelu", Activation::gelu)
      .Cases("gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh",
             Activation::gelu_tanh)
      .Case("relu", Activation::relu)
      .Default(std::nullopt);
}

/// bos/eos ids may be an integer or a list (the first is kept).
void readTokenId(JsonFields &f, StringRef key, std::optional<int64_t> &out) {
  const json::Value *v = f.raw(key);
  if (!v || v->getAsNull())
    return;
  if (auto i = v->getAsInteger(); i && *i >= 0) {
    out = *i;
    return;
  }
  if (const json::Array *a = v->getAsArray(); a && !a->empty())
    if (auto i = (*a)[0].getAsInteger(); i && *i >= 0) {
      out = *i;
      return;
    }
  f.diags().error(f.pathOf(key),
                  "expected a token id or a list of token ids, got " +
                      describeJson(*v));
}

/// The rotary dimensions a fraction `pct` of a head's `headDim` gives
/// (rounded down, as the reference implementations do). A fraction outside
/// (0, 1], or one that rounds to no dimension, is an error: rotary_dim 0
/// would mean the whole head.
int64_t partialRotary(SpecDiagnostics &diags, const char *key, int64_t headDim,
                      double pct) {
  if (pct > 1) {
    diags.error(key, "expected a number in (0, 1], got " + formatNumber(pct));
    return 0;
  }
  auto dims = int64_t(double(headDim) * pct);
  if (dims < 2)
    diags.error(key, formatv("{0} of a head of {1} rounds to {2} rotary "
                             "dimensions; at least 2 are needed",
                             formatNumber(pct), headDim, dims)
                         .str());
  return dims;
}

void readRopeScaling(JsonFields &f, ModelSpec &spec) {
  const json::Object *obj = f.object("rope_scaling");
  if (!obj)
    return;
  JsonFields s(*obj, "rope_scaling", f.diags(),
               JsonFields::UnknownKeys::Warn);
  std::string type;
  if (!s.string("rope_type", type))
    s.string("type", type);
  else
    s.raw("type");
  RopeSpec &rope = spec.attention.rope;
  if (type == "default" || type.empty()) {
    // No scaling.
  } else if (type == "linear") {
    rope.scaling = RopeScaling::Linear;
    if (!s.number("factor", rope.factor, true) && !s.has("factor"))
      f.diags().error("rope_scaling.factor", "missing required field");
  } else if (type == "llama3") {
    rope.scaling = RopeScaling::Llama3;
    bool ok = s.number("factor", rope.factor, true);
    ok &= s.number("low_freq_factor", rope.lowFreqFactor, true);
    ok &= s.number("high_freq_factor", rope.highFreqFactor, true);
    ok &= s.integer("original_max_position_embeddings",
                    rope.originalMaxPositions, 1);
    if (!ok && !f.diags().hasErrors())
      f.diags().error("rope_scaling",
                      "llama3 scaling needs factor, low_freq_factor, "
                      "high_freq_factor and original_max_position_embeddings");
  } else {
    f.diags().error("rope_scaling.rope_type",
                    "unsupported RoPE scaling \"" + type +
                        "\" (tfm supports default, linear and llama3)");
    return;
  }
  s.finish();
}

/// Reads the activation key `key` (default `fallback`) into the FFN.
void readActivation(JsonFields &f, const char *key, std::string fallback,
                    ModelSpec &spec) {
  std::string act = std::move(fallback);
  f.string(key, act);
  if (auto a = hfActivation(act))
    spec.ffn.activation = *a;
  else
    f.diags().error(key, "unsupported activation \"" + act +
                             "\" (tfm supports silu, gelu, gelu_new / "
                             "gelu_pytorch_tanh, relu)");
}

/// What GPT-2, GPT-NeoX and BLOOM share: LayerNorm with biases, biases on
/// every projection, a plain GELU MLP.
ModelSpec gptStyleSpec(const std::string &name) {
  ModelSpec spec;
  spec.name = name;
  spec.weightNaming = name;
  spec.norm.kind = NormKind::layer;
  spec.norm.bias = true;
  spec.attention.qkvBias = spec.attention.outBias = true;
  spec.ffn.kind = FfnKind::Mlp;
  spec.ffn.bias = true;
  return spec;
}

/// The checkpoint's type (torch_dtype; dtype since transformers 4.56) is
/// how the program keeps the matrices: a bf16 checkpoint stays bf16.
void readCheckpointType(JsonFields &f, ModelSpec &spec) {
  for (const char *key : {"dtype", "torch_dtype"})
    if (const json::Value *v = f.raw(key))
      if (std::optional<StringRef> type = v->getAsString()) {
        spec.matrixStorage = llvm::StringSwitch<ir::Storage>(*type)
                                 .Case("bfloat16", ir::Storage::bf16)
                                 .Case("float16", ir::Storage::f16)
                                 .Default(ir::Storage::f32);
        return;
      }
}

std::optional<ModelSpec> finishHf(JsonFields &f, ModelSpec spec) {
  readCheckpointType(f, spec);
  f.finish();
  if (f.diags().hasErrors())
    return std::nullopt;
  return spec;
}

std::optional<ModelSpec> readGpt2(JsonFields &f, const std::string &type) {
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
  f.raw("reorder_and_upcast_attn");
  for (const char *key : {"attn_pdrop", "summary_activation",
                          "summary_first_dropout", "summary_proj_to_labels",
                          "summary_type", "summary_use_proj", "n_ctx"})
    f.raw(key);
  return finishHf(f, spec);
}

std::optional<ModelSpec> readGptNeox(JsonFields &f, const std::string &type) {
  ModelSpec spec = gptStyleSpec(type);
  f.string("_name_or_path", spec.name);
  AttentionSpec &attn = spec.attention;
  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  f.requiredInteger("hidden_size", spec.hiddenSize, 1);
  f.requiredInteger("num_hidden_layers", spec.numLayers, 1);
  f.requiredInteger("num_attention_heads", attn.numHeads, 1);
  f.requiredInteger("intermediate_size", spec.ffn.hiddenSize, 1);
  f.integer("max_position_embeddings", spec.maxSeqLen, 1);
  f.number("layer_norm_eps", spec.norm.eps, /*positive=*/true);
  readActivation(f, "hidden_act", "gelu", spec);
  readTokenId(f, "bos_token_id", spec.bosTokenId);
  readTokenId(f, "eos_token_id", spec.eosTokenId);
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
  f.raw("classifier_dropout");
  return finishHf(f, spec);
}

std::optional<ModelSpec> readBloom(JsonFields &f, const std::string &type) {
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
    f.diags().error("apply_residual_connection_post_layernorm",
                    "residuals taken after the layer norm are not supported");
  for (const char *key : {"slow_but_exact", "masked_softmax_fusion",
                          "offset_alibi", "seq_length", "n_inner"})
    f.raw(key);
  return finishHf(f, spec);
}

} // namespace

std::optional<ModelSpec> tfm::readHfConfig(const json::Object &root,
                                           SpecDiagnostics &diags) {
  JsonFields f(root, "", diags, JsonFields::UnknownKeys::Warn);
  std::string modelType;
  f.string("model_type", modelType);
  std::optional<Family> family =
      llvm::StringSwitch<std::optional<Family>>(modelType)
          .Case("llama", Family::Llama)
          .Case("mistral", Family::Mistral)
          .Case("qwen2", Family::Qwen2)
          .Case("mixtral", Family::Mixtral)
          .Case("gemma2", Family::Gemma2)
          .Case("olmo2", Family::Olmo2)
          .Case("gpt2", Family::Gpt2)
          .Case("gpt_neox", Family::GptNeox)
          .Case("bloom", Family::Bloom)
          .Default(std::nullopt);
  if (!family) {
    diags.error("model_type",
                "unsupported model_type \"" + modelType +
                    "\" (tfm reads llama, mistral, qwen2, mixtral, gemma2, "
                    "olmo2, gpt2, gpt_neox, bloom; or write a tfm spec, see "
                    "docs/model-spec.md)");
    return std::nullopt;
  }
  for (const char *key : kIgnoredKeys)
    f.raw(key);
  if (*family == Family::Gpt2)
    return readGpt2(f, modelType);
  if (*family == Family::GptNeox)
    return readGptNeox(f, modelType);
  if (*family == Family::Bloom)
    return readBloom(f, modelType);

  ModelSpec spec;
  spec.name = modelType;
  f.string("_name_or_path", spec.name);
  if (spec.name.empty())
    spec.name = modelType;
  AttentionSpec &attn = spec.attention;
  FfnSpec &ffn = spec.ffn;

  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  f.requiredInteger("hidden_size", spec.hiddenSize, 1);
  f.requiredInteger("num_hidden_layers", spec.numLayers, 1);
  f.requiredInteger("num_attention_heads", attn.numHeads, 1);
  f.requiredInteger("intermediate_size", ffn.hiddenSize, 1);
  f.integer("num_key_value_heads", attn.numKvHeads, 1);
  f.integer("head_dim", attn.headDim, 1);
  f.integer("max_position_embeddings", spec.maxSeqLen, 1);
  readTokenId(f, "bos_token_id", spec.bosTokenId);
  readTokenId(f, "eos_token_id", spec.eosTokenId);

  spec.norm.kind = NormKind::rms;
  spec.norm.eps = *family == Family::Mixtral || *family == Family::Olmo2
                      ? 1e-5
                      : 1e-6;
  f.number("rms_norm_eps", spec.norm.eps, /*positive=*/true);

  attn.position = AttentionPosition::Rope;
  attn.rope.theta = *family == Family::Mixtral ? 1e6 : 10000;
  f.number("rope_theta", attn.rope.theta, /*positive=*/true);
  readRopeScaling(f, spec);
  double partial = 1.0;
  if (f.number("partial_rotary_factor", partial, /*positive=*/true)) {
    if (attn.numHeads > 0) {
      int64_t headDim =
          attn.headDim ? attn.headDim : spec.hiddenSize / attn.numHeads;
      attn.rope.rotaryDim =
          partialRotary(diags, "partial_rotary_factor", headDim, partial);
    }
  }

  std::string act = "silu";
  const char *actKey =
      *family == Family::Gemma2 ? "hidden_activation" : "hidden_act";
  if (*family == Family::Gemma2) {
    act = "gelu_pytorch_tanh";
    f.raw("hidden_act"); // superseded by hidden_activation in Gemma 2
  }
  f.string(actKey, act);
  if (auto a = hfActivation(act))
    ffn.activation = *a;
  else
    diags.error(actKey, "unsupported activation \"" + act +
                            "\" (tfm supports silu, gelu, gelu_new / "
                            "gelu_pytorch_tanh, relu)");
  ffn.kind = FfnKind::Glu;

  spec.tieEmbeddings = *family == Family::Gemma2;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);

  switch (*family) {
  case Family::Llama:
  case Family::Olmo2: {
    bool attentionBias = false;
    f.boolean("attention_bias", attentionBias);
    attn.qkvBias = attn.outBias = attentionBias;
    if (*family == Family::Llama)
      f.boolean("mlp_bias", ffn.bias);
    if (*family == Family::Olmo2) {
      spec.placement = NormPlacement::PostSublayer;
      spec.weightNaming = "sandwich";
      attn.qkNorm = QkNorm::Full;
    }
    break;
  }
  case Family::Mistral:
  case Family::Mixtral: {
    int64_t window = *family == Family::Mistral ? 4096 : 0;
    if (const json::Value *w = root.get("sliding_window"); w && w->getAsNull())
      window = 0; // explicit null: full attention
    f.integer("sliding_window", window, 1);
    if (window > 0)
      attn.window = {window};
    if (*family == Family::Mixtral) {
      ffn.moe.numExperts = 8;
      ffn.moe.topK = 2;
      f.integer("num_local_experts", ffn.moe.numExperts, 1);
      f.integer("num_experts_per_tok", ffn.moe.topK, 1);
      ffn.moe.normTopK = true;
    }
    break;
  }
  case Family::Qwen2: {
    attn.qkvBias = true;
    bool useSliding = false;
    f.boolean("use_sliding_window", useSliding);
    f.raw("sliding_window");
    f.raw("max_window_layers");
    if (useSliding)
      diags.error("use_sliding_window",
                  "Qwen2 sliding-window layers are not supported yet");
    break;
  }
  case Family::Gemma2: {
    spec.placement = NormPlacement::Sandwich;
    spec.weightNaming = "sandwich";
    spec.norm.gainOffset = 1.0;
    spec.embeddingScale = std::sqrt(double(spec.hiddenSize));
    bool attentionBias = false;
    f.boolean("attention_bias", attentionBias);
    attn.qkvBias = attn.outBias = attentionBias;
    double scalar = 256;
    f.number("query_pre_attn_scalar", scalar, /*positive=*/true);
    attn.scale = 1.0 / std::sqrt(scalar);
    std::optional<double> attnCap = 50.0, finalCap = 30.0;
    if (f.has("attn_logit_softcapping"))
      f.number("attn_logit_softcapping", attnCap, /*positive=*/true);
    else if (f.raw("attn_logit_softcapping"))
      attnCap.reset(); // explicit null: no capping
    if (f.has("final_logit_softcapping"))
      f.number("final_logit_softcapping", finalCap, /*positive=*/true);
    else if (f.raw("final_logit_softcapping"))
      finalCap.reset();
    attn.softcap = attnCap;
    spec.logitSoftcap = finalCap;
    // Even layers use the sliding window, odd layers attend globally.
    int64_t window = 4096;
    f.integer("sliding_window", window, 1);
    attn.window = {window, 0};
    if (!attn.headDim)
      attn.headDim = 256;
    break;
  }
  case Family::Gpt2:
  case Family::GptNeox:
  case Family::Bloom:
    break; // read by their own functions above
  }
  readCheckpointType(f, spec);
  f.finish();
  // Report head-count mistakes with the keys the user wrote.
  if (!diags.hasErrors()) {
    if (attn.numKvHeads && attn.numHeads % attn.numKvHeads != 0)
      diags.error("num_key_value_heads",
                  formatv("must divide num_attention_heads ({0}), got {1}",
                          attn.numHeads, attn.numKvHeads));
    if (!attn.headDim && spec.hiddenSize % attn.numHeads != 0)
      diags.error("hidden_size",
                  formatv("is not a multiple of num_attention_heads ({0}), "
                          "and there is no head_dim",
                          attn.numHeads));
  }
  if (diags.hasErrors())
    return std::nullopt;
  return spec;
}
