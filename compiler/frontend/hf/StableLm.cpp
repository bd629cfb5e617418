//===- StableLm.cpp - stablelm configs --------------------------*- C++ -*-===//
//
// LayerNorm with biases, a SiLU GLU, partial rotary, Q/K/V biases
// (use_qkv_bias), optionally a parallel block on one norm.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readStableLm(JsonFields &f,
                                          const std::string &type) {
  LlamaKeys keys;
  keys.norm = NormKind::layer;
  keys.partialRotary = 0.25;
  keys.normEps = 1e-5;
  keys.normEpsKey = "layer_norm_eps";
  ModelSpec spec = readLlamaStyle(f, type, keys);
  AttentionSpec &attn = spec.attention;
  f.boolean("use_qkv_bias", attn.qkvBias);
  f.boolean("use_parallel_residual", spec.parallel);
  spec.sharedNorm = spec.parallel;
  bool qkNorm = false;
  f.boolean("qk_layernorm", qkNorm);
  if (qkNorm) { // a LayerNorm without bias over each head, its own gains
    spec.weightNaming = "stablelm";
    attn.qkNorm = QkNorm::PerHeadGains;
    attn.qkNormBias = false;
  }
  ignore(f, {"hidden_dropout"});
  return finish(f, spec);
}

// llama.cpp's stablelm: a parallel block on one norm when the layer has no
// ffn_norm; per-head QK-norm gains show in the tensors.
void hf::ggufStableLm(GgufFields &f, ModelSpec &spec) {
  spec.parallel = spec.sharedNorm =
      !f.hasLayerTensor(spec.numLayers - 1, "ffn_norm");
}
