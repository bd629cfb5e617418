//===- TextGenerationTest.cpp - text mode: tokenizer, stops, streaming ----===//
//
// A scripted model (its logits pick given ids in turn) and the Llama 2
// vocabulary of the tokenizer fixtures: what text mode prints and where it
// stops, independent of any real model.
//
//===----------------------------------------------------------------------===//

#include "runtime/Generate.h"
#include "runtime/Gguf.h"
#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace tfm::rt;

namespace {

/// Picks `script[k]` at the k-th choice (the prompt's, then each decode
/// step's), then token 0.
class Scripted : public ModelRunner {
public:
  Scripted(std::vector<int32_t> script, int64_t vocab)
      : script_(std::move(script)), vocab_(vocab) {}
  int64_t vocabSize() const override { return vocab_; }
  int64_t maxSeqLen() const override { return 256; }
  Status prefill(const std::vector<int32_t> &ids, int64_t,
                 std::vector<float> &logits, LogitRows) override {
    logits.assign(ids.size() * size_t(vocab_), 0.0f);
    logits[logits.size() - size_t(vocab_) + size_t(next())] = 10.0f;
    return Status::ok();
  }
  Status decode(int32_t, int64_t, std::vector<float> &logits) override {
    logits.assign(size_t(vocab_), 0.0f);
    logits[size_t(next())] = 10.0f;
    return Status::ok();
  }

private:
  int32_t next() { return at_ < script_.size() ? script_[at_++] : 0; }
  std::vector<int32_t> script_;
  size_t at_ = 0;
  int64_t vocab_;
};

std::shared_ptr<const Tokenizer> llama2() {
  static std::shared_ptr<const Tokenizer> t = [] {
    auto file = GgufFile::open(TFM_VOCAB_DIR "/ggml-vocab-llama-spm.gguf");
    EXPECT_TRUE(file) << file.error().message();
    auto tok = Tokenizer::fromGguf(**file);
    EXPECT_TRUE(tok) << tok.error().message();
    return std::shared_ptr<const Tokenizer>(tok.take());
  }();
  return t;
}

std::vector<int32_t> ids(const std::string &text) {
  Tokenizer::EncodeOptions plain;
  plain.addSpecial = false;
  plain.parseSpecial = false;
  return llama2()->encode(text, plain);
}

/// Runs `script` in text mode; returns the result and what was streamed.
std::pair<GenerationResult, std::string>
runText(std::vector<int32_t> script, RunOptions o) {
  o.tokenizer = llama2();
  o.promptIds = {1};
  if (o.numTokens == 16)
    o.numTokens = int64_t(script.size());
  Scripted model(std::move(script), llama2()->size());
  char *buffer = nullptr;
  size_t size = 0;
  std::FILE *out = open_memstream(&buffer, &size);
  auto r = generate(model, o, out);
  std::fclose(out);
  std::string streamed(buffer, size);
  std::free(buffer);
  EXPECT_TRUE(r) << r.error().message();
  return {r ? r.take() : GenerationResult(), streamed};
}

std::vector<int32_t> concat(std::vector<int32_t> a,
                            const std::vector<int32_t> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

} // namespace

TEST(TextGeneration, StopsAtEndOfGeneration) {
  std::vector<int32_t> words = ids("Hello world");
  int32_t eos = *llama2()->eos();
  auto [r, streamed] = runText(concat(words, {eos, 450, 451}), RunOptions());
  EXPECT_EQ(r.stopReason, "eos");
  EXPECT_EQ(r.generatedIds, concat(words, {eos}));
  // The text is the tokens' pieces as generated (the leading space of
  // "▁Hello" stays: it follows the prompt).
  EXPECT_EQ(r.generatedText, " Hello world");
  EXPECT_EQ(streamed, r.generatedText);
  EXPECT_EQ(r.decodeCalls, int64_t(words.size()));
}

TEST(TextGeneration, IgnoreEosRunsToTheLength) {
  std::vector<int32_t> words = ids("Hello");
  RunOptions o;
  o.ignoreEos = true;
  o.numTokens = 4;
  auto [r, streamed] =
      runText(concat(words, {*llama2()->eos(), words[0], words[0]}), o);
  EXPECT_EQ(r.stopReason, "length");
  EXPECT_EQ(r.generatedIds.size(), 4u);
}

TEST(TextGeneration, StopStringCutsTheText) {
  // The stop string spans tokens; nothing of it is printed.
  RunOptions o;
  o.stops = {"big red"};
  auto [r, streamed] = runText(ids("a big red ball and more"), o);
  EXPECT_EQ(r.stopReason, "stop");
  EXPECT_EQ(r.generatedText, " a ");
  EXPECT_EQ(streamed, " a ");
  // A prefix of a stop string that does not complete it is printed.
  o.stops = {"big blue"};
  auto [r2, streamed2] = runText(ids("a big red ball"), o);
  EXPECT_EQ(r2.stopReason, "length");
  EXPECT_EQ(streamed2, " a big red ball");
  EXPECT_EQ(r2.generatedText, " a big red ball");
}

TEST(TextGeneration, StreamsWholeCharacters) {
  // "€" arrives as three byte tokens; the stream holds the first two.
  Utf8Stream s;
  EXPECT_EQ(s.push("a\xE2"), "a");
  EXPECT_EQ(s.push("\x82"), "");
  EXPECT_EQ(s.push("\xAC!"), "\xE2\x82\xAC!");
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.flush(), "\xF0\x9F");
  // Through generation: byte fallback tokens of a character the
  // vocabulary lacks.
  std::vector<int32_t> bytes = ids("\xF0\x9F\x98\x81");
  ASSERT_EQ(bytes.size(), 5u); // "▁" and four byte tokens
  auto [r, streamed] = runText(bytes, RunOptions());
  EXPECT_EQ(streamed, " \xF0\x9F\x98\x81");
}

TEST(Tokenizer, SpecialTokensAndBos) {
  const Tokenizer &t = *llama2();
  // BOS as the vocabulary says; "</s>" in the text is the EOS token when
  // special tokens are parsed, plain text otherwise.
  std::vector<int32_t> parsed = t.encode("Hi</s>");
  EXPECT_EQ(parsed.front(), *t.bos());
  EXPECT_EQ(parsed.back(), *t.eos());
  Tokenizer::EncodeOptions plain;
  plain.parseSpecial = false;
  std::vector<int32_t> literal = t.encode("Hi</s>", plain);
  EXPECT_EQ(literal.front(), *t.bos());
  EXPECT_NE(literal.back(), *t.eos());
  EXPECT_EQ(t.decode(parsed, /*unparseSpecial=*/true), "<s> Hi</s>");
  EXPECT_EQ(t.decode(parsed), " Hi");
  EXPECT_TRUE(t.isEndOfGeneration(*t.eos()));
}

TEST(Tokenizer, MissingTokenizerIsNamed) {
  // A GGUF without tokenizer metadata: the file and key are named.
  auto file = GgufFile::open(TFM_VOCAB_DIR "/../gguf-arch/qwen3.gguf");
  ASSERT_TRUE(file) << file.error().message();
  auto t = Tokenizer::fromGguf(**file);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("qwen3.gguf: tokenizer.ggml.model: "
                                     "unsupported tokenizer \"none\""),
            std::string::npos)
      << t.error().message();
}
