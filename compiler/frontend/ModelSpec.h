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

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tfm {

enum class NormKind { Rms, Layer };
enum class Activation { Relu, Gelu, GeluTanh, Silu };
enum class AbsolutePosition { None, Sinusoidal, Learned };
enum class NormPlacement { Pre, Post, Sandwich, PostSublayer };
enum class QkNorm { None, PerHead, Full };
enum class AttentionPosition { None, Rope, Alibi, Relative };
enum class RopeLayout { Half, Interleaved };
enum class RopeScaling { None, Linear, Ntk, Llama3 };
enum class FfnKind { Glu, Mlp };
enum class MoeScoring { Softmax, Sigmoid };

struct NormSpec {
  NormKind kind = NormKind::Rms;
  double eps = 1e-5;
  bool bias = false;
  /// Added to stored gains (Gemma stores gain - 1).
  double gainOffset = 0;
};

struct RopeSpec {
  double theta = 10000;
  /// Rotated features per head; 0 means head_dim.
  int64_t rotaryDim = 0;
  RopeLayout layout = RopeLayout::Half;
  RopeScaling scaling = RopeScaling::None;
  double factor = 1;
  double lowFreqFactor = 1;
  double highFreqFactor = 4;
  int64_t originalMaxPositions = 0;
};

struct RelativeBiasSpec {
  int64_t numBuckets = 32;
  int64_t maxDistance = 128;
  bool bidirectional = false;
  /// One table (in layer 0) for all layers, as T5 does.
  bool shared = true;
};

struct AttentionSpec {
  int64_t numHeads = 0;
  int64_t numKvHeads = 0; // 0: numHeads
  int64_t headDim = 0;    // 0: hidden / numHeads
  int64_t vHeadDim = 0;   // 0: headDim
  bool qkvBias = false;
  bool outBias = false;
  QkNorm qkNorm = QkNorm::None;
  std::optional<double> scale; // default 1/sqrt(headDim)
  std::optional<double> softcap;
  bool causal = true;
  /// Sliding window per layer, cycled over the layers; 0 = global.
  std::vector<int64_t> window;
  AttentionPosition position = AttentionPosition::Rope;
  RopeSpec rope;
  RelativeBiasSpec relative;
};

struct MoeSpec {
  int64_t numExperts = 0; // 0: no mixture of experts
  int64_t topK = 0;
  int64_t hiddenSize = 0; // per expert; 0: ffn.hiddenSize
  int64_t numShared = 0;
  int64_t sharedHiddenSize = 0; // 0: hiddenSize * numShared
  bool sharedRouter = false;
  MoeScoring scoring = MoeScoring::Softmax;
  bool normTopK = true;
  double routedScale = 1;
  /// Layers [0, firstDenseLayers) use the dense FFN.
  int64_t firstDenseLayers = 0;
};

struct FfnSpec {
  FfnKind kind = FfnKind::Glu;
  Activation activation = Activation::Silu;
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

  NormSpec norm;
  NormPlacement placement = NormPlacement::Pre;
  bool parallel = false;
  bool sharedNorm = false; // parallel blocks: one norm feeds both branches
  double residualAlpha = 1;
  std::optional<bool> finalNorm; // default: placement != post

  AttentionSpec attention;
  FfnSpec ffn;
  std::optional<double> logitSoftcap;

  // Resolved accessors (defaults applied).
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

/// Keyword spellings shared by the JSON reader, the writer and the docs.
const char *toString(NormKind);
const char *toString(Activation);
const char *toString(AbsolutePosition);
const char *toString(NormPlacement);
const char *toString(QkNorm);
const char *toString(AttentionPosition);
const char *toString(RopeLayout);
const char *toString(RopeScaling);
const char *toString(FfnKind);
const char *toString(MoeScoring);

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_MODELSPEC_H
