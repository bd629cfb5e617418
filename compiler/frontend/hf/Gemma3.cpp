//===- Gemma3.cpp - gemma3_text configs -------------------------*- C++ -*-===//
//
// Gemma 2's sandwich norms and scaled embeddings, plus an RMSNorm over each
// head of Q and K, local layers (a sliding window, RoPE base
// rope_local_base_freq, unscaled) and every sliding_window_pattern-th layer
// global (rope_theta, rope_scaling); no soft-capping unless asked.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace tfm;
namespace json = llvm::json;

std::optional<ModelSpec> hf::readGemma3(JsonFields &f,
                                        const std::string &type) {
  LlamaKeys keys;
  keys.activationKey = "hidden_activation";
  keys.activation = "gelu_pytorch_tanh";
  keys.ropeTheta = 1e6;
  keys.tied = true;
  keys.headDim = 256;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  f.raw("hidden_act");
  AttentionSpec &attn = spec.attention;
  spec.norm.gainOffset = 1.0;
  spec.embeddingScale = std::sqrt(double(spec.hiddenSize));
  spec.placement = NormPlacement::Sandwich;
  spec.weightNaming = "sandwich";
  attn.qkNorm = QkNorm::PerHead;
  readAttentionBias(f, spec);
  double scalar = 256;
  f.number("query_pre_attn_scalar", scalar, /*positive=*/true);
  attn.scale = 1.0 / std::sqrt(scalar);
  f.number("attn_logit_softcapping", attn.softcap, /*positive=*/true);
  f.number("final_logit_softcapping", spec.logitSoftcap, /*positive=*/true);
  attn.rope.localTheta = 10000;
  f.number("rope_local_base_freq", attn.rope.localTheta, /*positive=*/true);

  // Which layers slide: layer_types when given, else all but every
  // sliding_window_pattern-th.
  int64_t window = 4096, pattern = 6;
  f.integer("sliding_window", window, 1);
  f.integer("sliding_window_pattern", pattern, 1);
  attn.window.clear();
  if (const json::Value *v = f.raw("layer_types"); v && !v->getAsNull()) {
    const json::Array *types = v->getAsArray();
    if (!types || int64_t(types->size()) != spec.numLayers)
      f.diags().error("layer_types",
                      llvm::formatv("expected a list of {0} layer types",
                                    spec.numLayers)
                          .str());
    for (size_t i = 0; types && i < types->size(); ++i) {
      std::optional<llvm::StringRef> t = (*types)[i].getAsString();
      if (t == "sliding_attention")
        attn.window.push_back(window);
      else if (t == "full_attention")
        attn.window.push_back(0);
      else
        f.diags().error(llvm::formatv("layer_types[{0}]", i).str(),
                        "expected \"sliding_attention\" or "
                        "\"full_attention\", got " +
                            describeJson((*types)[i]));
    }
  } else {
    for (int64_t l = 0; l < pattern; ++l)
      attn.window.push_back((l + 1) % pattern != 0 ? window : 0);
  }
  return finish(f, spec);
}

// llama.cpp's gemma3: Gemma 2's block with a QK-norm per head (the tensors
// show it; the converter stores all gains whole) and no soft-capping.
// llama.cpp fixes what the file does not say: every sixth layer attends
// globally, the others over attention.sliding_window at RoPE base 10000,
// unscaled; the query is scaled by 1/√head_dim, except in the 62-layer
// model (27B), by 1/√(hidden / heads).
void hf::ggufGemma3(GgufFields &f, ModelSpec &spec) {
  ggufGemma(f, spec);
  AttentionSpec &attn = spec.attention;
  int64_t window = 0;
  f.archInteger("attention.sliding_window", window, 1, /*required=*/true);
  attn.window.assign(6, window);
  attn.window.back() = 0;
  attn.rope.localTheta = 10000.0;
  if (spec.numLayers == 62 && attn.numHeads > 0)
    attn.scale = 1.0 / std::sqrt(double(spec.hiddenSize / attn.numHeads));
}
