//===- GgufConfig.cpp - GGUF metadata → ModelSpec ---------------*- C++ -*-===//
//
// Reads the `{arch}.*` keys of llama.cpp's GGUF metadata for architecture
// `llama` (which covers Llama, Mistral and Mixtral files). llama.cpp stores
// the Q/K rows of these files for interleaved RoPE pairs, so the spec says
// so and the weights load without reordering.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Frontend.h"
#include "compiler/StorageTypes.h"
#include "compiler/frontend/JsonFields.h"
#include "runtime/Gguf.h"

#include "llvm/Support/FormatVariadic.h"

using namespace tfm;
using llvm::formatv;
using rt::GgufValue;

namespace {

class GgufFields {
public:
  GgufFields(const rt::GgufFile &file, SpecDiagnostics &diags)
      : file_(file), diags_(diags) {}

  /// Reads an integer key; returns false (with an error if `required` or
  /// the value is bad) when absent.
  bool integer(const std::string &key, int64_t &out, int64_t min,
               bool required) {
    const GgufValue *v = file_.metadata(key);
    if (!v) {
      if (required)
        diags_.error(key, formatv("missing required key (an integer >= {0})",
                                  min));
      return false;
    }
    std::optional<int64_t> i = v->asInt();
    if (!i || *i < min) {
      diags_.error(key, formatv("expected an integer >= {0}, got {1}", min,
                                describe(*v)));
      return false;
    }
    out = *i;
    return true;
  }

  bool number(const std::string &key, double &out, bool positive) {
    const GgufValue *v = file_.metadata(key);
    if (!v)
      return false;
    std::optional<double> d = v->asDouble();
    if (!d || !std::isfinite(*d) || (positive && !(*d > 0))) {
      diags_.error(key, formatv("expected a finite {0}number, got {1}",
                                positive ? "positive " : "", describe(*v)));
      return false;
    }
    out = *d;
    return true;
  }

  bool string(const std::string &key, std::string &out) {
    const GgufValue *v = file_.metadata(key);
    if (!v)
      return false;
    if (v->type != GgufValue::Type::String) {
      diags_.error(key, "expected a string, got " + describe(*v));
      return false;
    }
    out = v->string;
    return true;
  }

  static std::string describe(const GgufValue &v) {
    if (v.type == GgufValue::Type::String)
      return "\"" + v.string + "\"";
    if (auto d = v.asDouble())
      return formatNumber(*d) + " (" + v.typeName() + ")";
    return v.typeName();
  }

private:
  const rt::GgufFile &file_;
  SpecDiagnostics &diags_;
};

} // namespace

std::optional<ModelSpec> tfm::readGgufConfig(const rt::GgufFile &file,
                                             SpecDiagnostics &diags) {
  GgufFields f(file, diags);
  std::string arch;
  if (!f.string("general.architecture", arch)) {
    if (!diags.hasErrors())
      diags.error("general.architecture", "missing required key");
    return std::nullopt;
  }
  if (arch != "llama") {
    diags.error("general.architecture",
                "unsupported architecture \"" + arch +
                    "\" (tfm reads GGUF metadata of architecture llama)");
    return std::nullopt;
  }
  const std::string p = arch + ".";
  ModelSpec spec;
  spec.name = "llama";
  f.string("general.name", spec.name);
  AttentionSpec &attn = spec.attention;

  f.integer(p + "embedding_length", spec.hiddenSize, 1, true);
  f.integer(p + "block_count", spec.numLayers, 1, true);
  f.integer(p + "feed_forward_length", spec.ffn.hiddenSize, 1, true);
  f.integer(p + "attention.head_count", attn.numHeads, 1, true);
  f.integer(p + "attention.head_count_kv", attn.numKvHeads, 1, false);
  f.integer(p + "context_length", spec.maxSeqLen, 1, false);
  f.integer(p + "attention.key_length", attn.headDim, 1, false);
  int64_t valueLength = 0;
  if (f.integer(p + "attention.value_length", valueLength, 1, false))
    attn.vHeadDim = valueLength;
  if (!f.number(p + "attention.layer_norm_rms_epsilon", spec.norm.eps, true))
    spec.norm.eps = 1e-5;
  f.number(p + "rope.freq_base", attn.rope.theta, true);
  f.integer(p + "rope.dimension_count", attn.rope.rotaryDim, 2, false);
  attn.rope.layout = RopeLayout::interleaved;

  std::string scalingType;
  if (f.string(p + "rope.scaling.type", scalingType) &&
      scalingType != "none") {
    if (scalingType == "linear") {
      attn.rope.scaling = RopeScaling::Linear;
      if (!f.number(p + "rope.scaling.factor", attn.rope.factor, true))
        diags.error(p + "rope.scaling.factor",
                    "missing (required by linear scaling)");
    } else {
      diags.error(p + "rope.scaling.type",
                  "unsupported RoPE scaling \"" + scalingType + "\"");
    }
  }
  if (file.find("rope_freqs.weight"))
    diags.error("rope_freqs.weight",
                "per-frequency RoPE factors (llama3 scaling in GGUF) are "
                "not supported yet; use the Hugging Face config.json");

  int64_t experts = 0;
  if (f.integer(p + "expert_count", experts, 0, false) && experts > 0) {
    spec.ffn.moe.numExperts = experts;
    f.integer(p + "expert_used_count", spec.ffn.moe.topK, 1, true);
  }

  // The vocabulary: an explicit key, else the tokenizer's token list, else
  // the embedding table's shape.
  if (!f.integer(p + "vocab_size", spec.vocabSize, 1, false)) {
    if (const GgufValue *tokens = file.metadata("tokenizer.ggml.tokens");
        tokens && tokens->type == GgufValue::Type::Array)
      spec.vocabSize = int64_t(tokens->array.size());
    else if (const rt::StoredTensor *emb = file.find("token_embd.weight");
             emb && emb->shape.size() == 2)
      spec.vocabSize = emb->shape[0];
    else
      diags.error(p + "vocab_size",
                  "missing, and neither tokenizer.ggml.tokens nor "
                  "token_embd.weight gives the vocabulary size");
    if (spec.vocabSize == 0)
      diags.error(p + "vocab_size",
                  "the vocabulary is empty (tokenizer.ggml.tokens has no "
                  "tokens, or token_embd.weight no rows)");
  }
  int64_t id;
  if (f.integer("tokenizer.ggml.bos_token_id", id, 0, false))
    spec.bosTokenId = id;
  if (f.integer("tokenizer.ggml.eos_token_id", id, 0, false))
    spec.eosTokenId = id;
  // llama.cpp ties the output projection to the embedding when the file
  // has no separate output.weight.
  spec.tieEmbeddings = file.find("output.weight") == nullptr;
  // The program keeps each matrix as the file stores it: the type most
  // matrices have is the spec's default, the others are named (a mix such
  // as Q4_K_M). A type tfm cannot keep is left to the loader, which names
  // the tensor.
  std::map<std::string, mlir::tfm::Storage> stored;
  std::map<mlir::tfm::Storage, int> count;
  for (const std::string &name : file.tensorNames()) {
    const rt::StoredTensor *t = file.find(name);
    if (!t || t->shape.size() < 2)
      continue;
    std::optional<std::string> weight = rt::tfmNameOfGgufTensor(name);
    std::optional<mlir::tfm::Storage> storage = irStorage(t->dtype);
    if (!weight || !storage)
      continue;
    stored[*weight] = *storage;
    ++count[*storage];
  }
  for (const auto &[storage, n] : count)
    if (n > count[spec.matrixStorage])
      spec.matrixStorage = storage;
  for (const auto &[weight, storage] : stored)
    if (storage != spec.matrixStorage)
      spec.weightStorage[weight] = storage;

  if (diags.hasErrors())
    return std::nullopt;
  return spec;
}
