//===- make-model.cpp - synthetic Llama-shaped GGUF models ------------------===//
//
// Writes a GGUF file of architecture llama with seeded random weights and a
// placeholder vocabulary, for benchmarks: the compiled program reads its
// config from the same file, and other engines can load it too.
// Matrices are stored as --type says (f32, f16, bf16 or a GGUF block
// format), generated directly in that type; norm weights stay f32, as
// llama.cpp stores them.
//
//   make-model --dim 288 --layers 6 --heads 6 --hidden 768 --vocab 32000
//              [--kv-heads H] [--ctx 1024] [--seed S] [--tied 1]
//              [--type f16] -o model.gguf
//
// With --tied 1 there is no output.weight: the LM head reuses the token
// embedding, as in the llama2.c "stories" models.
//
//===----------------------------------------------------------------------===//

#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <cstdio>
#include <optional>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace tfm::rt;

int main(int argc, char **argv) {
  int64_t dim = 0, layers = 0, heads = 0, kvHeads = 0, hidden = 0, vocab = 0,
          ctx = 1024, seed = 0, tied = 0;
  std::string out, type = "f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int64_t v = std::atoll(argv[i + 1]);
    if (flag == "--type") {
      type = argv[i + 1];
      continue;
    }
    if (flag == "--dim") dim = v;
    else if (flag == "--layers") layers = v;
    else if (flag == "--heads") heads = v;
    else if (flag == "--kv-heads") kvHeads = v;
    else if (flag == "--hidden") hidden = v;
    else if (flag == "--vocab") vocab = v;
    else if (flag == "--ctx") ctx = v;
    else if (flag == "--seed") seed = v;
    else if (flag == "--tied") tied = v;
    else if (flag == "-o") out = argv[i + 1];
    else {
      std::fprintf(stderr, "make-model: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (!kvHeads)
    kvHeads = heads;
  std::optional<DType> named = storageNamed(type);
  if (!named) {
    std::fprintf(stderr, "make-model: --type must be f32, f16, bf16 or a "
                         "GGUF block format (q8_0, q4_0, q4_K, ...), got "
                         "%s\n",
                 type.c_str());
    return 2;
  }
  DType matrices = *named;
  if (!dim || !layers || !heads || !hidden || !vocab || out.empty() ||
      dim % heads) {
    std::fprintf(stderr, "usage: make-model --dim D --layers L --heads H "
                         "--hidden F --vocab V [--kv-heads K] [--ctx C] "
                         "[--seed S] [--tied 1] [--type T] -o FILE\n");
    return 2;
  }
  int64_t headDim = dim / heads;
  GgufWriter w;
  w.addString("general.architecture", "llama");
  w.addString("general.name", out.substr(out.rfind('/') + 1));
  w.addU32("llama.context_length", uint32_t(ctx));
  w.addU32("llama.embedding_length", uint32_t(dim));
  w.addU32("llama.block_count", uint32_t(layers));
  w.addU32("llama.feed_forward_length", uint32_t(hidden));
  w.addU32("llama.attention.head_count", uint32_t(heads));
  w.addU32("llama.attention.head_count_kv", uint32_t(kvHeads));
  w.addU32("llama.vocab_size", uint32_t(vocab));
  w.addF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.addF32("llama.rope.freq_base", 10000.0f);
  // A placeholder vocabulary (piece i is "<i>"), so that other engines,
  // which need a tokenizer to load a model, run the same file.
  std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
  for (int64_t i = 3; i < vocab; ++i)
    pieces.push_back("<" + std::to_string(i) + ">");
  w.addString("tokenizer.ggml.model", "llama");
  w.addStringArray("tokenizer.ggml.tokens", pieces);

  // Random values with the shapes and the scales tfm's random weights use.
  std::vector<WeightRequest> requests = {{"token_embd.weight", {vocab, dim}},
                                         {"output_norm.weight", {dim}}};
  if (!tied)
    requests.push_back({"output.weight", {vocab, dim}});
  for (int64_t l = 0; l < layers; ++l) {
    std::string b = "blk." + std::to_string(l) + ".";
    requests.push_back({b + "attn_norm.weight", {dim}});
    requests.push_back({b + "attn_q.weight", {dim, dim}});
    requests.push_back({b + "attn_k.weight", {kvHeads * headDim, dim}});
    requests.push_back({b + "attn_v.weight", {kvHeads * headDim, dim}});
    requests.push_back({b + "attn_output.weight", {dim, dim}});
    requests.push_back({b + "ffn_norm.weight", {dim}});
    requests.push_back({b + "ffn_gate.weight", {hidden, dim}});
    requests.push_back({b + "ffn_up.weight", {hidden, dim}});
    requests.push_back({b + "ffn_down.weight", {dim, hidden}});
  }
  // Matrices are generated directly in their type (an 8B-shaped model in
  // q4_K never exists in f32).
  for (WeightRequest &r : requests)
    if (r.shape.size() == 2)
      r.storage = matrices;
  auto table = randomWeights(requests, uint64_t(seed));
  if (!table) {
    std::fprintf(stderr, "make-model: %s\n", table.error().message().c_str());
    return 1;
  }
  int64_t params = 0;
  for (const WeightRequest &r : requests) {
    const WeightTable::Entry *e = table->find(r.name);
    TensorData tensor{r.name, r.shape, e->storage, {}, {}};
    if (e->storage == DType::F32) {
      tensor.values.assign(e->f32(), e->f32() + e->numel());
    } else {
      auto *bytes = static_cast<const uint8_t *>(e->data);
      tensor.raw.assign(bytes, bytes + e->bytes());
    }
    w.addTensor(std::move(tensor));
    params += e->numel();
  }
  if (Status s = w.write(out); !s) {
    std::fprintf(stderr, "make-model: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("%s: %.1fM parameters\n", out.c_str(), double(params) / 1e6);
  return 0;
}
