//===- Gemma.cpp - gemma and gemma2 configs ---------------------*- C++ -*-===//
//
// Gemma stores norm gains minus one, scales the embeddings by √hidden and
// ties the LM head to them; Gemma 2 adds norms after each sublayer, logit
// soft-capping and a sliding window on even layers.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
#include "compiler/frontend/hf/HfFamilies.h"

#include <cmath>

using namespace tfm;

namespace {

void gemmaCommon(JsonFields &f, ModelSpec &spec) {
  spec.norm.gainOffset = 1.0;
  spec.embeddingScale = std::sqrt(double(spec.hiddenSize));
  hf::readAttentionBias(f, spec);
  if (!spec.attention.headDim)
    spec.attention.headDim = 256;
}

} // namespace

std::optional<ModelSpec> hf::readGemma(JsonFields &f, const std::string &type) {
  LlamaKeys keys;
  keys.activation = "gelu_pytorch_tanh";
  keys.tied = true;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  // The MLP reads hidden_act; a differing hidden_activation is reported.
  std::string other;
  if (f.string("hidden_activation", other) && f.has("hidden_act")) {
    ModelSpec probe;
    readActivation(f, "hidden_activation", other, probe);
    if (probe.ffn.activation != spec.ffn.activation)
      f.diags().warning("hidden_activation",
                        "differs from hidden_act, which Gemma's MLP uses");
  }
  gemmaCommon(f, spec);
  return finish(f, spec);
}

std::optional<ModelSpec> hf::readGemma2(JsonFields &f,
                                        const std::string &type) {
  LlamaKeys keys;
  keys.activationKey = "hidden_activation";
  keys.activation = "gelu_pytorch_tanh";
  keys.tied = true;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  f.raw("hidden_act"); // superseded by hidden_activation in Gemma 2
  gemmaCommon(f, spec);
  spec.placement = NormPlacement::Sandwich;
  spec.weightNaming = "sandwich";
  AttentionSpec &attn = spec.attention;
  double scalar = 256;
  f.number("query_pre_attn_scalar", scalar, /*positive=*/true);
  attn.scale = 1.0 / std::sqrt(scalar);
  std::optional<double> attnCap = 50.0, finalCap = 30.0;
  if (f.has("attn_logit_softcapping"))
    f.number("attn_logit_softcapping", attnCap, /*positive=*/true);
  else if (f.raw("attn_logit_softcapping"))
    attnCap.reset(); // explicit null: no capping
  if (f.has("final_logit_softcapping"))
    f.number("final_logit_softcapping", finalCap, /*positive=*/true);
  else if (f.raw("final_logit_softcapping"))
    finalCap.reset();
  attn.softcap = attnCap;
  spec.logitSoftcap = finalCap;
  // Even layers use the sliding window, odd layers attend globally.
  int64_t window = 4096;
  f.integer("sliding_window", window, 1);
  attn.window = {window, 0};
  return finish(f, spec);
}

// llama.cpp's gemma and gemma2: its converter stores the norm gains whole
// (gain - 1 + 1), so no offset is added. The file does not keep Gemma 2's
// query_pre_attn_scalar: llama.cpp scales by 1/√head_dim, except for the
// 46-layer model (27B), whose scalar is hidden / heads; so does tfm.
void hf::ggufGemma(GgufFields &, ModelSpec &spec) {
  spec.ffn.activation = Activation::gelu_tanh;
  spec.embeddingScale = std::sqrt(double(spec.hiddenSize));
}

void hf::ggufGemma2(GgufFields &f, ModelSpec &spec) {
  ggufGemma(f, spec);
  AttentionSpec &attn = spec.attention;
  double cap = 0;
  if (f.archNumber("attn_logit_softcapping", cap, /*positive=*/true))
    attn.softcap = cap;
  if (f.archNumber("final_logit_softcapping", cap, /*positive=*/true))
    spec.logitSoftcap = cap;
  int64_t window = 4096;
  f.archInteger("attention.sliding_window", window, 1);
  attn.window = {window, 0}; // even layers local, odd layers global
  if (spec.numLayers == 46 && attn.numHeads > 0)
    attn.scale = 1.0 / std::sqrt(double(spec.hiddenSize / attn.numHeads));
}
