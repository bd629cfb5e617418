//===- GgufTest.cpp - GGUF metadata, tensors, loading and errors -----------===//

#include "TempDir.h"

#include "runtime/Gguf.h"
#include "runtime/Half.h"
#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <cmath>
#include <cstring>

using namespace tfm::rt;
using tfm::test::ramp;
using tfm::test::TempDir;

namespace {

::testing::AssertionResult hasMessage(const std::string &message,
                                      const std::string &part) {
  if (message.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "message '" << message << "' lacks '" << part << "'";
}

/// A GGUF file with one tensor of each supported dtype.
std::string writeSample(const TempDir &dir) {
  GgufWriter w;
  w.addString("general.architecture", "llama");
  w.addU32("llama.block_count", 2);
  w.addF32("llama.rope.freq_base", 500000.0f);
  w.addBool("some.flag", true);
  w.addStringArray("tokenizer.ggml.tokens", {"a", "b", "c"});
  w.addTensor({"token_embd.weight", {4, 64}, DType::F32, ramp(256)});
  w.addTensor({"output_norm.weight", {64}, DType::F16, ramp(64, 1.0f)});
  w.addTensor({"output.weight", {4, 64}, DType::BF16, ramp(256)});
  w.addTensor({"blk.0.ffn_up.weight", {2, 64}, DType::Q8_0, ramp(128)});
  std::string path = dir.file("sample.gguf");
  Status s = w.write(path);
  EXPECT_TRUE(s) << s.message();
  return path;
}

} // namespace

TEST(Gguf, ReadsMetadataAndTensorDirectory) {
  TempDir dir;
  auto file = GgufFile::open(writeSample(dir));
  ASSERT_TRUE(file) << file.error().message();
  EXPECT_EQ((*file)->version(), 3u);
  EXPECT_EQ((*file)->metadata("general.architecture")->string, "llama");
  EXPECT_EQ((*file)->metadata("llama.block_count")->asInt(), 2);
  EXPECT_EQ((*file)->metadata("llama.rope.freq_base")->asDouble(), 500000.0);
  EXPECT_TRUE((*file)->metadata("some.flag")->boolean);
  const GgufValue *tokens = (*file)->metadata("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->typeName(), "array of string");
  ASSERT_EQ(tokens->array.size(), 3u);
  EXPECT_EQ(tokens->array[2].string, "c");
  EXPECT_EQ((*file)->metadata("absent"), nullptr);

  const StoredTensor *up = (*file)->find("blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->shape, (std::vector<int64_t>{2, 64}));
  EXPECT_EQ(up->dtype, DType::Q8_0);
  EXPECT_EQ(up->nbytes, 4u * 34u);
}

TEST(Gguf, LoadsEveryDtypeByTfmName) {
  TempDir dir;
  std::string path = writeSample(dir);
  auto table = loadWeights(path,
                           {{"embed.weight", {4, 64}},
                            {"final_norm.weight", {64}},
                            {"lm_head.weight", {4, 64}},
                            {"layers.0.ffn.up.weight", {2, 64}}},
                           WeightLayout{});
  ASSERT_TRUE(table) << table.error().message();

  std::vector<float> want = ramp(256);
  const float *embed = table->find("embed.weight")->f32();
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(embed[i], want[i]);

  std::vector<float> gains = ramp(64, 1.0f);
  const float *norm = table->find("final_norm.weight")->f32();
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(norm[i], f16ToFloat(floatToF16(gains[i])));

  const float *head = table->find("lm_head.weight")->f32();
  for (int i = 0; i < 256; ++i)
    EXPECT_EQ(head[i], bf16ToFloat(floatToBf16(want[i])));

  // Q8_0 rounds x / d to an integer q (|q| <= 127) and stores d in f16, so
  // each value comes back within d/2 plus 127 times the scale's own
  // rounding error.
  std::vector<float> up = ramp(128);
  const float *q = table->find("layers.0.ffn.up.weight")->f32();
  for (int b = 0; b < 4; ++b) {
    float amax = 0;
    for (int i = 0; i < 32; ++i)
      amax = std::max(amax, std::fabs(up[b * 32 + i]));
    float d = amax / 127;
    float bound = d / 2 + 127 * std::fabs(d - f16ToFloat(floatToF16(d)));
    for (int i = 0; i < 32; ++i)
      EXPECT_NEAR(q[b * 32 + i], up[b * 32 + i], bound + 1e-7f)
          << "block " << b << " element " << i;
  }
}

TEST(Gguf, F32TensorsAreViewsOfTheMapping) {
  TempDir dir;
  auto table = loadWeights(writeSample(dir), {{"embed.weight", {4, 64}}},
                           WeightLayout{});
  ASSERT_TRUE(table);
  EXPECT_EQ(table->ownedBytes(), 0u);
}

TEST(Gguf, MissingTensorNamesFileAndWeight) {
  TempDir dir;
  std::string path = writeSample(dir);
  auto table =
      loadWeights(path, {{"layers.1.attn.q.weight", {64, 64}}}, WeightLayout{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message(),
            path + ": missing tensor 'blk.1.attn_q.weight' (for tfm weight "
                   "'layers.1.attn.q.weight' of shape [64, 64])");
}

TEST(Gguf, WrongShapeNamesBothShapes) {
  TempDir dir;
  std::string path = writeSample(dir);
  auto table = loadWeights(path, {{"embed.weight", {8, 64}}}, WeightLayout{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message(),
            path + ": tensor 'token_embd.weight' has shape [4, 64], expected "
                   "[8, 64] (for tfm weight 'embed.weight')");
}

TEST(Gguf, UnsupportedDtypeIsNamed) {
  TempDir dir;
  GgufWriter w;
  w.addTensor({"token_embd.weight", {256}, DType::F32, ramp(256)});
  std::string path = dir.file("iq4xs.gguf");
  ASSERT_TRUE(w.write(path));
  // Re-type the tensor as IQ4_XS (256 values in 136 bytes, which fit).
  std::vector<char> bytes = tfm::test::readBytes(path);
  std::string name = "token_embd.weight";
  auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(it, bytes.end());
  size_t typeAt = size_t(it - bytes.begin()) + name.size() + 4 + 8;
  uint32_t iq4xs = 23;
  std::memcpy(&bytes[typeAt], &iq4xs, 4);
  tfm::test::writeBytes(path, bytes);

  auto table = loadWeights(path, {{"embed.weight", {256}}}, WeightLayout{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message(),
            path + ": tensor 'token_embd.weight' has dtype iq4_xs, which "
                   "tfm cannot load (supported: f32, f16, bf16, q8_0, q4_0, "
                   "q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K) (for tfm "
                   "weight 'embed.weight')");
}

TEST(Gguf, TruncatedDataIsReported) {
  TempDir dir;
  std::string path = writeSample(dir);
  size_t size = tfm::test::readBytes(path).size();
  tfm::test::truncateFile(path, size - 40);
  auto file = GgufFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_TRUE(hasMessage(file.error().message(),
                         "tensor 'blk.0.ffn_up.weight' (136 bytes at offset"));
  EXPECT_TRUE(hasMessage(file.error().message(), "the file is truncated"));
}

TEST(Gguf, TruncatedHeaderIsReported) {
  TempDir dir;
  std::string path = writeSample(dir);
  tfm::test::truncateFile(path, 40);
  auto file = GgufFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_TRUE(hasMessage(file.error().message(), path + ": truncated file "
                                                        "while reading"));
}

TEST(Gguf, CorruptHeaderIsReported) {
  TempDir dir;
  std::string path = dir.file("corrupt.gguf");
  std::vector<char> bytes = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
  for (int i = 0; i < 16; ++i)
    bytes.push_back(char(0xff)); // absurd tensor and metadata counts
  tfm::test::writeBytes(path, bytes);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_TRUE(hasMessage(source.error().message(), path + ": corrupt header"));

  std::string magic = dir.file("magic.gguf");
  tfm::test::writeBytes(magic, {'G', 'G', 'U', 'X', 3, 0, 0, 0});
  auto notGguf = GgufFile::open(magic);
  ASSERT_FALSE(notGguf);
  EXPECT_EQ(notGguf.error().message(), magic + ": not a GGUF file (bad magic)");
}

TEST(Gguf, MissingFileIsReported) {
  auto source = openWeights("/nonexistent/model.gguf");
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            "/nonexistent/model.gguf: cannot open: No such file or directory");
}

namespace {

/// Little-endian GGUF bytes written by hand, for files GgufWriter refuses
/// to write.
struct RawGguf {
  std::vector<char> bytes = {'G', 'G', 'U', 'F'};
  RawGguf &u32(uint32_t v) { return put(&v, 4); }
  RawGguf &u64(uint64_t v) { return put(&v, 8); }
  RawGguf &str(const std::string &s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf &put(const void *p, size_t n) {
    const char *c = static_cast<const char *>(p);
    bytes.insert(bytes.end(), c, c + n);
    return *this;
  }
};

} // namespace

TEST(Gguf, ArrayLongerThanTheFileIsTruncation) {
  TempDir dir;
  std::string path = dir.file("cut.gguf");
  RawGguf g;
  g.u32(3).u64(0).u64(1).str("tokenizer.ggml.scores").u32(9).u32(6).u64(1000);
  g.u64(0); // 8 of the 4000 bytes the array needs
  tfm::test::writeBytes(path, g.bytes);
  auto file = GgufFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message(),
            path + ": truncated file: metadata 'tokenizer.ggml.scores' "
                   "claims 1000 elements, more than the 8 bytes left hold");
}

TEST(Gguf, ArraysAreBoundedInMemory) {
  TempDir dir;
  std::string path = dir.file("arrays.gguf");
  // 5 MB of u8 array elements would take ~0.5 GB expanded.
  const uint64_t count = 5u << 20;
  RawGguf g;
  g.u32(3).u64(0).u64(1).str("big").u32(9).u32(0).u64(count);
  g.bytes.resize(g.bytes.size() + count);
  tfm::test::writeBytes(path, g.bytes);
  auto file = GgufFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message(),
            path + ": metadata 'big' brings the metadata arrays to 5242880 "
                   "elements, more than tfm reads (4194304)");
}

TEST(Gguf, TensorSizesThatWouldWrapAreRefused) {
  TempDir dir;
  std::string path = dir.file("wrap.gguf");
  // 2^31 x 2^31 f32 elements are 2^64 bytes, which wraps to 0 in 64 bits.
  RawGguf g;
  g.u32(3).u64(1).u64(0).str("t").u32(2).u64(uint64_t(1) << 31);
  g.u64(uint64_t(1) << 31).u32(0).u64(0);
  g.bytes.resize(96);
  tfm::test::writeBytes(path, g.bytes);
  auto file = GgufFile::open(path);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message(),
            path + ": tensor 't' (4611686018427387904 f32 elements) needs "
                   "more bytes than the file has (96); the file is truncated "
                   "or corrupt");
}

TEST(Gguf, TiedFileForAnUntiedModelSaysSo) {
  TempDir dir;
  GgufWriter w;
  w.addString("general.architecture", "llama");
  w.addTensor({"token_embd.weight", {4, 64}, DType::F32, ramp(256)});
  std::string path = dir.file("tied.gguf");
  ASSERT_TRUE(w.write(path));
  auto table = loadWeights(path, {{"lm_head.weight", {4, 64}}}, WeightLayout{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message(),
            path + ": missing tensor 'output.weight' (for tfm weight "
                   "'lm_head.weight' of shape [4, 64]); the file has no "
                   "output projection of its own, so its embedding is tied: "
                   "compile the model with embedding.tied "
                   "(tie_word_embeddings in a Hugging Face config)");
}

TEST(Gguf, HyperparametersMustMatchTheProgram) {
  TempDir dir;
  WeightLayout layout;
  layout.numHeads = 8;
  layout.numKvHeads = 4;
  layout.headDim = 8;
  layout.rotaryDim = 8;
  layout.layers = 2;
  layout.hidden = 64;
  layout.ropeTheta = 10000;
  layout.normEps = 1e-5;
  auto write = [&](const std::string &key, uint32_t u, float f) {
    GgufWriter w;
    w.addString("general.architecture", "llama");
    auto put = [&](const std::string &k, uint32_t v) {
      w.addU32(k, k == key ? u : v);
    };
    auto putF = [&](const std::string &k, float v) {
      w.addF32(k, k == key ? f : v);
    };
    put("llama.block_count", 2);
    put("llama.embedding_length", 64);
    put("llama.attention.head_count", 8);
    put("llama.attention.head_count_kv", 4);
    put("llama.rope.dimension_count", 8);
    putF("llama.rope.freq_base", 10000.0f);
    putF("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.addTensor({"token_embd.weight", {4, 64}, DType::F32, ramp(256)});
    std::string path = dir.file("model.gguf");
    EXPECT_TRUE(w.write(path));
    return path;
  };
  std::vector<WeightRequest> embed = {{"embed.weight", {4, 64}}};
  // The same hyperparameters load (f32 in the file, f64 in the program).
  auto same = loadWeights(write("", 0, 0), embed, layout);
  ASSERT_TRUE(same) << same.error().message();

  struct Case {
    const char *key;
    uint32_t u;
    float f;
    const char *message;
  };
  const Case cases[] = {
      {"llama.block_count", 3, 0, "llama.block_count is 3, but the program "
                                  "was compiled for 2"},
      {"llama.embedding_length", 32, 0,
       "llama.embedding_length is 32, but the program was compiled for 64"},
      {"llama.attention.head_count", 4, 0,
       "llama.attention.head_count is 4, but the program was compiled for 8"},
      {"llama.attention.head_count_kv", 8, 0,
       "llama.attention.head_count_kv is 8, but the program was compiled for "
       "4"},
      {"llama.rope.dimension_count", 4, 0,
       "llama.rope.dimension_count is 4, but the program was compiled for 8"},
      {"llama.rope.freq_base", 0, 500000.0f,
       "llama.rope.freq_base is 500000, but the program was compiled for "
       "10000"},
      {"llama.attention.layer_norm_rms_epsilon", 0, 1e-6f,
       "llama.attention.layer_norm_rms_epsilon is 1e-06, but the program was "
       "compiled for 1e-05"},
  };
  for (const Case &c : cases) {
    std::string path = write(c.key, c.u, c.f);
    auto table = loadWeights(path, embed, layout);
    ASSERT_FALSE(table) << c.key;
    EXPECT_EQ(table.error().message(),
              path + ": " + c.message +
                  "; these weights are for another model");
  }
}
