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
    {"ffn_norm", "attn_norm_2"}, // Falcon's second parallel norm
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
    {"attn.q_a", "attn_q_a"},
    {"attn.q_a_norm", "attn_q_a_norm"},
    {"attn.kv_norm", "attn_kv_a_norm"},
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
    {"lm_head.bias", "output.bias"},
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

/// A run of NamePairs (C++17 has no std::span).
struct Names {
  const NamePair *begin = nullptr, *end = nullptr;
  Names() = default;
  template <size_t N> constexpr Names(const NamePair (&table)[N])
      : begin(table), end(table + N) {}
};

/// How a fused Q/K/V tensor orders its rows.
enum class QkvOrder {
  /// All query rows, then all key rows, then all value rows.
  Contiguous,
  /// Per KV head, its query heads' rows, then its key and value rows
  /// (GPT-NeoX and BLOOM: one query per group; Falcon: several).
  PerGroup,
};

/// How the checkpoints of one Hugging Face model family name their
/// tensors. A family is data: its names and the tensors it fuses.
struct HfNaming {
  std::string_view naming;
  /// Per-layer tensors are "<layerPrefix><N>.<part>.<weight|bias>".
  std::string_view layerPrefix = "model.layers.";
  /// Per-layer parts searched first; a tfm part named twice has two
  /// alternatives (the first present is read).
  Names layer;
  /// Then the llama-style parts (and mixture-of-experts names).
  bool llamaLayer = true;
  Names global;
  bool llamaGlobal = true;
  /// A fused Q/K/V tensor (a layer part), or none.
  std::string_view qkv;
  QkvOrder qkvOrder = QkvOrder::Contiguous;
  /// 2-D tensors are stored input-major ([in, out], GPT-2's Conv1D).
  bool conv1d = false;
  /// A fused gate/up tensor (gate rows first), or none.
  std::string_view gateUp;
  /// Rows of the learned position table before position 0 (OPT's 2).
  int64_t positionOffset = 0;
  /// Q and K rows are stored for RoPE over interleaved pairs (Cohere).
  bool interleavedQk = false;
  /// QK-norm gains per head: one [heads, head_dim] tensor (Cohere), or one
  /// tensor per head under "<q|k>_layernorm.norms.<h>" (StableLM).
  enum class HeadGains { Shared, Matrix, PerHeadTensors } headGains =
      HeadGains::Shared;
  /// A prefix some published checkpoints of the family leave out
  /// ("transformer." for GPT-2 and BLOOM): tensors are also looked for
  /// without it.
  std::string_view optionalPrefix;
};

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

// Phi: one LayerNorm feeds both branches; fc1/fc2 MLP; an LM head bias.
constexpr NamePair kPhiLayer[] = {
    {"attn.o", "self_attn.dense"},
    {"attn.q_norm", "self_attn.q_layernorm"},
    {"attn.k_norm", "self_attn.k_layernorm"},
    {"ffn.up", "mlp.fc1"},
    {"ffn.down", "mlp.fc2"},
};
constexpr NamePair kPhiGlobal[] = {
    {"final_norm.weight", "model.final_layernorm.weight"},
    {"final_norm.bias", "model.final_layernorm.bias"},
    {"lm_head.bias", "lm_head.bias"},
};

constexpr NamePair kStarcoder2Layer[] = {
    {"ffn.up", "mlp.c_fc"},
    {"ffn.down", "mlp.c_proj"},
};

// Falcon: Q/K/V fused per KV group; a parallel block reads one
// input_layernorm, or ln_attn and ln_mlp (new_decoder_architecture).
constexpr NamePair kFalconLayer[] = {
    {"attn_norm", "input_layernorm"},
    {"attn_norm", "ln_attn"},
    {"ffn_norm", "post_attention_layernorm"},
    {"ffn_norm", "ln_mlp"},
    {"attn.o", "self_attention.dense"},
    {"ffn.up", "mlp.dense_h_to_4h"},
    {"ffn.down", "mlp.dense_4h_to_h"},
};
constexpr NamePair kFalconGlobal[] = {
    {"embed.weight", "transformer.word_embeddings.weight"},
    {"final_norm.weight", "transformer.ln_f.weight"},
    {"final_norm.bias", "transformer.ln_f.bias"},
    {"lm_head.weight", "lm_head.weight"},
};

// Persimmon: Q/K/V fused per head, a LayerNorm per head of Q and K.
constexpr NamePair kPersimmonLayer[] = {
    {"attn.o", "self_attn.dense"},
    {"attn.q_norm", "self_attn.q_layernorm"},
    {"attn.k_norm", "self_attn.k_layernorm"},
    {"ffn.up", "mlp.dense_h_to_4h"},
    {"ffn.down", "mlp.dense_4h_to_h"},
};
constexpr NamePair kPersimmonGlobal[] = {
    {"final_norm.weight", "model.final_layernorm.weight"},
    {"final_norm.bias", "model.final_layernorm.bias"},
};

// DeepSeek-V2: latent attention's down-projections and their norms, and
// shared experts under their own name.
constexpr NamePair kDeepseekLayer[] = {
    {"attn.q_a", "self_attn.q_a_proj"},
    {"attn.q_a_norm", "self_attn.q_a_layernorm"},
    {"attn.kv_norm", "self_attn.kv_a_layernorm"},
    {"moe.shared_gate", "mlp.shared_experts.gate_proj"},
    {"moe.shared_up", "mlp.shared_experts.up_proj"},
    {"moe.shared_down", "mlp.shared_experts.down_proj"},
};

constexpr NamePair kOptLayer[] = {
    {"attn_norm", "self_attn_layer_norm"},
    {"ffn_norm", "final_layer_norm"},
    {"attn.q", "self_attn.q_proj"},
    {"attn.k", "self_attn.k_proj"},
    {"attn.v", "self_attn.v_proj"},
    {"attn.o", "self_attn.out_proj"},
    {"ffn.up", "fc1"},
    {"ffn.down", "fc2"},
};
constexpr NamePair kOptGlobal[] = {
    {"embed.weight", "model.decoder.embed_tokens.weight"},
    {"pos_embed.weight", "model.decoder.embed_positions.weight"},
    {"embed_proj_in.weight", "model.decoder.project_in.weight"},
    {"embed_proj_out.weight", "model.decoder.project_out.weight"},
    {"final_norm.weight", "model.decoder.final_layer_norm.weight"},
    {"final_norm.bias", "model.decoder.final_layer_norm.bias"},
    {"lm_head.weight", "lm_head.weight"},
};

/// Every family's naming, llama's (the default) first.
const std::vector<HfNaming> &namingTable() {
  static const std::vector<HfNaming> table = [] {
    std::vector<HfNaming> t;
    t.reserve(16); // the references below outlive later additions
    auto add = [&](std::string_view name) -> HfNaming & {
      t.emplace_back();
      t.back().naming = name;
      return t.back();
    };
    // A family with its own names throughout, per-layer tensors under
    // `layerPrefix`.
    auto own = [&](std::string_view name, std::string_view layerPrefix,
                   Names layer, Names global) -> HfNaming & {
      HfNaming &n = add(name);
      n.layerPrefix = layerPrefix;
      n.layer = layer;
      n.global = global;
      n.llamaLayer = n.llamaGlobal = false;
      return n;
    };
    add("llama");
    add("sandwich").layer = kHfSandwichLayer;
    HfNaming &gpt2 = own("gpt2", "transformer.h.", kGpt2Layer, kGpt2Global);
    gpt2.qkv = "attn.c_attn";
    gpt2.conv1d = true;
    gpt2.optionalPrefix = "transformer.";
    HfNaming &neox =
        own("gpt_neox", "gpt_neox.layers.", kNeoxLayer, kNeoxGlobal);
    neox.qkv = "attention.query_key_value";
    neox.qkvOrder = QkvOrder::PerGroup;
    HfNaming &bloom =
        own("bloom", "transformer.h.", kBloomLayer, kBloomGlobal);
    bloom.qkv = "self_attention.query_key_value";
    bloom.qkvOrder = QkvOrder::PerGroup;
    bloom.optionalPrefix = "transformer.";
    HfNaming &phi = add("phi");
    phi.layer = kPhiLayer;
    phi.global = kPhiGlobal;
    HfNaming &phi3 = add("phi3");
    phi3.qkv = "self_attn.qkv_proj";
    phi3.gateUp = "mlp.gate_up_proj";
    add("starcoder2").layer = kStarcoder2Layer;
    HfNaming &falcon =
        own("falcon", "transformer.h.", kFalconLayer, kFalconGlobal);
    falcon.qkv = "self_attention.query_key_value";
    falcon.qkvOrder = QkvOrder::PerGroup;
    falcon.optionalPrefix = "transformer.";
    HfNaming &opt = own("opt", "model.decoder.layers.", kOptLayer, kOptGlobal);
    opt.positionOffset = 2;
    opt.optionalPrefix = "model.";
    HfNaming &persimmon = add("persimmon");
    persimmon.layer = kPersimmonLayer;
    persimmon.global = kPersimmonGlobal;
    persimmon.qkv = "self_attn.query_key_value";
    persimmon.qkvOrder = QkvOrder::PerGroup;
    HfNaming &cohere = add("cohere");
    cohere.interleavedQk = true;
    cohere.headGains = HfNaming::HeadGains::Matrix;
    add("stablelm").headGains = HfNaming::HeadGains::PerHeadTensors;
    add("deepseek").layer = kDeepseekLayer;
    return t;
  }();
  return table;
}

/// The naming called `naming`; llama's for a name tfm does not know.
const HfNaming &hfNaming(std::string_view naming) {
  for (const HfNaming &n : namingTable())
    if (n.naming == naming)
      return n;
  return namingTable().front();
}

} // namespace

const std::vector<std::string_view> &tfm::rt::hfNamings() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const HfNaming &n : namingTable())
      out.push_back(n.naming);
    return out;
  }();
  return names;
}

namespace {

/// Every file name `names` gives tfm part `tfm`, in order.
std::vector<std::string_view> lookupAll(Names names, std::string_view tfm) {
  std::vector<std::string_view> out;
  for (const NamePair *p = names.begin; p != names.end; ++p)
    if (p->tfm == tfm)
      out.push_back(p->file);
  return out;
}

/// The rows of Q, K or V (`part` 0, 1, 2) in a fused tensor. `rows` is the
/// requested part's row count, used when the layout gives no head counts
/// (Q, K and V are then equal thirds).
WeightRecipe qkvSlice(QkvOrder order, const WeightLayout &layout, int part,
                      int64_t rows) {
  WeightRecipe r;
  int64_t d = layout.headDim, heads = layout.numHeads,
          kv = layout.numKvHeads ? layout.numKvHeads : heads;
  if (d <= 0 || heads <= 0 || heads % kv != 0) {
    d = rows;
    heads = kv = 1;
  }
  if (order == QkvOrder::PerGroup) {
    int64_t perGroup = heads / kv; // query heads per KV head
    r.groupRows = (perGroup + 2) * d;
    r.rowOffset = part == 0 ? 0 : (perGroup + part - 1) * d;
    r.takeRows = part == 0 ? perGroup * d : d;
  } else {
    r.groupRows = (heads + 2 * kv) * d;
    r.rowOffset = part == 0 ? 0 : (heads + (part - 1) * kv) * d;
    r.takeRows = part == 0 ? heads * d : kv * d;
  }
  return r;
}

/// Latent attention's parts of fused tensors: the stored tensors (a
/// Hugging Face and a GGUF name each, the second used without a query
/// down-projection) that hold tfm part `base`, and which of their rows.
struct LatentPart {
  std::string_view hf[2], gguf[2];
  WeightRecipe rows;
};

/// Where latent attention's part `base` is stored; false for another part.
/// Q rows are per head the part from the latent (headDim - rotaryDim), then
/// the rotated part; the key/value down-projection is the latent's rows,
/// then the shared rotated key's; the key/value up-projection is per head
/// the key rows (headDim - rotaryDim), then the value rows.
bool latentPart(std::string_view base, const WeightLayout &layout,
                LatentPart &out) {
  if (layout.latentRank <= 0)
    return false;
  const int64_t rd = layout.rotaryDim, nope = layout.headDim - rd,
                rank = layout.latentRank,
                vhd = layout.vHeadDim ? layout.vHeadDim : layout.headDim;
  auto rows = [&](int64_t group, int64_t offset, int64_t take) {
    out.rows.groupRows = group;
    out.rows.rowOffset = offset;
    out.rows.takeRows = take;
  };
  if (base == "attn.q_nope" || base == "attn.q_rope") {
    out = {{"self_attn.q_b_proj", "self_attn.q_proj"},
           {"attn_q_b", "attn_q"}};
    base == "attn.q_nope" ? rows(nope + rd, 0, nope) : rows(nope + rd, nope, rd);
  } else if (base == "attn.kv_latent" || base == "attn.k_rope") {
    out = {{"self_attn.kv_a_proj_with_mqa"}, {"attn_kv_a_mqa"}};
    base == "attn.kv_latent" ? rows(rank + rd, 0, rank)
                             : rows(rank + rd, rank, rd);
  } else if (base == "attn.k_up" || base == "attn.v_up") {
    out = {{"self_attn.kv_b_proj"}, {"attn_kv_b"}};
    base == "attn.k_up" ? rows(nope + vhd, 0, nope) : rows(nope + vhd, nope, vhd);
  } else {
    return false;
  }
  return true;
}

/// The recipes reading latent part `base` from the tensors `names` gives
/// it, each name formatted by `file`.
template <typename FileName>
std::vector<WeightRecipe> latentRecipes(const LatentPart &part,
                                        const std::string_view (&names)[2],
                                        FileName file) {
  std::vector<WeightRecipe> out;
  for (std::string_view name : names)
    if (!name.empty()) {
      WeightRecipe r = part.rows;
      r.sources = {file(name)};
      out.push_back(std::move(r));
    }
  return out;
}

/// Adds, after each recipe, the same sources without the family's
/// optional prefix.
void addUnprefixed(const HfNaming &n, std::vector<WeightRecipe> &recipes) {
  if (n.optionalPrefix.empty())
    return;
  std::vector<WeightRecipe> out;
  for (WeightRecipe &r : recipes) {
    WeightRecipe bare = r;
    bool changed = false;
    for (std::string &s : bare.sources)
      if (s.compare(0, n.optionalPrefix.size(), n.optionalPrefix) == 0) {
        s.erase(0, n.optionalPrefix.size());
        changed = true;
      }
    out.push_back(std::move(r));
    if (changed)
      out.push_back(std::move(bare));
  }
  recipes = std::move(out);
}

std::vector<WeightRecipe> hfLayerRecipes(const HfNaming &n, int64_t layer,
                                         std::string_view rest,
                                         const WeightLayout &layout,
                                         int64_t outerDim) {
  std::vector<WeightRecipe> out;
  std::string_view base, suffix;
  splitSuffix(rest, base, suffix);
  std::string prefix = fmt::format("{}{}.", n.layerPrefix, layer);
  bool matrix = suffix == "weight" && base != "attn_norm" &&
                base != "ffn_norm";
  auto recipe = [&](std::string_view part) {
    WeightRecipe r{{fmt::format("{}{}.{}", prefix, part, suffix)}};
    r.transpose = n.conv1d && matrix;
    return r;
  };
  if (int part = qkvPart(base); part >= 0 && !n.qkv.empty()) {
    WeightRecipe r = qkvSlice(n.qkvOrder, layout, part, outerDim);
    WeightRecipe named = recipe(n.qkv);
    r.sources = named.sources;
    r.transpose = named.transpose;
    out.push_back(std::move(r));
    return out;
  }
  if (LatentPart latent; latentPart(base, layout, latent))
    return latentRecipes(latent, latent.hf, [&](std::string_view part) {
      return recipe(part).sources.front();
    });
  if ((base == "attn.q_norm" || base == "attn.k_norm") &&
      n.headGains != HfNaming::HeadGains::Shared) {
    bool key = base == "attn.k_norm";
    if (n.headGains == HfNaming::HeadGains::Matrix) {
      WeightRecipe r = recipe(key ? "self_attn.k_norm" : "self_attn.q_norm");
      r.flatten = true;
      out.push_back(std::move(r));
      return out;
    }
    WeightRecipe r;
    int64_t heads = key ? (layout.numKvHeads ? layout.numKvHeads
                                             : layout.numHeads)
                        : layout.numHeads;
    for (int64_t h = 0; h < heads; ++h)
      r.sources.push_back(fmt::format("{}self_attn.{}_layernorm.norms.{}.{}",
                                      prefix, key ? "k" : "q", h, suffix));
    r.concat = true;
    out.push_back(std::move(r));
    return out;
  }
  if ((base == "ffn.gate" || base == "ffn.up") && !n.gateUp.empty()) {
    WeightRecipe r = recipe(n.gateUp);
    r.groupRows = 2 * outerDim;
    r.rowOffset = base == "ffn.gate" ? 0 : outerDim;
    r.takeRows = outerDim;
    out.push_back(std::move(r));
    return out;
  }
  for (std::string_view file : lookupAll(n.layer, base))
    out.push_back(recipe(file));
  if (!out.empty() || !n.llamaLayer)
    return out;
  for (std::string_view file : lookupAll(kHfLlamaLayer, base))
    out.push_back(recipe(file));
  if (!out.empty())
    return out;
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

std::vector<WeightRecipe> hfRecipes(std::string_view name,
                                    const WeightLayout &layout,
                                    int64_t outerDim) {
  const HfNaming &n = hfNaming(layout.naming);
  std::vector<WeightRecipe> out;
  int64_t layer;
  std::string_view rest;
  if (splitLayer(name, layer, rest)) {
    out = hfLayerRecipes(n, layer, rest, layout, outerDim);
  } else {
    std::vector<std::string_view> files = lookupAll(n.global, name);
    if (files.empty() && n.llamaGlobal)
      files = lookupAll(kHfGlobal, name);
    for (std::string_view file : files) {
      WeightRecipe r{{std::string(file)}};
      if (name == "pos_embed.weight" && n.positionOffset > 0) {
        r.groupRows = outerDim + n.positionOffset;
        r.rowOffset = n.positionOffset;
        r.takeRows = outerDim;
      }
      out.push_back(std::move(r));
    }
  }
  addUnprefixed(n, out);
  return out;
}

/// Recipes for a GGUF file. llama.cpp's converters store every fused Q/K/V
/// as Q, K, V one after another (attn_qkv) and a fused gate/up as gate then
/// up (ffn_up of twice the width, Phi-3); the loader takes the first recipe
/// whose tensors are present with the shapes it expects.
std::vector<WeightRecipe> ggufRecipes(std::string_view name,
                                      const WeightLayout &layout,
                                      int64_t outerDim) {
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
  auto recipe = [&](std::string_view file) {
    return WeightRecipe{{fmt::format("blk.{}.{}.{}", layer, file, suffix)}};
  };
  if (LatentPart latent; latentPart(base, layout, latent))
    return latentRecipes(latent, latent.gguf, [&](std::string_view file) {
      return recipe(file).sources.front();
    });
  bool up = base == "ffn.up";
  if (up) { // the second half of a fused gate/up first
    WeightRecipe r = recipe("ffn_up");
    r.groupRows = 2 * outerDim;
    r.rowOffset = r.takeRows = outerDim;
    out.push_back(std::move(r));
  }
  for (const NamePair &p : kGgufLayer)
    if (p.tfm == base) {
      out.push_back(recipe(p.file));
      // QK-norm gains may be stored as a [heads, head_dim] matrix.
      out.back().flatten = base == "attn.q_norm" || base == "attn.k_norm";
    }
  if (int part = qkvPart(base); part >= 0) {
    WeightRecipe r = qkvSlice(QkvOrder::Contiguous, layout, part, outerDim);
    r.sources = recipe("attn_qkv").sources;
    out.push_back(std::move(r));
  }
  if (base == "ffn.gate") {
    WeightRecipe r = recipe("ffn_up");
    r.groupRows = 2 * outerDim;
    r.takeRows = outerDim;
    out.push_back(std::move(r));
  }
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
    return ggufRecipes(name, layout, outerDim);
  return hfRecipes(name, layout, outerDim);
}

bool tfm::rt::fileHasInterleavedQk(const WeightSource &source,
                                   const WeightLayout &layout) {
  if (source.format() != WeightFormat::Gguf)
    return hfNaming(layout.naming).interleavedQk;
  // llama.cpp's converters permute Q/K for the architectures it rotates
  // in interleaved pairs (Cohere's checkpoints already are).
  const auto &gguf = static_cast<const GgufFile &>(source);
  const GgufValue *arch = gguf.metadata("general.architecture");
  if (!arch || arch->type != GgufValue::Type::String)
    return false;
  for (std::string_view a : {"llama", "granite", "command-r"})
    if (arch->string == a)
      return true;
  return false;
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
