//===- WeightNames.cpp - tfm weight names ↔ file tensor names ---*- C++ -*-===//

#include "runtime/WeightNames.h"
#include "runtime/Gguf.h"

#include <fmt/format.h>

using namespace tfm::rt;

std::string tfm::rt::layerWeight(int64_t layer, std::string_view rest) {
  return fmt::format("layers.{}.{}", layer, rest);
}

namespace {

/// Splits "layers.12.attn.q.weight" into 12 and "attn.q.weight".
bool splitLayer(std::string_view name, int64_t &layer, std::string_view &rest) {
  constexpr std::string_view prefix = "layers.";
  if (name.substr(0, prefix.size()) != prefix)
    return false;
  size_t dot = name.find('.', prefix.size());
  if (dot == std::string_view::npos || dot == prefix.size())
    return false;
  layer = 0;
  for (char c : name.substr(prefix.size(), dot - prefix.size())) {
    if (c < '0' || c > '9')
      return false;
    layer = layer * 10 + (c - '0');
  }
  rest = name.substr(dot + 1);
  return true;
}

/// Splits "attn.q.weight" into "attn.q" and "weight".
void splitSuffix(std::string_view name, std::string_view &base,
                 std::string_view &suffix) {
  size_t dot = name.rfind('.');
  base = name.substr(0, dot);
  suffix = dot == std::string_view::npos ? "" : name.substr(dot + 1);
}

struct NamePair {
  std::string_view tfm;
  std::string_view file;
};

// Per-layer parts (without .weight/.bias) in Hugging Face llama-style
// checkpoints, relative to "model.layers.N.".
constexpr NamePair kHfLlamaLayer[] = {
    {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
    {"attn.q", "self_attn.q_proj"},
    {"attn.k", "self_attn.k_proj"},
    {"attn.v", "self_attn.v_proj"},
    {"attn.o", "self_attn.o_proj"},
    {"attn.q_norm", "self_attn.q_norm"},
    {"attn.k_norm", "self_attn.k_norm"},
    {"ffn.gate", "mlp.gate_proj"},
    {"ffn.up", "mlp.up_proj"},
    {"ffn.down", "mlp.down_proj"},
    {"moe.shared_gate", "mlp.shared_expert.gate_proj"},
    {"moe.shared_up", "mlp.shared_expert.up_proj"},
    {"moe.shared_down", "mlp.shared_expert.down_proj"},
    {"moe.shared_router", "mlp.shared_expert_gate"},
};

// Checkpoints with norms after the sublayers (gemma2, olmo2) reuse
// post_attention_layernorm for the norm after attention.
constexpr NamePair kHfSandwichLayer[] = {
    {"attn_norm", "input_layernorm"},
    {"post_attn_norm", "post_attention_layernorm"},
    {"ffn_norm", "pre_feedforward_layernorm"},
    {"post_ffn_norm", "post_feedforward_layernorm"},
};

// Per-layer parts in llama.cpp GGUF files, relative to "blk.N.".
constexpr NamePair kGgufLayer[] = {
    {"attn_norm", "attn_norm"},
    {"post_attn_norm", "post_attention_norm"},
    {"ffn_norm", "ffn_norm"},
    {"post_ffn_norm", "post_ffw_norm"},
    {"attn.q", "attn_q"},
    {"attn.k", "attn_k"},
    {"attn.v", "attn_v"},
    {"attn.o", "attn_output"},
    {"attn.q_norm", "attn_q_norm"},
    {"attn.k_norm", "attn_k_norm"},
    {"ffn.gate", "ffn_gate"},
    {"ffn.up", "ffn_up"},
    {"ffn.down", "ffn_down"},
    {"moe.router", "ffn_gate_inp"},
    {"moe.gate", "ffn_gate_exps"},
    {"moe.up", "ffn_up_exps"},
    {"moe.down", "ffn_down_exps"},
    {"moe.shared_gate", "ffn_gate_shexp"},
    {"moe.shared_up", "ffn_up_shexp"},
    {"moe.shared_down", "ffn_down_shexp"},
    {"moe.shared_router", "ffn_gate_inp_shexp"},
};

constexpr NamePair kHfGlobal[] = {
    {"embed.weight", "model.embed_tokens.weight"},
    {"final_norm.weight", "model.norm.weight"},
    {"final_norm.bias", "model.norm.bias"},
    {"lm_head.weight", "lm_head.weight"},
};

constexpr NamePair kGgufGlobal[] = {
    {"embed.weight", "token_embd.weight"},
    {"embed_norm.weight", "token_embd_norm.weight"},
    {"embed_norm.bias", "token_embd_norm.bias"},
    {"pos_embed.weight", "position_embd.weight"},
    {"final_norm.weight", "output_norm.weight"},
    {"final_norm.bias", "output_norm.bias"},
    {"lm_head.weight", "output.weight"},
};

template <size_t N>
const NamePair *lookup(const NamePair (&table)[N], std::string_view tfm) {
  for (const NamePair &p : table)
    if (p.tfm == tfm)
      return &p;
  return nullptr;
}

/// Which of the fused Q, K, V a tfm name asks for (-1: none).
int qkvPart(std::string_view base) {
  if (base == "attn.q")
    return 0;
  if (base == "attn.k")
    return 1;
  if (base == "attn.v")
    return 2;
  return -1;
}

// GPT-2: Conv1D weights stored [in, out]; Q, K, V fused column-wise.
constexpr NamePair kGpt2Layer[] = {
    {"attn_norm", "ln_1"},       {"ffn_norm", "ln_2"},
    {"attn.o", "attn.c_proj"},   {"ffn.up", "mlp.c_fc"},
    {"ffn.down", "mlp.c_proj"},
};
constexpr NamePair kGpt2Global[] = {
    {"embed.weight", "transformer.wte.weight"},
    {"pos_embed.weight", "transformer.wpe.weight"},
    {"final_norm.weight", "transformer.ln_f.weight"},
    {"final_norm.bias", "transformer.ln_f.bias"},
};

// GPT-NeoX and BLOOM: Q, K, V fused per head in one [heads·3·d, in] tensor.
constexpr NamePair kNeoxLayer[] = {
    {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
    {"attn.qkv", "attention.query_key_value"},
    {"attn.o", "attention.dense"},
    {"ffn.up", "mlp.dense_h_to_4h"},
    {"ffn.down", "mlp.dense_4h_to_h"},
};
constexpr NamePair kNeoxGlobal[] = {
    {"embed.weight", "gpt_neox.embed_in.weight"},
    {"final_norm.weight", "gpt_neox.final_layer_norm.weight"},
    {"final_norm.bias", "gpt_neox.final_layer_norm.bias"},
    {"lm_head.weight", "embed_out.weight"},
};
constexpr NamePair kBloomLayer[] = {
    {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
    {"attn.qkv", "self_attention.query_key_value"},
    {"attn.o", "self_attention.dense"},
    {"ffn.up", "mlp.dense_h_to_4h"},
    {"ffn.down", "mlp.dense_4h_to_h"},
};
constexpr NamePair kBloomGlobal[] = {
    {"embed.weight", "transformer.word_embeddings.weight"},
    {"embed_norm.weight", "transformer.word_embeddings_layernorm.weight"},
    {"embed_norm.bias", "transformer.word_embeddings_layernorm.bias"},
    {"final_norm.weight", "transformer.ln_f.weight"},
    {"final_norm.bias", "transformer.ln_f.bias"},
};

/// Recipes for the GPT-2 / GPT-NeoX / BLOOM checkpoint layouts.
template <size_t NL, size_t NG>
std::vector<WeightRecipe>
fusedQkvRecipes(std::string_view name, const WeightLayout &layout,
                const NamePair (&layerTable)[NL],
                const NamePair (&globalTable)[NG], std::string_view layerPrefix,
                bool conv1d) {
  std::vector<WeightRecipe> out;
  int64_t layer;
  std::string_view rest;
  if (!splitLayer(name, layer, rest)) {
    if (const NamePair *p = lookup(globalTable, name))
      out.push_back({{std::string(p->file)}});
    return out;
  }
  std::string_view base, suffix;
  splitSuffix(rest, base, suffix);
  std::string prefix = fmt::format("{}{}.", layerPrefix, layer);
  bool matrix = suffix == "weight" && base != "attn_norm" &&
                base != "ffn_norm";
  if (int part = qkvPart(base); part >= 0) {
    WeightRecipe r;
    std::string_view fused = conv1d ? "attn.c_attn"
                                    : lookup(layerTable, "attn.qkv")->file;
    r.sources = {fmt::format("{}{}.{}", prefix, fused, suffix)};
    r.transpose = conv1d && matrix;
    r.part = part;
    r.parts = 3;
    r.headDim = conv1d ? 0 : layout.headDim;
    out.push_back(std::move(r));
    return out;
  }
  if (const NamePair *p = lookup(layerTable, base)) {
    WeightRecipe r{{fmt::format("{}{}.{}", prefix, p->file, suffix)}};
    r.transpose = conv1d && matrix;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<WeightRecipe> hfRecipes(std::string_view name,
                                    const WeightLayout &layout,
                                    int64_t outerDim) {
  if (layout.naming == "gpt2")
    return fusedQkvRecipes(name, layout, kGpt2Layer, kGpt2Global,
                           "transformer.h.", /*conv1d=*/true);
  if (layout.naming == "gpt_neox")
    return fusedQkvRecipes(name, layout, kNeoxLayer, kNeoxGlobal,
                           "gpt_neox.layers.", /*conv1d=*/false);
  if (layout.naming == "bloom")
    return fusedQkvRecipes(name, layout, kBloomLayer, kBloomGlobal,
                           "transformer.h.", /*conv1d=*/false);
  std::vector<WeightRecipe> out;
  int64_t layer;
  std::string_view rest;
  if (!splitLayer(name, layer, rest)) {
    if (const NamePair *p = lookup(kHfGlobal, name))
      out.push_back({{std::string(p->file)}});
    return out;
  }
  std::string_view base, suffix;
  splitSuffix(rest, base, suffix);
  std::string prefix = fmt::format("model.layers.{}.", layer);
  const NamePair *p = nullptr;
  if (layout.naming == "sandwich")
    p = lookup(kHfSandwichLayer, base);
  if (!p)
    p = lookup(kHfLlamaLayer, base);
  if (p) {
    out.push_back({{fmt::format("{}{}.{}", prefix, p->file, suffix)}});
    return out;
  }
  // Mixture of experts: Mixtral names (block_sparse_moe, w1/w3/w2) first,
  // then Qwen-MoE names (mlp.experts.E.gate_proj ...).
  if (base == "moe.router") {
    out.push_back({{prefix + "block_sparse_moe.gate.weight"}});
    out.push_back({{prefix + "mlp.gate.weight"}});
    return out;
  }
  struct ExpertNames {
    std::string_view tfm, mixtral, qwen;
  };
  constexpr ExpertNames experts[] = {{"moe.gate", "w1", "gate_proj"},
                                     {"moe.up", "w3", "up_proj"},
                                     {"moe.down", "w2", "down_proj"}};
  for (const ExpertNames &e : experts) {
    if (base != e.tfm)
      continue;
    WeightRecipe mixtral, qwen;
    for (int64_t x = 0; x < outerDim; ++x) {
      mixtral.sources.push_back(fmt::format(
          "{}block_sparse_moe.experts.{}.{}.{}", prefix, x, e.mixtral, suffix));
      qwen.sources.push_back(
          fmt::format("{}mlp.experts.{}.{}.{}", prefix, x, e.qwen, suffix));
    }
    out.push_back(std::move(mixtral));
    out.push_back(std::move(qwen));
  }
  return out;
}

std::vector<WeightRecipe> ggufRecipes(std::string_view name) {
  std::vector<WeightRecipe> out;
  int64_t layer;
  std::string_view rest;
  if (!splitLayer(name, layer, rest)) {
    if (const NamePair *p = lookup(kGgufGlobal, name))
      out.push_back({{std::string(p->file)}});
    return out;
  }
  std::string_view base, suffix;
  splitSuffix(rest, base, suffix);
  if (const NamePair *p = lookup(kGgufLayer, base))
    out.push_back({{fmt::format("blk.{}.{}.{}", layer, p->file, suffix)}});
  return out;
}

} // namespace

bool tfm::rt::ggufLayerTensor(std::string_view name, int64_t &layer,
                              std::string_view &base,
                              std::string_view &suffix) {
  constexpr std::string_view prefix = "blk.";
  if (name.substr(0, prefix.size()) != prefix)
    return false;
  size_t dot = name.find('.', prefix.size());
  if (dot == std::string_view::npos || dot == prefix.size() ||
      dot - prefix.size() > 9)
    return false;
  layer = 0;
  for (char c : name.substr(prefix.size(), dot - prefix.size())) {
    if (c < '0' || c > '9')
      return false;
    layer = layer * 10 + (c - '0');
  }
  splitSuffix(name.substr(dot + 1), base, suffix);
  return true;
}

std::optional<std::string> tfm::rt::tfmNameOfGgufTensor(std::string_view name) {
  for (const NamePair &p : kGgufGlobal)
    if (p.file == name)
      return std::string(p.tfm);
  int64_t layer;
  std::string_view base, suffix;
  if (!ggufLayerTensor(name, layer, base, suffix))
    return std::nullopt;
  for (const NamePair &p : kGgufLayer)
    if (p.file == base)
      return fmt::format("layers.{}.{}.{}", layer, p.tfm, suffix);
  return std::nullopt;
}

std::vector<WeightRecipe> tfm::rt::weightRecipes(std::string_view name,
                                                 WeightFormat format,
                                                 const WeightLayout &layout,
                                                 int64_t outerDim) {
  if (format == WeightFormat::Gguf)
    return ggufRecipes(name);
  return hfRecipes(name, layout, outerDim);
}

bool tfm::rt::fileHasInterleavedQk(const WeightSource &source) {
  if (source.format() != WeightFormat::Gguf)
    return false;
  const auto &gguf = static_cast<const GgufFile &>(source);
  const GgufValue *arch = gguf.metadata("general.architecture");
  return arch && arch->type == GgufValue::Type::String &&
         arch->string == "llama";
}

bool tfm::rt::isRotaryProjection(std::string_view name, bool &isKey) {
  int64_t layer;
  std::string_view rest;
  if (!splitLayer(name, layer, rest))
    return false;
  if (rest == "attn.q.weight" || rest == "attn.q.bias") {
    isKey = false;
    return true;
  }
  if (rest == "attn.k.weight" || rest == "attn.k.bias") {
    isKey = true;
    return true;
  }
  return false;
}
