//===- WeightNames.h - tfm weight names and where files keep them -*- C++ -*-===//
//
// tfm names every weight once (`layers.3.attn.q.weight`); this file maps those
// names to the tensor names of Hugging Face checkpoints (per model family)
// and of llama.cpp GGUF files, with the transforms their layouts need.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_WEIGHTNAMES_H
#define TFM_RUNTIME_WEIGHTNAMES_H

#include "runtime/WeightFile.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm::rt {

/// The Hugging Face checkpoint namings (WeightLayout::naming), in order.
const std::vector<std::string_view> &hfNamings();

/// "layers.{layer}.{rest}", the name of a per-layer weight.
std::string layerWeight(int64_t layer, std::string_view rest);

/// What the loader must know of the model beyond names and shapes.
struct WeightLayout {
  /// Hugging Face tensor naming: "llama" (llama, mistral, qwen2, qwen3,
  /// mixtral, qwen2_moe, gemma, stablelm, granite), "sandwich" (gemma2,
  /// olmo2: norms after sublayers), "gpt2", "gpt_neox", "bloom", "phi",
  /// "phi3", "starcoder2", "falcon", "opt", "persimmon", "cohere",
  /// "stablelm" (llama's names, and a QK-norm tensor per head) or
  /// "deepseek" (latent attention, shared experts).
  std::string naming = "llama";
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t rotaryDim = 0;
  /// The model rotates interleaved pairs (2i, 2i+1), so its Q/K rows must be
  /// in that order; Hugging Face checkpoints store the half-split order.
  bool ropeInterleaved = false;
  /// Value features per head (0: headDim).
  int64_t vHeadDim = 0;
  /// Latent attention's latent width (0: none): Q rows per head are
  /// headDim - rotaryDim from the latent, then rotaryDim rotated; the
  /// key/value down-projection is the latent's rows, then the rotated key's.
  int64_t latentRank = 0;
  /// Hyperparameters a GGUF file states too, which must agree with these
  /// (0: not checked).
  int64_t layers = 0;
  int64_t hidden = 0;
  double ropeTheta = 0;
  double normEps = 0;
};

/// How to build one tfm weight from stored tensors.
struct WeightRecipe {
  /// One name, or one per expert to stack along a new outer dimension.
  std::vector<std::string> sources;
  /// 2-D sources are stored input-major ([in, out], GPT-2's Conv1D).
  bool transpose = false;
  /// Several sources are consecutive rows of the weight (StableLM's
  /// per-head norms), not a stack along a new outer dimension.
  bool concat = false;
  /// The source may have any shape with the weight's element count
  /// (Cohere's [heads, head_dim] gains for a gain per head).
  bool flatten = false;
  /// Rows taken from a fused tensor (after transposing): from each group
  /// of `groupRows` stored rows, rows [rowOffset, rowOffset + takeRows).
  /// The part's rows are the groups' takes in order. 0: the tensor is the
  /// weight itself.
  int64_t groupRows = 0;
  int64_t rowOffset = 0;
  int64_t takeRows = 0;

  bool sliced() const { return groupRows > 0; }
  /// The stored rows holding a part of `partRows` rows (0: not a whole
  /// number of takes).
  int64_t storedRows(int64_t partRows) const {
    if (!sliced())
      return partRows;
    return takeRows > 0 && partRows % takeRows == 0
               ? partRows / takeRows * groupRows
               : 0;
  }
};

/// The recipes that may provide tfm weight `name` in a file of `format`,
/// most likely first. `outerDim` is the requested size of dimension 0 (the
/// expert count of stacked expert weights).
std::vector<WeightRecipe> weightRecipes(std::string_view name,
                                        WeightFormat format,
                                        const WeightLayout &layout,
                                        int64_t outerDim);

/// A per-layer tensor name of a llama.cpp GGUF file, "blk.N.<base>.<suffix>"
/// ("blk.3.attn_v.weight": 3, "attn_v", "weight"); false for another name.
bool ggufLayerTensor(std::string_view name, int64_t &layer,
                     std::string_view &base, std::string_view &suffix);

/// The tfm weight a tensor of a llama.cpp GGUF file provides
/// ("blk.3.attn_q.weight" -> "layers.3.attn.q.weight"); none for a name
/// tfm does not map.
std::optional<std::string> tfmNameOfGgufTensor(std::string_view name);

/// Which RoPE pair layout the Q/K rows of a file are in: true for GGUF files
/// of the llama.cpp architectures that rotate interleaved pairs (llama and
/// granite, whose converter permutes those rows, and command-r), and for
/// checkpoints of a family that stores them so (Cohere).
bool fileHasInterleavedQk(const WeightSource &source,
                          const WeightLayout &layout);

/// True for the weights whose rows are laid out per RoPE head (Q and K
/// projections and biases).
bool isRotaryProjection(std::string_view name, bool &isKey);

} // namespace tfm::rt

#endif // TFM_RUNTIME_WEIGHTNAMES_H
