//===- Qwen.cpp - qwen2, qwen2_moe and qwen3 configs ------------*- C++ -*-===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include "llvm/Support/FormatVariadic.h"

using namespace tfm;
namespace json = llvm::json;

namespace {

/// Qwen's sliding-window layers: with use_sliding_window, the layers from
/// max_window_layers on (or those layer_types names "sliding_attention")
/// attend over the last sliding_window positions.
void readSlidingLayers(JsonFields &f, ModelSpec &spec) {
  bool sliding = false;
  int64_t window = 4096, from = 28;
  f.boolean("use_sliding_window", sliding);
  hf::nullableInteger(f, "sliding_window", window, 1);
  f.integer("max_window_layers", from, 0);
  const json::Value *types = f.raw("layer_types");
  if (!sliding || spec.numLayers <= 0)
    return;
  std::vector<int64_t> &windows = spec.attention.window;
  windows.assign(size_t(spec.numLayers), 0);
  for (int64_t l = from; l < spec.numLayers; ++l)
    windows[size_t(l)] = window;
  const json::Array *list = types ? types->getAsArray() : nullptr;
  if (types && !types->getAsNull() &&
      (!list || int64_t(list->size()) != spec.numLayers)) {
    f.diags().error("layer_types",
                    llvm::formatv("expected a list of num_hidden_layers ({0}) "
                                  "layer types, got {1}",
                                  spec.numLayers, describeJson(*types)));
    return;
  }
  for (size_t l = 0; list && l < list->size(); ++l) {
    std::optional<llvm::StringRef> t = (*list)[l].getAsString();
    if (!t || (*t != "sliding_attention" && *t != "full_attention")) {
      f.diags().error(llvm::formatv("layer_types[{0}]", l).str(),
                      "expected \"sliding_attention\" or \"full_attention\", "
                      "got " + describeJson((*list)[l]));
      return;
    }
    windows[l] = *t == "sliding_attention" ? window : 0;
  }
}

} // namespace

std::optional<ModelSpec> hf::readQwen2(JsonFields &f, const std::string &type) {
  ModelSpec spec = readLlamaStyle(f, type);
  spec.attention.qkvBias = true;
  readSlidingLayers(f, spec);
  return finish(f, spec);
}

std::optional<ModelSpec> hf::readQwen3(JsonFields &f, const std::string &type) {
  LlamaKeys keys;
  keys.headDim = 128;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  readAttentionBias(f, spec);
  // RMSNorm over each head of Q and K, before RoPE.
  spec.attention.qkNorm = QkNorm::PerHead;
  readSlidingLayers(f, spec);
  return finish(f, spec);
}

/// Routed experts with a shared expert gated by sigmoid(x · w). Dense
/// layers (mlp_only_layers, or off the decoder_sparse_step) must be the
/// first ones.
std::optional<ModelSpec> hf::readQwen2Moe(JsonFields &f,
                                          const std::string &type) {
  ModelSpec spec = readLlamaStyle(f, type);
  spec.attention.qkvBias = true;
  readSlidingLayers(f, spec);
  MoeSpec &moe = spec.ffn.moe;
  moe.numExperts = 60;
  moe.topK = 4;
  moe.hiddenSize = 1408;
  int64_t shared = 5632;
  moe.normTopK = false;
  f.integer("num_experts", moe.numExperts, 1);
  f.integer("num_experts_per_tok", moe.topK, 1);
  f.integer("moe_intermediate_size", moe.hiddenSize, 1);
  f.integer("shared_expert_intermediate_size", shared, 0);
  f.boolean("norm_topk_prob", moe.normTopK);
  if (shared > 0) {
    moe.numShared = 1;
    moe.sharedHiddenSize = shared;
    moe.sharedRouter = true;
  }
  // Which layers are dense: those listed, and those off the sparse step.
  int64_t step = 1;
  f.integer("decoder_sparse_step", step, 1);
  std::vector<bool> dense(size_t(std::max<int64_t>(spec.numLayers, 0)));
  for (size_t l = 0; l < dense.size(); ++l)
    dense[l] = (int64_t(l) + 1) % step != 0;
  if (const json::Value *v = f.raw("mlp_only_layers"); v && !v->getAsNull()) {
    const json::Array *list = v->getAsArray();
    if (!list)
      f.diags().error("mlp_only_layers",
                      "expected a list of layer indices, got " +
                          describeJson(*v));
    for (size_t i = 0; list && i < list->size(); ++i) {
      std::optional<int64_t> l = (*list)[i].getAsInteger();
      if (!l || *l < 0 || *l >= spec.numLayers) {
        f.diags().error(llvm::formatv("mlp_only_layers[{0}]", i).str(),
                        llvm::formatv("expected a layer index below "
                                      "num_hidden_layers ({0}), got {1}",
                                      spec.numLayers, describeJson((*list)[i]))
                            .str());
        continue;
      }
      dense[size_t(*l)] = true;
    }
  }
  int64_t first = 0;
  while (first < int64_t(dense.size()) && dense[size_t(first)])
    ++first;
  for (size_t l = size_t(first); l < dense.size(); ++l)
    if (dense[l]) {
      f.diags().error(
          "mlp_only_layers",
          llvm::formatv("layer {0} is dense after the mixture-of-experts "
                        "layer {1}; tfm builds dense layers only before the "
                        "first mixture (mlp_only_layers [0, ..., k-1] with "
                        "decoder_sparse_step 1)",
                        l, first)
              .str());
      break;
    }
  moe.firstDenseLayers = first;
  return finish(f, spec);
}

// llama.cpp's qwen2, qwen2moe and qwen3: RMSNorm, a SiLU GLU, RoPE over
// half-split pairs; biases, shared experts and QK-norms show in the
// tensors. llama.cpp's qwen2moe keeps the top-k weights as the softmax
// gave them (Qwen1.5-MoE's norm_topk_prob is false) unless the file says.
void hf::ggufQwen2(GgufFields &, ModelSpec &) {}

void hf::ggufQwen2Moe(GgufFields &f, ModelSpec &spec) {
  spec.ffn.moe.normTopK = false;
  f.archBoolean("expert_weights_norm", spec.ffn.moe.normTopK);
}

void hf::ggufQwen3(GgufFields &, ModelSpec &) {}
