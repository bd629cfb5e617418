//===- Persimmon.cpp - persimmon configs ------------------------*- C++ -*-===//
//
// Q/K/V fused per head with biases, a LayerNorm (with bias) over each head
// of Q and K, partial rotary, and a ReLU² MLP.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readPersimmon(JsonFields &f,
                                           const std::string &type) {
  LlamaKeys keys;
  keys.norm = NormKind::layer;
  keys.partialRotary = 0.5;
  keys.normEps = 1e-5;
  keys.normEpsKey = "layer_norm_eps";
  keys.ropeTheta = 25000;
  keys.activation = "relu2";
  keys.ffn = FfnKind::Mlp;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "persimmon";
  AttentionSpec &attn = spec.attention;
  attn.qkvBias = attn.outBias = spec.ffn.bias = true;
  bool qkNorm = true;
  f.boolean("qk_layernorm", qkNorm);
  if (qkNorm)
    attn.qkNorm = QkNorm::PerHead;
  ignore(f, {"hidden_dropout"});
  return finish(f, spec);
}
