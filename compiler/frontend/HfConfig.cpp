//===- HfConfig.cpp - Hugging Face config.json → ModelSpec ------*- C++ -*-===//
//
// Dispatches on model_type to the family readers in hf/, and holds the
// table of GGUF architectures, whose readers live there too. Keys that
// change the computation and are not understood are errors; keys that do
// not (training settings, dtype, tokenizer ids) are read or ignored;
// anything else draws a warning so a new option cannot pass silently.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/hf/HfFamilies.h"

using namespace tfm;
namespace json = llvm::json;

namespace {

/// Keys with no effect on inference, present in many saved configs.
constexpr const char *kIgnoredKeys[] = {
    "architectures", "transformers_version", "pad_token_id",
    "initializer_range", "use_cache", "attention_dropout", "pretraining_tp",
    "_name_or_path", "tokenizer_class", "output_router_logits",
    "router_aux_loss_coef", "router_jitter_noise", "cache_implementation",
    "return_dict", "output_hidden_states", "output_attentions", "torchscript",
    "use_bfloat16", "tie_encoder_decoder", "is_decoder",
    "is_encoder_decoder", "add_cross_attention", "chunk_size_feed_forward",
    "problem_type", "id2label", "label2id", "prefix", "task_specific_params",
    "finetuning_task", "quantization_config", "max_length",
    "hidden_dropout", "embd_pdrop", "resid_pdrop", "rope_interleaved"};

constexpr hf::Family kFamilies[] = {
    {"llama", hf::readLlama},         {"mistral", hf::readMistral},
    {"mixtral", hf::readMistral},     {"qwen2", hf::readQwen2},
    {"qwen2_moe", hf::readQwen2Moe},  {"qwen3", hf::readQwen3},
    {"gemma", hf::readGemma},         {"gemma2", hf::readGemma2},
    {"gemma3_text", hf::readGemma3},  {"olmo2", hf::readOlmo2},
    {"phi", hf::readPhi},
    {"phi3", hf::readPhi3},           {"stablelm", hf::readStableLm},
    {"starcoder2", hf::readStarcoder2}, {"falcon", hf::readFalcon},
    {"opt", hf::readOpt},             {"granite", hf::readGranite},
    {"cohere", hf::readCohere},       {"persimmon", hf::readPersimmon},
    {"gpt2", hf::readGpt2},
    {"gpt_neox", hf::readGptNeox},    {"bloom", hf::readBloom},
    {"deepseek_v2", hf::readDeepseekV2},
};

constexpr hf::GgufArch kGgufArchitectures[] = {
    {"llama", hf::ggufLlama},         {"granite", hf::ggufGranite},
    {"olmo2", hf::ggufOlmo2},         {"qwen2", hf::ggufQwen2},
    {"qwen2moe", hf::ggufQwen2Moe},   {"qwen3", hf::ggufQwen3},
    {"phi2", hf::ggufPhi2},           {"phi3", hf::ggufPhi3},
    {"gemma", hf::ggufGemma},         {"gemma2", hf::ggufGemma2},
    {"gemma3", hf::ggufGemma3},
    {"starcoder2", hf::ggufStarcoder2}, {"falcon", hf::ggufFalcon},
    {"stablelm", hf::ggufStableLm},   {"command-r", hf::ggufCommandR},
    {"bloom", hf::ggufBloom},         {"gpt2", hf::ggufGpt2},
    {"gptneox", hf::ggufGptNeox},     {"deepseek2", hf::ggufDeepseek2},
};

} // namespace

llvm::ArrayRef<hf::Family> hf::families() { return kFamilies; }
llvm::ArrayRef<hf::GgufArch> hf::ggufArchitectures() {
  return kGgufArchitectures;
}

std::optional<ModelSpec> tfm::readHfConfig(const json::Object &root,
                                           SpecDiagnostics &diags) {
  JsonFields f(root, "", diags, JsonFields::UnknownKeys::Warn);
  std::string modelType;
  f.string("model_type", modelType);
  for (const hf::Family &family : kFamilies) {
    if (modelType != family.modelType)
      continue;
    for (const char *key : kIgnoredKeys)
      f.raw(key);
    return family.read(f, modelType);
  }
  std::string known;
  for (const hf::Family &family : kFamilies)
    known += std::string(known.empty() ? "" : ", ") + family.modelType;
  diags.error("model_type", "unsupported model_type \"" + modelType +
                                "\" (tfm reads " + known +
                                "; or write a tfm spec, see "
                                "docs/model-spec.md)");
  return std::nullopt;
}
