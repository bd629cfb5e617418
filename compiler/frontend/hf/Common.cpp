//===- Common.cpp - what the Hugging Face family readers share --*- C++ -*-===//

#include "compiler/frontend/hf/HfFamilies.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tfm;
using llvm::formatv;
using llvm::StringRef;
namespace json = llvm::json;
namespace ir = mlir::tfm;

namespace {

std::optional<Activation> hfActivation(StringRef name) {
  return llvm::StringSwitch<std::optional<Activation>>(name)
      .Cases("silu", "swish", Activation::silu)
      .Case("gelu", Activation::gelu)
      .Cases("gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh",
             Activation::gelu_tanh)
      .Case("relu", Activation::relu)
      .Case("relu2", Activation::relu2)
      .Default(std::nullopt);
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

} // namespace

void hf::readTokenId(JsonFields &f, StringRef key,
                     std::optional<int64_t> &out) {
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

/// Rounded down, as the reference implementations do. A fraction outside
/// (0, 1], or one that rounds to no dimension, is an error: rotary_dim 0
/// would mean the whole head.
int64_t hf::partialRotary(SpecDiagnostics &diags, const char *key,
                          int64_t headDim, double pct) {
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

double hf::yarnMscale(double factor, double m) {
  return factor <= 1 ? 1.0 : 0.1 * m * std::log(factor) + 1.0;
}

bool hf::nullableInteger(JsonFields &f, const char *key, int64_t &out,
                         int64_t min) {
  if (const json::Value *v = f.raw(key); v && v->getAsNull())
    return false;
  return f.integer(key, out, min);
}

void hf::readRopeScaling(JsonFields &f, ModelSpec &spec) {
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
  } else if (type == "yarn") {
    // As transformers' YaRN: the original context is the key's, else
    // max_position_embeddings; the attention factor, when not given, is
    // 0.1·ln(factor) + 1, or the ratio of that term with mscale to it with
    // mscale_all_dim when both are given.
    rope.scaling = RopeScaling::Yarn;
    if (!s.number("factor", rope.factor, true) && !s.has("factor"))
      f.diags().error("rope_scaling.factor", "missing required field");
    rope.originalMaxPositions = spec.maxSeqLen;
    s.integer("original_max_position_embeddings", rope.originalMaxPositions,
              1);
    std::optional<double> fast, slow, attention, mscale, mscaleAllDim;
    s.number("beta_fast", fast, true);
    s.number("beta_slow", slow, true);
    s.number("attention_factor", attention, true);
    s.number("mscale", mscale, true);
    s.number("mscale_all_dim", mscaleAllDim, true);
    rope.betaFast = fast.value_or(32);
    rope.betaSlow = slow.value_or(1);
    auto yarnScale = [&](double m) { return yarnMscale(rope.factor, m); };
    if (attention)
      rope.attentionFactor = *attention;
    else if (mscale && mscaleAllDim)
      rope.attentionFactor = yarnScale(*mscale) / yarnScale(*mscaleAllDim);
    else
      rope.attentionFactor = yarnScale(1.0);
  } else if (type == "longrope" || type == "su") {
    // As transformers' LongRoPE: the original context is the config's
    // original_max_position_embeddings (Phi-3 keeps it at the top level),
    // and the factor the ratio of max_position_embeddings to it; the
    // attention factor, when not given, is √(1 + ln factor / ln original).
    // Which list applies is fixed by the program's context (factorsFor).
    rope.scaling = RopeScaling::Longrope;
    for (auto [key, list] : {std::pair{"short_factor", &rope.freqFactors},
                             std::pair{"long_factor", &rope.longFactors}})
      if (!s.numbers(key, *list, /*positive=*/true) && !f.diags().hasErrors())
        f.diags().error(std::string("rope_scaling.") + key,
                        "missing required field (a list of numbers > 0)");
    double factor = 0;
    s.number("factor", factor, true);
    rope.originalMaxPositions = 0;
    if (f.integer("original_max_position_embeddings",
                  rope.originalMaxPositions, 1) ||
        s.integer("original_max_position_embeddings",
                  rope.originalMaxPositions, 1))
      factor = double(spec.maxSeqLen) / double(rope.originalMaxPositions);
    else
      rope.originalMaxPositions = spec.maxSeqLen;
    std::optional<double> attention;
    s.number("attention_factor", attention, true);
    if (attention)
      rope.attentionFactor = *attention;
    else if (factor > 1 && rope.originalMaxPositions > 1)
      rope.attentionFactor =
          std::sqrt(1 + std::log(factor) /
                            std::log(double(rope.originalMaxPositions)));
  } else {
    f.diags().error("rope_scaling.rope_type",
                    "unsupported RoPE scaling \"" + type +
                        "\" (tfm supports default, linear, llama3, yarn "
                        "and longrope)");
    return;
  }
  s.finish();
}

void hf::readActivation(JsonFields &f, const char *key, std::string fallback,
                        ModelSpec &spec) {
  std::string act = std::move(fallback);
  f.string(key, act);
  if (auto a = hfActivation(act))
    spec.ffn.activation = *a;
  else
    f.diags().error(key, "unsupported activation \"" + act +
                             "\" (tfm supports silu, gelu, gelu_new / "
                             "gelu_pytorch_tanh, relu, relu2)");
}

ModelSpec hf::gptStyleSpec(const std::string &name) {
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

std::optional<ModelSpec> hf::finish(JsonFields &f, ModelSpec spec) {
  readCheckpointType(f, spec);
  f.finish();
  SpecDiagnostics &diags = f.diags();
  // Head-count mistakes are reported with the keys the user wrote.
  const AttentionSpec &attn = spec.attention;
  if (!diags.hasErrors() && f.has("num_attention_heads")) {
    if (attn.numKvHeads && attn.numHeads % attn.numKvHeads != 0)
      diags.error(f.has("num_key_value_heads") ? "num_key_value_heads"
                                               : "num_kv_heads",
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

void hf::readSizes(JsonFields &f, const std::string &type, ModelSpec &spec) {
  f.string("_name_or_path", spec.name);
  if (spec.name.empty())
    spec.name = type;
  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  f.requiredInteger("hidden_size", spec.hiddenSize, 1);
  f.requiredInteger("num_hidden_layers", spec.numLayers, 1);
  f.requiredInteger("num_attention_heads", spec.attention.numHeads, 1);
  f.integer("max_position_embeddings", spec.maxSeqLen, 1);
  readTokenId(f, "bos_token_id", spec.bosTokenId);
  readTokenId(f, "eos_token_id", spec.eosTokenId);
}

void hf::readAttentionBias(JsonFields &f, ModelSpec &spec) {
  bool bias = false;
  f.boolean("attention_bias", bias);
  spec.attention.qkvBias = spec.attention.outBias = bias;
}

ModelSpec hf::readLlamaStyle(JsonFields &f, const std::string &type,
                             const LlamaKeys &keys) {
  ModelSpec spec;
  spec.name = type;
  spec.weightNaming = "llama";
  AttentionSpec &attn = spec.attention;
  readSizes(f, type, spec);
  f.requiredInteger("intermediate_size", spec.ffn.hiddenSize, 1);
  f.integer("num_key_value_heads", attn.numKvHeads, 1);
  attn.headDim = keys.headDim;
  f.integer("head_dim", attn.headDim, 1);

  spec.norm.kind = keys.norm;
  spec.norm.bias = keys.norm == NormKind::layer;
  spec.norm.eps = keys.normEps;
  f.number(keys.normEpsKey, spec.norm.eps, /*positive=*/true);

  attn.position = AttentionPosition::Rope;
  attn.rope.theta = keys.ropeTheta;
  f.number("rope_theta", attn.rope.theta, /*positive=*/true);
  readRopeScaling(f, spec);
  double partial = keys.partialRotary;
  bool given = f.number("partial_rotary_factor", partial, /*positive=*/true);
  if ((given || partial != 1.0) && attn.numHeads > 0)
    attn.rope.rotaryDim = partialRotary(f.diags(), "partial_rotary_factor",
                                        spec.headDim(), partial);
  readActivation(f, keys.activationKey, keys.activation, spec);
  spec.ffn.kind = keys.ffn;
  spec.tieEmbeddings = keys.tied;
  f.boolean("tie_word_embeddings", spec.tieEmbeddings);
  return spec;
}

void hf::readSlidingWindow(JsonFields &f, ModelSpec &spec, int64_t fallback) {
  int64_t window = fallback;
  if (const json::Value *w = f.raw("sliding_window"); w && w->getAsNull())
    window = 0; // explicit null: full attention
  f.integer("sliding_window", window, 1);
  if (window > 0)
    spec.attention.window = {window};
}

void hf::ignore(JsonFields &f, std::initializer_list<const char *> keys) {
  for (const char *key : keys)
    f.raw(key);
}
