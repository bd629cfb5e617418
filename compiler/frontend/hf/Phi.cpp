//===- Phi.cpp - phi configs (Phi-1, Phi-1.5, Phi-2) ------------*- C++ -*-===//
//
// A parallel block fed by one LayerNorm, partial rotary, biases on every
// projection and on the LM head, optionally a LayerNorm over each head of Q
// and K.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readPhi(JsonFields &f, const std::string &type) {
  LlamaKeys keys;
  keys.norm = NormKind::layer;
  keys.partialRotary = 0.5;
  keys.normEps = 1e-5;
  keys.normEpsKey = "layer_norm_eps";
  keys.activation = "gelu_new";
  keys.ffn = FfnKind::Mlp;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "phi";
  AttentionSpec &attn = spec.attention;
  attn.qkvBias = attn.outBias = true;
  spec.ffn.bias = true;
  spec.parallel = spec.sharedNorm = true;
  spec.lmHeadBias = true;
  // qk_layernorm: a LayerNorm over each head of Q and K, its gain and bias
  // shared by the heads (as transformers since 4.48 applies it; 4.47 ran
  // it over all heads at once, which fails for more than one head).
  bool qkNorm = false;
  f.boolean("qk_layernorm", qkNorm);
  if (qkNorm) {
    attn.qkNorm = QkNorm::PerHead;
    attn.qkNormBias = true;
  }
  ignore(f, {"resid_pdrop", "embd_pdrop"});
  return finish(f, spec);
}

// llama.cpp's phi2: the same block; the file states the rotary width.
void hf::ggufPhi2(GgufFields &, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu_tanh;
  spec.parallel = spec.sharedNorm = true;
}
