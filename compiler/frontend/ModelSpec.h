//===- ModelSpec.h - one struct for every transformer variant ---*- C++ -*-===//
//
// The frontend's output and the ModelBuilder's input: a plain description of
// a decoder-only transformer. Every reader (tfm JSON spec, Hugging Face
// config.json, GGUF metadata) fills it; `tfmc --emit=spec` prints it back as
// a tfm JSON spec. docs/model-spec.md documents each field.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_FRONTEND_MODELSPEC_H
#define TFM_COMPILER_FRONTEND_MODELSPEC_H

#include "dialects/Tfm/TfmEnums.h"

#include <cstdint>
#include <iterator>
#include <type_traits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tfm {

// Kinds the IR names are the dialect's enums (TfmAttrs.td): a spec keyword
// is the kind's name there, and a kind added to the dialect is a keyword.
using NormKind = mlir::tfm::NormKind;
using Activation = mlir::tfm::ActKind;
using RopeLayout = mlir::tfm::RopeLayout;
using MoeScoring = mlir::tfm::MoeScoring;

// Choices of the spec alone, which the builder turns into IR structure.
// Each enum's spec keywords sit beside it, one per case, in order.
template <typename E> struct SpecKeywords;
#define TFM_SPEC_ENUM(Name, Last, ...)                                        \
  template <> struct SpecKeywords<Name> {                                     \
    static constexpr const char *words[] = {__VA_ARGS__};                     \
    static_assert(std::size(words) == size_t(Name::Last) + 1,                 \
                  "one keyword per case of " #Name);                          \
  }

enum class AbsolutePosition { None, Sinusoidal, Learned };
TFM_SPEC_ENUM(AbsolutePosition, Learned, "none", "sinusoidal", "learned");
enum class NormPlacement { Pre, Post, Sandwich, PostSublayer, PreNormed };
TFM_SPEC_ENUM(NormPlacement, PreNormed, "pre", "post", "sandwich",
              "post_sublayer", "pre_normed");
enum class QkNorm { None, PerHead, Full, PerHeadGains };
TFM_SPEC_ENUM(QkNorm, PerHeadGains, "none", "per_head", "full",
              "per_head_gains");
enum class AttentionPosition { None, Rope, Alibi, Relative };
TFM_SPEC_ENUM(AttentionPosition, Relative, "none", "rope", "alibi",
              "relative");
enum class RopeScaling { None, Linear, Ntk, Llama3, Yarn, Factors, Longrope };
TFM_SPEC_ENUM(RopeScaling, Longrope, "none", "linear", "ntk", "llama3", "yarn",
              "factors", "longrope");
enum class FfnKind { Glu, Mlp };
TFM_SPEC_ENUM(FfnKind, Mlp, "glu", "mlp");
/// How products over block-format weights take their activations: rounded
/// per block to 8-bit integers as llama.cpp does (its q8_0 or q8_K), or as
/// they are (f32).
enum class Activations { Int8, F32 };
TFM_SPEC_ENUM(Activations, F32, "int8", "f32");
/// The precision of products over float matrices: `auto` rounds the
/// activations of products over bf16 matrices to bf16 (as llama.cpp does,
/// and as bf16 matrix units compute) and keeps the others exact; `bf16`
/// rounds both operands of every float product to bf16; `f32` rounds
/// none.
enum class Precision { Auto, F32, Bf16 };
TFM_SPEC_ENUM(Precision, Bf16, "auto", "f32", "bf16");
#undef TFM_SPEC_ENUM

/// Whether E is one of the spec's own enums (it has SpecKeywords).
template <typename E, typename = void> struct IsSpecEnum : std::false_type {};
template <typename E>
struct IsSpecEnum<E, std::void_t<decltype(SpecKeywords<E>::words)>>
    : std::true_type {};

struct NormSpec {
  NormKind kind = NormKind::rms;
  double eps = 1e-5;
  bool bias = false;
  /// Added to stored gains (Gemma stores gain - 1).
  double gainOffset = 0;
};

struct RopeSpec {
  double theta = 10000;
  /// The base of layers with a sliding window, whose RoPE is then unscaled
  /// (Gemma 3's local layers); none: theta.
  std::optional<double> localTheta;
  /// Rotated features per head; 0 means head_dim.
  int64_t rotaryDim = 0;
  RopeLayout layout = RopeLayout::half;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1;
  double lowFreqFactor = 1;
  double highFreqFactor = 4;
  int64_t originalMaxPositions = 0;
  /// YaRN: rotations over the original context above which a frequency is
  /// kept, below which it is divided by factor.
  double betaFast = 32;
  double betaSlow = 1;
  /// YaRN, factors and LongRoPE: what cos and sin are multiplied by (its
  /// mscale).
  double attentionFactor = 1;
  /// factors: one divisor per frequency (rotary_dim / 2 of them), as
  /// llama.cpp's rope_freqs; LongRoPE: its short factors.
  std::vector<double> freqFactors;
  /// LongRoPE: the factors used when the program's context (max_seq_len)
  /// exceeds original_max_positions.
  std::vector<double> longFactors;
  /// The per-frequency divisors in effect for a context of `maxSeqLen`
  /// positions (empty: none).
  const std::vector<double> &factorsFor(int64_t maxSeqLen) const {
    return scaling == RopeScaling::Longrope &&
                   maxSeqLen > originalMaxPositions
               ? longFactors
               : freqFactors;
  }
};

struct RelativeBiasSpec {
  int64_t numBuckets = 32;
  int64_t maxDistance = 128;
  bool bidirectional = false;
  /// One table (in layer 0) for all layers, as T5 does.
  bool shared = true;
};

/// Multi-head latent attention (DeepSeek-V2): keys and values are
/// up-projected from a compressed latent of `kvRank` features, which the
/// cache stores with each position's rotated key part (rotary_dim
/// features, one for all heads). Each head's query and key are
/// head_dim - rotary_dim features from the latent, then rotary_dim
/// rotated ones; values are v_head_dim features from the latent.
struct LatentSpec {
  int64_t kvRank = 0; // 0: ordinary attention
  /// The query's own low-rank compression (0: a full projection).
  int64_t qRank = 0;
};

struct AttentionSpec {
  int64_t numHeads = 0;
  int64_t numKvHeads = 0; // 0: numHeads
  int64_t headDim = 0;    // 0: hidden / numHeads
  int64_t vHeadDim = 0;   // 0: headDim
  bool qkvBias = false;
  bool outBias = false;
  QkNorm qkNorm = QkNorm::None;
  /// Whether the QK-norm adds a bias (none: as the model's norm does).
  std::optional<bool> qkNormBias;
  std::optional<double> scale; // default 1/sqrt(headDim)
  std::optional<double> softcap;
  /// ALiBi slopes are multiplied by it (Falcon adds the bias before
  /// scaling the scores by 1/√head_dim).
  double alibiScale = 1;
  bool causal = true;
  /// Sliding window per layer, cycled over the layers; 0 = global.
  std::vector<int64_t> window;
  AttentionPosition position = AttentionPosition::Rope;
  RopeSpec rope;
  RelativeBiasSpec relative;
  LatentSpec latent;
};

struct MoeSpec {
  int64_t numExperts = 0; // 0: no mixture of experts
  int64_t topK = 0;
  int64_t hiddenSize = 0; // per expert; 0: ffn.hiddenSize
  int64_t numShared = 0;
  int64_t sharedHiddenSize = 0; // 0: hiddenSize * numShared
  bool sharedRouter = false;
  MoeScoring scoring = MoeScoring::softmax;
  bool normTopK = true;
  double routedScale = 1;
  /// Layers [0, firstDenseLayers) use the dense FFN.
  int64_t firstDenseLayers = 0;
  /// Group-limited routing: the experts form numGroups consecutive groups
  /// and the top-k come from the topGroups groups with the best experts.
  int64_t numGroups = 1;
  int64_t topGroups = 1;
};

struct FfnSpec {
  FfnKind kind = FfnKind::Glu;
  Activation activation = Activation::silu;
  int64_t hiddenSize = 0;
  bool bias = false;
  MoeSpec moe;
};

struct ModelSpec {
  std::string name;
  /// Hugging Face tensor naming family ("llama", "sandwich", "gpt2",
  /// "gpt_neox", "bloom").
  std::string weightNaming = "llama";
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t maxSeqLen = 2048;
  std::optional<int64_t> bosTokenId;
  std::optional<int64_t> eosTokenId;

  double embeddingScale = 1;
  AbsolutePosition absolutePosition = AbsolutePosition::None;
  /// A norm right after the embeddings (and positions), as BLOOM has.
  bool embeddingNorm = false;
  bool tieEmbeddings = false;
  /// The LM head adds a bias (`lm_head.bias`), as Phi's does.
  bool lmHeadBias = false;
  /// The width of the embeddings (and of a tied LM head) when it is not the
  /// hidden size: `embed_proj_in` maps them in, `embed_proj_out` maps the
  /// final hidden state out (OPT's word_embed_proj_dim); 0: none.
  int64_t embeddingDim = 0;

  NormSpec norm;
  NormPlacement placement = NormPlacement::Pre;
  bool parallel = false;
  bool sharedNorm = false; // parallel blocks: one norm feeds both branches
  double residualAlpha = 1;
  /// Each sublayer's output is multiplied by it before the residual add
  /// (Granite's residual_multiplier).
  double branchScale = 1;
  std::optional<bool> finalNorm; // default: placement != post

  AttentionSpec attention;
  FfnSpec ffn;
  std::optional<double> logitSoftcap;
  /// Logits are multiplied by it (Cohere's logit_scale; Granite divides by
  /// logits_scaling), before any soft-capping.
  double logitScale = 1;
  /// How matrices (2-D and 3-D weights) are stored, in memory and in the
  /// weights file the program takes; vectors (norm gains, biases) stay f32.
  mlir::tfm::Storage matrixStorage = mlir::tfm::Storage::f32;
  /// Matrices stored otherwise, by tfm weight name (a mix such as
  /// llama.cpp's Q4_K_M).
  std::map<std::string, mlir::tfm::Storage> weightStorage;
  /// How products over block-format matrices take their activations (none
  /// of a float-stored matrix is rounded).
  Activations activations = Activations::Int8;
  /// The precision of products over float (f32, f16, bf16) matrices.
  Precision precision = Precision::Auto;
  /// How the KV cache stores keys and values: f32, f16, bf16 or q8_0.
  mlir::tfm::Storage kvCacheStorage = mlir::tfm::Storage::f32;

  // Resolved accessors (defaults applied).
  int64_t embedWidth() const {
    return embeddingDim ? embeddingDim : hiddenSize;
  }
  int64_t kvHeads() const {
    return attention.numKvHeads ? attention.numKvHeads : attention.numHeads;
  }
  int64_t headDim() const {
    return attention.headDim ? attention.headDim
                             : (attention.numHeads
                                    ? hiddenSize / attention.numHeads
                                    : 0);
  }
  int64_t vHeadDim() const {
    return attention.vHeadDim ? attention.vHeadDim : headDim();
  }
  int64_t rotaryDim() const {
    return attention.rope.rotaryDim ? attention.rope.rotaryDim : headDim();
  }
  double attentionScale() const;
  bool latentAttention() const { return attention.latent.kvRank > 0; }
  /// The KV cache's geometry per layer (see LatentSpec for latent
  /// attention's).
  int64_t cacheKvHeads() const { return latentAttention() ? 1 : kvHeads(); }
  int64_t cacheHeadDim() const {
    return latentAttention() ? attention.latent.kvRank + rotaryDim()
                             : headDim();
  }
  int64_t cacheVHeadDim() const {
    return latentAttention() ? attention.latent.kvRank : vHeadDim();
  }
  bool hasFinalNorm() const {
    return finalNorm.value_or(placement != NormPlacement::Post);
  }
  /// The window of `layer` (0: global).
  int64_t windowOf(int64_t layer) const {
    return attention.window.empty()
               ? 0
               : attention.window[size_t(layer) % attention.window.size()];
  }
  bool isMoeLayer(int64_t layer) const {
    return ffn.moe.numExperts > 0 && layer >= ffn.moe.firstDenseLayers;
  }
  int64_t expertHidden() const {
    return ffn.moe.hiddenSize ? ffn.moe.hiddenSize : ffn.hiddenSize;
  }
  int64_t sharedExpertHidden() const {
    return ffn.moe.sharedHiddenSize ? ffn.moe.sharedHiddenSize
                                    : expertHidden() * ffn.moe.numShared;
  }
};

/// The keyword of a case, shared by the JSON reader, the writer and the
/// docs: a spec enum's from SpecKeywords, a dialect kind's its name in the
/// IR.
template <typename E> const char *toString(E v) {
  if constexpr (IsSpecEnum<E>::value)
    return SpecKeywords<E>::words[size_t(v)];
  else
    return mlir::tfm::stringifyEnum(v).data();
}

/// Every case of a spec enum or a dialect kind, in order.
template <typename E> std::vector<E> allCases() {
  if constexpr (IsSpecEnum<E>::value) {
    std::vector<E> cases;
    for (size_t i = 0; i < std::size(SpecKeywords<E>::words); ++i)
      cases.push_back(E(i));
    return cases;
  } else {
    return mlir::tfm::enumCases<E>();
  }
}

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_MODELSPEC_H
