//===- TokenizerJsonTest.cpp - tokenizer.json, hand-checked cases ---------===//
//
// Tiny tokenizer.json files whose ids can be worked out by hand: what each
// proves is said at the test. The fixture vocabularies run through
// tokenizer.json in the vocab.json.* ctest tests.
//
//===----------------------------------------------------------------------===//

#include "TempDir.h"

#include "runtime/Tokenizer.h"

#include <gtest/gtest.h>

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
