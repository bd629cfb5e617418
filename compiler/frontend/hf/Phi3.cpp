//===- Phi3.cpp - phi3 configs ----------------------------------*- C++ -*-===//
//
// Llama-style, with Q/K/V fused in qkv_proj and gate/up in gate_up_proj,
// and a sliding window.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;

std::optional<ModelSpec> hf::readPhi3(JsonFields &f, const std::string &type) {
  LlamaKeys keys;
  keys.normEps = 1e-5;
  ModelSpec spec = readLlamaStyle(f, type, keys);
  spec.weightNaming = "phi3";
  readSlidingWindow(f, spec);
  bool bias = false;
  f.boolean("attention_bias", bias);
  if (bias)
    f.diags().error("attention_bias", "Phi-3's attention has no biases");
  // Only longrope scaling reads it, and that is refused above.
  ignore(f, {"original_max_position_embeddings", "resid_pdrop",
             "embd_pdrop"});
  return finish(f, spec);
}
