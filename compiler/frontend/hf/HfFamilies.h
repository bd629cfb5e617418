//===- HfFamilies.h - one reader per Hugging Face model family --*- C++ -*-===//
//
// Each family's file maps its config.json keys onto ModelSpec fields and
// refuses what tfm cannot run, naming the key. Its tensor names are data in
// runtime/WeightNames.cpp, under the spec's weightNaming. Defaults for absent
// keys follow the family's transformers config class.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_FRONTEND_HF_HFFAMILIES_H
#define TFM_COMPILER_FRONTEND_HF_HFFAMILIES_H

#include "compiler/frontend/JsonFields.h"

namespace tfm {
class GgufFields;
}

namespace tfm::hf {

/// A family's reader: the config's keys into a spec; none after an error.
using FamilyReader = std::optional<ModelSpec> (*)(JsonFields &f,
                                                  const std::string &type);

struct Family {
  const char *modelType;
  FamilyReader read;
};

/// Every family tfm reads, by model_type.
llvm::ArrayRef<Family> families();

// Helpers the family files share (Common.cpp).

/// bos/eos ids may be an integer or a list (the first is kept).
void readTokenId(JsonFields &f, llvm::StringRef key,
                 std::optional<int64_t> &out);
/// The rotary dimensions a fraction `pct` of a head of `headDim` gives.
int64_t partialRotary(SpecDiagnostics &diags, const char *key,
                      int64_t headDim, double pct);
/// YaRN's magnitude term 0.1·m·ln(factor) + 1 (1 for factor ≤ 1).
double yarnMscale(double factor, double m);
/// An integer key that may be null: false (and `out` kept) when null or
/// absent.
bool nullableInteger(JsonFields &f, const char *key, int64_t &out,
                     int64_t min);
/// `rope_scaling`: default, linear or llama3.
void readRopeScaling(JsonFields &f, ModelSpec &spec);
/// The FFN activation from `key` (default `fallback`).
void readActivation(JsonFields &f, const char *key, std::string fallback,
                    ModelSpec &spec);
/// LayerNorm with biases, biases on every projection, a plain MLP.
ModelSpec gptStyleSpec(const std::string &name);
/// What nearly every config names alike: _name_or_path (the name, else the
/// model type), vocab_size, hidden_size, num_hidden_layers,
/// num_attention_heads, max_position_embeddings and the bos/eos ids.
void readSizes(JsonFields &f, const std::string &type, ModelSpec &spec);
/// attention_bias (default false) sets the Q/K/V and output biases
/// together.
void readAttentionBias(JsonFields &f, ModelSpec &spec);
/// Reads the checkpoint dtype, reports unread keys, and checks the head
/// counts with the keys the user wrote; none after an error.
std::optional<ModelSpec> finish(JsonFields &f, ModelSpec spec);

/// What llama-style configs name alike, and the defaults a family changes.
struct LlamaKeys {
  double normEps = 1e-6;
  const char *normEpsKey = "rms_norm_eps";
  NormKind norm = NormKind::rms;
  double ropeTheta = 10000;
  const char *activationKey = "hidden_act";
  std::string activation = "silu";
  FfnKind ffn = FfnKind::Glu;
  bool tied = false;
  /// head_dim when the key is absent (0: hidden_size / heads).
  int64_t headDim = 0;
  /// partial_rotary_factor when the key is absent.
  double partialRotary = 1.0;
};

/// Reads the sizes, norm, RoPE, activation and tying keys of a llama-style
/// config (vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
/// num_key_value_heads, head_dim, intermediate_size, ...).
ModelSpec readLlamaStyle(JsonFields &f, const std::string &type,
                         const LlamaKeys &keys = {});

/// `sliding_window` for every layer (null or absent: `fallback`).
void readSlidingWindow(JsonFields &f, ModelSpec &spec, int64_t fallback = 0);

/// Marks keys as read that do not change inference.
void ignore(JsonFields &f, std::initializer_list<const char *> keys);

// The family readers, one per file.
std::optional<ModelSpec> readLlama(JsonFields &, const std::string &);
std::optional<ModelSpec> readMistral(JsonFields &, const std::string &);
std::optional<ModelSpec> readQwen2(JsonFields &, const std::string &);
std::optional<ModelSpec> readQwen2Moe(JsonFields &, const std::string &);
std::optional<ModelSpec> readQwen3(JsonFields &, const std::string &);
std::optional<ModelSpec> readGemma(JsonFields &, const std::string &);
std::optional<ModelSpec> readGemma2(JsonFields &, const std::string &);
std::optional<ModelSpec> readGemma3(JsonFields &, const std::string &);
std::optional<ModelSpec> readOlmo2(JsonFields &, const std::string &);
std::optional<ModelSpec> readGpt2(JsonFields &, const std::string &);
std::optional<ModelSpec> readGptNeox(JsonFields &, const std::string &);
std::optional<ModelSpec> readBloom(JsonFields &, const std::string &);
std::optional<ModelSpec> readPhi(JsonFields &, const std::string &);
std::optional<ModelSpec> readPhi3(JsonFields &, const std::string &);
std::optional<ModelSpec> readStableLm(JsonFields &, const std::string &);
std::optional<ModelSpec> readStarcoder2(JsonFields &, const std::string &);
std::optional<ModelSpec> readFalcon(JsonFields &, const std::string &);
std::optional<ModelSpec> readOpt(JsonFields &, const std::string &);
std::optional<ModelSpec> readGranite(JsonFields &, const std::string &);
std::optional<ModelSpec> readCohere(JsonFields &, const std::string &);
std::optional<ModelSpec> readPersimmon(JsonFields &, const std::string &);
std::optional<ModelSpec> readDeepseekV2(JsonFields &, const std::string &);

// GGUF architectures (llama.cpp's general.architecture). GgufConfig.cpp
// reads what every architecture states alike and what the tensors show;
// an architecture's reader, in its family's file, adds what llama.cpp's
// graph for it fixes and the file does not state (norm kind, activation,
// block layout, RoPE pair order) and reads its own keys.
using GgufReader = void (*)(GgufFields &f, ModelSpec &spec);

struct GgufArch {
  const char *name;
  GgufReader read;
};

/// Every GGUF architecture tfm reads.
llvm::ArrayRef<GgufArch> ggufArchitectures();

void ggufLlama(GgufFields &, ModelSpec &);
void ggufGranite(GgufFields &, ModelSpec &);
void ggufOlmo2(GgufFields &, ModelSpec &);
void ggufQwen2(GgufFields &, ModelSpec &);
void ggufQwen2Moe(GgufFields &, ModelSpec &);
void ggufQwen3(GgufFields &, ModelSpec &);
void ggufPhi2(GgufFields &, ModelSpec &);
void ggufPhi3(GgufFields &, ModelSpec &);
void ggufGemma(GgufFields &, ModelSpec &);
void ggufGemma2(GgufFields &, ModelSpec &);
void ggufGemma3(GgufFields &, ModelSpec &);
void ggufStarcoder2(GgufFields &, ModelSpec &);
void ggufFalcon(GgufFields &, ModelSpec &);
void ggufStableLm(GgufFields &, ModelSpec &);
void ggufCommandR(GgufFields &, ModelSpec &);
void ggufBloom(GgufFields &, ModelSpec &);
void ggufGpt2(GgufFields &, ModelSpec &);
void ggufGptNeox(GgufFields &, ModelSpec &);
void ggufDeepseek2(GgufFields &, ModelSpec &);

} // namespace tfm::hf

#endif // TFM_COMPILER_FRONTEND_HF_HFFAMILIES_H
