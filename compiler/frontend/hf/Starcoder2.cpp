//===- Starcoder2.cpp - starcoder2 configs ----------------------*- C++ -*-===//
//
// LayerNorm and a GELU MLP (c_fc, c_proj), biases everywhere (use_bias),
// GQA with a sliding window.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readStarcoder2(JsonFields &f,
                                            const std::string &type) {
  LlamaKeys keys;
  keys.norm = NormKind::layer;
  keys.normEps = 1e-5;
  keys.normEpsKey = "norm_epsilon";
  keys.activation = "gelu_pytorch_tanh";
  keys.ffn = FfnKind::Mlp;
  keys.tied = true;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "starcoder2";
  bool bias = true;
  f.boolean("use_bias", bias);
  spec.attention.qkvBias = spec.attention.outBias = spec.ffn.bias = bias;
  readSlidingWindow(f, spec);
  // Keys of the original release, with the only values its code ran.
  std::string mlp = "default", norm = "layer_norm";
  f.string("mlp_type", mlp);
  f.string("norm_type", norm);
  if (mlp != "default")
    f.diags().error("mlp_type", "expected \"default\", got \"" + mlp + "\"");
  if (norm != "layer_norm")
    f.diags().error("norm_type",
                    "expected \"layer_norm\", got \"" + norm + "\"");
  ignore(f, {"embedding_dropout", "residual_dropout"});
  return finish(f, spec);
}

// llama.cpp's starcoder2: LayerNorm, a GELU (tanh) MLP; biases show in the
// tensors. The file keeps no sliding window, and llama.cpp attends over
// the whole context.
void hf::ggufStarcoder2(GgufFields &, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu_tanh;
}
