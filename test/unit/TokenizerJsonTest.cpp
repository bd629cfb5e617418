//===- TokenizerJsonTest.cpp - tokenizer.json, hand-checked cases ---------===//
//
// Tiny tokenizer.json files whose ids can be worked out by hand: what each
// proves is said at the test. The fixture vocabularies run through
// tokenizer.json in the vocab.json.* ctest tests.
//
//===----------------------------------------------------------------------===//

#include "TempDir.h"

#include "runtime/Tokenizer.h"
#include "runtime/WeightWriter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

using namespace tfm::rt;
using tfm::test::TempDir;

namespace {

std::string write(const TempDir &dir, const std::string &json) {
  std::string path = dir.file("tokenizer.json");
  std::ofstream(path) << json;
  return path;
}

std::vector<int32_t> plain(const Tokenizer &t, const std::string &text) {
  Tokenizer::EncodeOptions o;
  o.addSpecial = false;
  return t.encode(text, o);
}

} // namespace

// Byte-level BPE: "Ġ" is the space byte; merges apply by rank, not by the
// length of what they make ("a b" before "Ġ a", so " ab" is "Ġ" + "ab"
// unless "Ġ ab" exists). The special token is matched whole.
TEST(TokenizerJson, ByteLevelMergesByRank) {
  TempDir dir;
  auto t = Tokenizer::load(write(dir, R"({
    "added_tokens": [{"id": 5, "content": "<|end|>", "special": true}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false,
                      "use_regex": true},
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2,
                                       "\u0120": 3, "\u0120a": 4},
              "merges": ["a b", "\u0120 a"]}})"));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(plain(**t, "ab ab"), (std::vector<int32_t>{2, 3, 2}));
  EXPECT_EQ(plain(**t, " a<|end|>"), (std::vector<int32_t>{4, 5}));
  EXPECT_EQ((*t)->decode({2, 3, 2}), "ab ab");
  EXPECT_TRUE((*t)->isEndOfGeneration(5));
}

// SentencePiece-style: a "▁" in front of the text and for every space; a
// character outside the vocabulary falls back to its bytes; decoding drops
// the leading space again.
TEST(TokenizerJson, MetaspaceWithByteFallback) {
  TempDir dir;
  auto t = Tokenizer::load(write(dir, R"({
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
                      "prepend_scheme": "first", "split": false},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
              "vocab": {"<unk>": 0, "\u2581": 1, "h": 2, "i": 3,
                        "\u2581h": 4, "\u2581hi": 5, "<0x21>": 6},
              "merges": [["\u2581", "h"], ["\u2581h", "i"]]}})"));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(plain(**t, "hi!"), (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(plain(**t, "hi hi"), (std::vector<int32_t>{5, 5}));
  EXPECT_EQ((*t)->decode({5, 6, 5}), "hi! hi");
}

// BOS and EOS from tokenizer_config.json beside the file.
TEST(TokenizerJson, ConfigGivesBos) {
  TempDir dir;
  std::ofstream(dir.file("tokenizer_config.json"))
      << R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>",
             "add_bos_token": true, "chat_template": "<|im_start|>"})";
  auto t = Tokenizer::load(dir.file(""));
  ASSERT_FALSE(t); // no tokenizer.json yet
  write(dir, R"({
    "added_tokens": [{"id": 0, "content": "<s>", "special": true},
                     {"id": 1, "content": "</s>", "special": true}],
    "pre_tokenizer": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {"x": 2}, "merges": []}})");
  t = Tokenizer::load(dir.file(""));
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ((*t)->encode("x"), (std::vector<int32_t>{0, 2}));
  EXPECT_EQ((*t)->eos(), 1);
  EXPECT_EQ((*t)->chatTemplate(), "<|im_start|>");
}

// What tfm cannot read is refused, naming the file and the JSON path.
TEST(TokenizerJson, Errors) {
  TempDir dir;
  auto message = [&](const std::string &json) {
    auto t = Tokenizer::load(write(dir, json));
    return t ? std::string("loaded") : t.error().message();
  };
  std::string path = dir.file("tokenizer.json");
  EXPECT_EQ(message(R"({"model": {"type": "WordPiece", "vocab": {}}})"),
            path + ": model.type: unsupported tokenizer model \"WordPiece\" "
                   "(tfm reads BPE)");
  EXPECT_EQ(message(R"({"model": {"type": "BPE", "vocab": {"a": 0},
                                  "merges": [7]}})"),
            path + ": model.merges[0]: expected \"left right\" or "
                   "[left, right]");
  EXPECT_EQ(message(R"({"model": {"type": "BPE", "vocab": {"a": -1},
                                  "merges": []}})"),
            path + ": model.vocab[\"a\"]: expected a token id below 2^24");
  EXPECT_EQ(message(R"({"pre_tokenizer": {"type": "Whitespace"},
                        "model": {"type": "BPE", "vocab": {"a": 0},
                                  "merges": []}})"),
            path + ": pre_tokenizer.type: unsupported pre-tokenizer "
                   "\"Whitespace\" (tfm reads ByteLevel, Split, Digits and "
                   "Metaspace)");
  EXPECT_NE(message("{").find(path + ": "), std::string::npos);
}

namespace {

/// A byte-level vocabulary: the 256 byte characters, then the merges'
/// results; `pre` names the pre-tokenizer.
std::unique_ptr<Tokenizer> byteLevel(const TempDir &dir, const std::string &pre,
                                     const std::vector<std::string> &merges) {
  std::vector<std::string> tokens(256);
  // GPT-2's byte characters in byte order.
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    int cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s += char(cp);
    } else {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    }
    tokens[size_t(b)] = s;
  }
  for (const std::string &m : merges)
    tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
  GgufWriter w;
  w.addString("general.architecture", "gpt2");
  w.addString("tokenizer.ggml.model", "gpt2");
  w.addString("tokenizer.ggml.pre", pre);
  w.addStringArray("tokenizer.ggml.tokens", tokens);
  w.addStringArray("tokenizer.ggml.merges", merges);
  std::string path = dir.file(pre + ".gguf");
  EXPECT_TRUE(w.write(path));
  auto t = Tokenizer::load(path);
  EXPECT_TRUE(t) << t.error().message();
  return t ? t.take() : nullptr;
}

} // namespace

// The pre-tokenizers cut digits differently: GPT-2's keeps a run of digits
// whole, llama3's cuts it in threes, qwen2's and starcoder's into single
// digits; with merges of 1+2, 12+3 and 123+4 the cuts show in the ids.
TEST(Tokenizer, PreTokenizersCutDigits) {
  TempDir dir;
  std::vector<std::string> merges = {"1 2", "12 3", "123 4"};
  auto ids = [&](const std::string &pre) {
    auto t = byteLevel(dir, pre, merges);
    return t ? plain(*t, "1234") : std::vector<int32_t>{};
  };
  int32_t one = '1', four = '4', m123 = 257, m1234 = 258;
  EXPECT_EQ(ids("gpt-2"), (std::vector<int32_t>{m1234}));
  EXPECT_EQ(ids("llama3"), (std::vector<int32_t>{m123, four}));
  EXPECT_EQ(ids("qwen2"), (std::vector<int32_t>{one, '2', '3', four}));
  EXPECT_EQ(ids("starcoder"), (std::vector<int32_t>{one, '2', '3', four}));
  EXPECT_EQ(ids("deepseek-llm"), (std::vector<int32_t>{m1234}));
  EXPECT_EQ(ids("deepseek-coder"), (std::vector<int32_t>{one, '2', '3', four}));
  // Every pre-tokenizer tfm names compiles and tokenizes.
  for (const char *pre :
       {"default", "gpt2", "phi-2", "roberta-bpe", "mpt", "olmo", "jais",
        "falcon", "refact", "codeshell", "exaone", "minerva-7b", "command-r",
        "smollm", "llama-bpe", "falcon3", "dbrx", "smaug-bpe",
        "deepseek-r1-qwen", "stablelm2", "chatglm-bpe", "bloom",
        "gpt3-finnish", "poro-chat", "viking"})
    EXPECT_FALSE(ids(pre).empty()) << pre;
  // An unknown pre-tokenizer is refused, naming the file and the key.
  GgufWriter w;
  w.addString("tokenizer.ggml.model", "gpt2");
  w.addString("tokenizer.ggml.pre", "no-such-pre");
  w.addStringArray("tokenizer.ggml.tokens", {"a"});
  w.addStringArray("tokenizer.ggml.merges", {});
  ASSERT_TRUE(w.write(dir.file("bad.gguf")));
  auto bad = Tokenizer::load(dir.file("bad.gguf"));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find(
                "bad.gguf: tokenizer.ggml.pre: unsupported pre-tokenizer "
                "\"no-such-pre\""),
            std::string::npos)
      << bad.error().message();
}

// Bytes that are not well-formed UTF-8 (a stray continuation byte, a
// truncated character, a surrogate, an overlong form) are read as U+FFFD,
// as llama.cpp reads them; the regexes never see them.
TEST(Tokenizer, MalformedUtf8IsReplacementCharacter) {
  auto t = Tokenizer::load(TFM_VOCAB_DIR "/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(t) << t.error().message();
  std::vector<int32_t> fffd = plain(**t, "a\xEF\xBF\xBD" "b");
  for (const char *bad : {"a\x80" "b", "a\xE2\x82" "b", "a\xED\xA0\x80" "b",
                          "a\xC0\xAF" "b"}) {
    std::vector<int32_t> ids = plain(**t, bad);
    EXPECT_FALSE(ids.empty()) << bad;
    std::string back = (*t)->decode(ids);
    EXPECT_NE(back.find("\xEF\xBF\xBD"), std::string::npos) << back;
  }
  EXPECT_EQ(plain(**t, "a\x80" "b"), fffd);
}
