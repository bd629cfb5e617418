//===- Phi3.cpp - phi3 configs ----------------------------------*- C++ -*-===//
//
// Llama-style, with Q/K/V fused in qkv_proj and gate/up in gate_up_proj,
// a sliding window, and LongRoPE scaling (the 128k models).
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/GgufFields.h"
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
  // Only longrope scaling reads it.
  ignore(f, {"original_max_position_embeddings", "resid_pdrop",
             "embd_pdrop"});
  return finish(f, spec);
}

// llama.cpp's phi3: Q/K/V fused in attn_qkv and gate/up in ffn_up (the
// tensors show both), the sliding window as a key.
void hf::ggufPhi3(GgufFields &f, ModelSpec &spec) {
  int64_t window = 0; // the converter writes 0 for none
  if (f.archInteger("attention.sliding_window", window, 0) && window > 0)
    spec.attention.window = {window};
  // LongRoPE: both factor lists as tensors, the original context and the
  // attention factor as keys.
  const rt::StoredTensor *longF = f.tensor("rope_factors_long.weight");
  const rt::StoredTensor *shortF = f.tensor("rope_factors_short.weight");
  if (!longF && !shortF)
    return;
  RopeSpec &rope = spec.attention.rope;
  if (!longF || !shortF) {
    f.diags().error(longF ? "rope_factors_short.weight"
                          : "rope_factors_long.weight",
                    "missing; LongRoPE needs both factor lists");
    return;
  }
  rope.scaling = RopeScaling::Longrope;
  f.positiveFloats(*shortF, rope.freqFactors);
  f.positiveFloats(*longF, rope.longFactors);
  f.archInteger("rope.scaling.original_context_length",
                rope.originalMaxPositions, 1, /*required=*/true);
  f.archNumber("rope.scaling.attn_factor", rope.attentionFactor,
               /*positive=*/true);
}
