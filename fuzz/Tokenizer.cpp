//===- Tokenizer.cpp - fuzz the tokenizers ---------------------------------===//
//
// Any bytes. An input whose first byte is even is text (the rest of it):
// the three kinds of vocabulary of the tokenizer fixtures (SentencePiece
// BPE, byte-level BPE, WordPiece) encode it with and without special
// tokens, decode the ids, and stream the pieces. An odd first byte makes
// the rest a tokenizer.json, read and, if it loads, used on a fixed text.

#include "MemFile.h"

#include "runtime/Tokenizer.h"

#include <cstdlib>
#include <memory>
#include <vector>

using namespace tfm::rt;

namespace {

const std::vector<std::unique_ptr<Tokenizer>> &vocabularies() {
  static const auto all = [] {
    std::vector<std::unique_ptr<Tokenizer>> out;
    for (const char *name : {"llama-spm", "gpt-2", "bert-bge"}) {
      auto t = Tokenizer::load(std::string(TFM_VOCAB_DIR) + "/ggml-vocab-" +
                               name + ".gguf");
      if (!t)
        std::abort();
      out.push_back(t.take());
    }
    return out;
  }();
  return all;
}

void exercise(const Tokenizer &t, std::string_view text) {
  for (bool special : {false, true}) {
    Tokenizer::EncodeOptions o;
    o.parseSpecial = special;
    std::vector<int32_t> ids = t.encode(text, o);
    for (int32_t id : ids)
      if (id < 0 || id >= t.size())
        std::abort();
    (void)t.decode(ids, special);
    Utf8Stream stream;
    for (int32_t id : ids)
      (void)stream.push(t.piece(id));
    (void)stream.flush();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    for (const auto &t : vocabularies())
      exercise(*t, rest);
    return 0;
  }
  tfm::fuzz::MemFile file(data + 1, size - 1);
  auto t = Tokenizer::fromJson(file.path());
  if (t)
    exercise(**t, "Hello world! 12345 <s> \xE2\x96\x81 \xF0\x9F\x98\x81");
  return 0;
}
