//===- GgufConfig.cpp - GGUF metadata → ModelSpec ---------------*- C++ -*-===//
//
// Reads llama.cpp's GGUF metadata: what every architecture states alike
// under `{arch}.*` (sizes, heads, norm epsilon, RoPE base and width,
// experts), what the tensors show (biases, fused projections, extra norms,
// QK-norm shapes, learned positions), then the architecture's own reader in
// hf/ for what llama.cpp's graph fixes and the file does not state.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Frontend.h"
#include "compiler/StorageTypes.h"
#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/JsonFields.h"
#include "compiler/frontend/hf/HfFamilies.h"
#include "runtime/Gguf.h"
#include "runtime/WeightNames.h"

#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace tfm;
using llvm::formatv;
using rt::GgufValue;

bool GgufFields::integer(const std::string &key, int64_t &out, int64_t min,
                         bool required) {
  const GgufValue *v = file_.metadata(key);
  if (!v) {
    if (required)
      diags_.error(key,
                   formatv("missing required key (an integer >= {0})", min));
    return false;
  }
  std::optional<int64_t> i = v->asInt();
  if (!i || *i < min) {
    diags_.error(key, formatv("expected an integer >= {0}, got {1}", min,
                              describe(*v)));
    return false;
  }
  out = *i;
  return true;
}

bool GgufFields::number(const std::string &key, double &out, bool positive) {
  const GgufValue *v = file_.metadata(key);
  if (!v)
    return false;
  std::optional<double> d = v->asDouble();
  if (!d || !std::isfinite(*d) || (positive && !(*d > 0))) {
    diags_.error(key, formatv("expected a finite {0}number, got {1}",
                              positive ? "positive " : "", describe(*v)));
    return false;
  }
  out = *d;
  return true;
}

bool GgufFields::string(const std::string &key, std::string &out) {
  const GgufValue *v = file_.metadata(key);
  if (!v)
    return false;
  if (v->type != GgufValue::Type::String) {
    diags_.error(key, "expected a string, got " + describe(*v));
    return false;
  }
  out = v->string;
  return true;
}

bool GgufFields::boolean(const std::string &key, bool &out) {
  const GgufValue *v = file_.metadata(key);
  if (!v)
    return false;
  if (v->type != GgufValue::Type::Bool) {
    diags_.error(key, "expected a bool, got " + describe(*v));
    return false;
  }
  out = v->boolean;
  return true;
}

const rt::StoredTensor *GgufFields::layerTensor(int64_t layer,
                                                const std::string &base,
                                                const char *suffix) const {
  return file_.find(formatv("blk.{0}.{1}.{2}", layer, base, suffix).str());
}

bool GgufFields::positiveFloats(const rt::StoredTensor &t,
                                std::vector<double> &out) {
  constexpr int64_t kMost = 1 << 16;
  if (t.dtype != rt::DType::F32 || t.shape.size() != 1 || t.shape[0] < 1 ||
      t.shape[0] > kMost || t.nbytes != uint64_t(t.shape[0]) * 4) {
    diags_.error(t.name, formatv("expected a 1-D f32 tensor of at most {0} "
                                 "values, got {1} of {2} dimensions",
                                 kMost, t.dtypeName, t.shape.size()));
    return false;
  }
  out.resize(size_t(t.shape[0]));
  for (size_t i = 0; i < out.size(); ++i) {
    float v;
    std::memcpy(&v, t.data + 4 * i, 4);
    if (!(v > 0) || !std::isfinite(v)) {
      diags_.error(t.name, formatv("value {0} is {1}; RoPE factors must be "
                                   "finite and > 0",
                                   i, formatNumber(v)));
      return false;
    }
    out[i] = v;
  }
  return true;
}

std::string GgufFields::describe(const GgufValue &v) {
  if (v.type == GgufValue::Type::String)
    return "\"" + v.string + "\"";
  if (auto d = v.asDouble())
    return formatNumber(*d) + " (" + v.typeName() + ")";
  return v.typeName();
}

namespace {

/// The keys every architecture writes alike.
void readCommonKeys(GgufFields &f, ModelSpec &spec) {
  AttentionSpec &attn = spec.attention;
  f.string("general.name", spec.name);
  f.archInteger("embedding_length", spec.hiddenSize, 1, true);
  f.archInteger("block_count", spec.numLayers, 1, true);
  f.archInteger("attention.head_count", attn.numHeads, 1, true);
  f.archInteger("attention.head_count_kv", attn.numKvHeads, 1);
  f.archInteger("context_length", spec.maxSeqLen, 1);
  f.archInteger("attention.key_length", attn.headDim, 1);
  int64_t valueLength = 0;
  if (f.archInteger("attention.value_length", valueLength, 1))
    attn.vHeadDim = valueLength;
  // The epsilon's key names the norm: RMSNorm or LayerNorm.
  if (f.archNumber("attention.layer_norm_rms_epsilon", spec.norm.eps, true)) {
    spec.norm.kind = NormKind::rms;
  } else if (f.archNumber("attention.layer_norm_epsilon", spec.norm.eps,
                          true)) {
    spec.norm.kind = NormKind::layer;
  }
  f.archNumber("rope.freq_base", attn.rope.theta, true);
  f.archInteger("rope.dimension_count", attn.rope.rotaryDim, 2);

  std::string scaling;
  if (f.string(f.key("rope.scaling.type"), scaling) && scaling != "none") {
    if (scaling == "linear") {
      attn.rope.scaling = RopeScaling::Linear;
      if (!f.archNumber("rope.scaling.factor", attn.rope.factor, true))
        f.diags().error(f.key("rope.scaling.factor"),
                        "missing (required by linear scaling)");
    } else if (scaling == "yarn") {
      // llama.cpp's YaRN: betas 32 and 1, cos and sin times
      // 0.1·ln(factor) + 1, times the file's attn_factor if it has one.
      RopeSpec &rope = attn.rope;
      rope.scaling = RopeScaling::Yarn;
      if (!f.archNumber("rope.scaling.factor", rope.factor, true))
        f.diags().error(f.key("rope.scaling.factor"),
                        "missing (required by yarn scaling)");
      f.archInteger("rope.scaling.original_context_length",
                    rope.originalMaxPositions, 1, /*required=*/true);
      double extra = 1;
      f.archNumber("rope.scaling.attn_factor", extra, true);
      rope.attentionFactor =
          (rope.factor > 1 ? 0.1 * std::log(rope.factor) + 1 : 1.0) * extra;
    } else {
      f.diags().error(f.key("rope.scaling.type"),
                      "unsupported RoPE scaling \"" + scaling + "\"");
    }
  }
  // llama.cpp's converter states llama3 scaling as one divisor per
  // frequency.
  if (const rt::StoredTensor *t = f.tensor("rope_freqs.weight"))
    if (f.positiveFloats(*t, attn.rope.freqFactors))
      attn.rope.scaling = RopeScaling::Factors;

  // The vocabulary: an explicit key, else the tokenizer's token list, else
  // the embedding table's shape.
  if (!f.archInteger("vocab_size", spec.vocabSize, 1)) {
    const GgufValue *tokens = f.file().metadata("tokenizer.ggml.tokens");
    const rt::StoredTensor *emb = f.tensor("token_embd.weight");
    if (tokens && tokens->type == GgufValue::Type::Array)
      spec.vocabSize = int64_t(tokens->array.size());
    else if (emb && emb->shape.size() == 2)
      spec.vocabSize = emb->shape[0];
    else
      f.diags().error(f.key("vocab_size"),
                      "missing, and neither tokenizer.ggml.tokens nor "
                      "token_embd.weight gives the vocabulary size");
    if (spec.vocabSize == 0)
      f.diags().error(f.key("vocab_size"),
                      "the vocabulary is empty (tokenizer.ggml.tokens has no "
                      "tokens, or token_embd.weight no rows)");
  }
  int64_t id;
  if (f.integer("tokenizer.ggml.bos_token_id", id, 0, false))
    spec.bosTokenId = id;
  if (f.integer("tokenizer.ggml.eos_token_id", id, 0, false))
    spec.eosTokenId = id;
}

/// Mixtures of experts: the counts, each expert's width, a shared expert.
void readExperts(GgufFields &f, ModelSpec &spec) {
  MoeSpec &moe = spec.ffn.moe;
  int64_t experts = 0;
  if (!f.archInteger("expert_count", experts, 0) || experts == 0)
    return;
  moe.numExperts = experts;
  f.archInteger("expert_used_count", moe.topK, 1, true);
  f.archInteger("expert_feed_forward_length", moe.hiddenSize, 1);
  f.archBoolean("expert_weights_norm", moe.normTopK);
  if (f.hasLayerTensor(spec.numLayers - 1, "ffn_up_shexp")) {
    moe.numShared = 1;
    f.archInteger("expert_shared_feed_forward_length", moe.sharedHiddenSize,
                  1);
    moe.sharedRouter =
        f.hasLayerTensor(spec.numLayers - 1, "ffn_gate_inp_shexp");
  }
  // Dense layers come first (the builder refuses any other order).
  while (moe.firstDenseLayers < spec.numLayers &&
         !f.hasLayerTensor(moe.firstDenseLayers, "ffn_gate_inp"))
    ++moe.firstDenseLayers;
}

/// What the tensors of the last layer (the first may be dense) show.
void readStructure(GgufFields &f, ModelSpec &spec) {
  AttentionSpec &attn = spec.attention;
  int64_t l = spec.numLayers - 1;
  auto has = [&](const char *base, const char *suffix = "weight") {
    return f.hasLayerTensor(l, base, suffix);
  };
  attn.qkvBias = has("attn_q", "bias") || has("attn_qkv", "bias");
  attn.outBias = has("attn_output", "bias");
  spec.ffn.bias = has("ffn_up", "bias") || has("ffn_down", "bias");
  spec.norm.bias = has("attn_norm", "bias") || has("ffn_norm", "bias") ||
                   f.tensor("output_norm.bias");
  spec.lmHeadBias = f.tensor("output.bias") != nullptr;
  spec.embeddingNorm = f.tensor("token_embd_norm.weight") != nullptr;
  if (f.tensor("position_embd.weight"))
    spec.absolutePosition = AbsolutePosition::Learned;
  // llama.cpp ties the output projection to the embedding when the file
  // has no separate output.weight.
  spec.tieEmbeddings = f.tensor("output.weight") == nullptr;

  // The FFN's width is its tensors' (some converters write 4 × hidden as
  // feed_forward_length whatever the model's width).
  const rt::StoredTensor *up = f.layerTensor(l, "ffn_up");
  const rt::StoredTensor *gate = f.layerTensor(l, "ffn_gate");
  int64_t &ff = spec.ffn.hiddenSize;
  if (const rt::StoredTensor *t = gate ? gate : up;
      t && t->shape.size() == 2 && !spec.isMoeLayer(l) && t->shape[0] != ff &&
      !(!gate && t->shape[0] == 2 * ff)) {
    f.diags().warning(f.key("feed_forward_length"),
                      formatv("is {0}, but {1} has {2} rows; the tensors' "
                              "width is used",
                              ff, t->name, t->shape[0]));
    ff = t->shape[0];
  }
  // A gate, stored apart or as the first half of ffn_up, makes a GLU.
  bool fusedGateUp = up && up->shape.size() == 2 && spec.ffn.hiddenSize > 0 &&
                     up->shape[0] == 2 * spec.ffn.hiddenSize;
  spec.ffn.kind = has("ffn_gate") || has("ffn_gate_exps") || fusedGateUp ||
                          (spec.isMoeLayer(l) && !up)
                      ? FfnKind::Glu
                      : FfnKind::Mlp;

  // Norms after the sublayers: with norms before them too (sandwich), or
  // alone.
  if (has("post_attention_norm"))
    spec.placement = has("attn_norm") ? NormPlacement::Sandwich
                                      : NormPlacement::PostSublayer;

  // A QK-norm's gains: one head's, all heads' as one vector, or a row per
  // head.
  if (const rt::StoredTensor *q = f.layerTensor(l, "attn_q_norm")) {
    int64_t head = spec.headDim();
    if (q->numel() == head)
      attn.qkNorm = QkNorm::PerHead;
    else if (q->shape.size() == 2)
      attn.qkNorm = QkNorm::PerHeadGains;
    else
      attn.qkNorm = QkNorm::Full;
    attn.qkNormBias = has("attn_q_norm", "bias");
  }
}

/// The storage type of every matrix: the type most matrices have is the
/// spec's default, the others are named (a mix such as Q4_K_M). A type tfm
/// cannot keep is left to the loader, which names the tensor.
void readStorage(const rt::GgufFile &file, ModelSpec &spec) {
  std::map<std::string, mlir::tfm::Storage> stored;
  std::map<mlir::tfm::Storage, int> count;
  for (const std::string &name : file.tensorNames()) {
    const rt::StoredTensor *t = file.find(name);
    if (!t || t->shape.size() < 2)
      continue;
    std::optional<mlir::tfm::Storage> storage = irStorage(t->dtype);
    if (!storage)
      continue;
    // The weights a tensor provides: fused ones provide several.
    std::vector<std::string> weights;
    int64_t layer;
    std::string_view base, suffix;
    // Tensors split into several weights as they load.
    struct Split {
      const char *tensor;
      std::vector<const char *> parts;
    };
    static const Split kSplits[] = {
        {"attn_qkv", {"q", "k", "v"}},
        {"attn_q_b", {"q_nope", "q_rope"}},
        {"attn_kv_a_mqa", {"kv_latent", "k_rope"}},
        {"attn_kv_b", {"k_up", "v_up"}},
    };
    const Split *split = nullptr;
    bool layerTensor = rt::ggufLayerTensor(name, layer, base, suffix);
    for (const Split &s : kSplits)
      if (layerTensor && base == s.tensor)
        split = &s;
    // Latent attention's full query projection is attn_q too.
    static const Split kLatentQuery{"attn_q", {"q_nope", "q_rope"}};
    if (layerTensor && base == "attn_q" && spec.attention.latent.kvRank > 0)
      split = &kLatentQuery;
    if (split) {
      for (const char *part : split->parts)
        weights.push_back(formatv("layers.{0}.attn.{1}.weight", layer, part));
    } else if (std::optional<std::string> w = rt::tfmNameOfGgufTensor(name)) {
      weights.push_back(*w);
      if (base == "ffn_up" &&
          !file.find(formatv("blk.{0}.ffn_gate.weight", layer).str()))
        weights.push_back(formatv("layers.{0}.ffn.gate.weight", layer));
    }
    for (const std::string &w : weights) {
      stored[w] = *storage;
      ++count[*storage];
    }
  }
  for (const auto &[storage, n] : count)
    if (n > count[spec.matrixStorage])
      spec.matrixStorage = storage;
  for (const auto &[weight, storage] : stored)
    if (storage != spec.matrixStorage)
      spec.weightStorage[weight] = storage;
}

} // namespace

std::optional<ModelSpec> tfm::readGgufConfig(const rt::GgufFile &file,
                                             SpecDiagnostics &diags) {
  std::string arch;
  {
    GgufFields probe(file, "", diags);
    if (!probe.string("general.architecture", arch)) {
      if (!diags.hasErrors())
        diags.error("general.architecture", "missing required key");
      return std::nullopt;
    }
  }
  const hf::GgufArch *reader = nullptr;
  std::string known;
  for (const hf::GgufArch &a : hf::ggufArchitectures()) {
    known += std::string(known.empty() ? "" : ", ") + a.name;
    if (arch == a.name)
      reader = &a;
  }
  if (!reader) {
    diags.error("general.architecture",
                "unsupported architecture \"" + arch + "\" (tfm reads " +
                    known + ")");
    return std::nullopt;
  }
  GgufFields f(file, arch, diags);
  ModelSpec spec;
  spec.name = arch;
  f.archInteger("feed_forward_length", spec.ffn.hiddenSize, 1, true);
  readCommonKeys(f, spec);
  readExperts(f, spec);
  if (diags.hasErrors())
    return std::nullopt;
  readStructure(f, spec);
  reader->read(f, spec);
  readStorage(file, spec);
  if (diags.hasErrors())
    return std::nullopt;
  return spec;
}
