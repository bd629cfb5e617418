//===- SafetensorsTest.cpp - safetensors files, shards and errors ----------===//

#include "TempDir.h"

#include "runtime/Half.h"
#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <sys/stat.h>

using namespace tfm::rt;
using tfm::test::ramp;
using tfm::test::TempDir;

namespace {

const std::vector<WeightRequest> kRequests = {
    {"embed.weight", {4, 8}},
    {"layers.0.attn_norm.weight", {8}},
    {"layers.0.attn.q.weight", {8, 8}},
    {"lm_head.weight", {4, 8}},
};

std::vector<TensorData> sampleTensors() {
  return {{"model.embed_tokens.weight", {4, 8}, DType::F32, ramp(32)},
          {"model.layers.0.input_layernorm.weight", {8}, DType::F16,
           ramp(8, 1.0f)},
          {"model.layers.0.self_attn.q_proj.weight", {8, 8}, DType::BF16,
           ramp(64)},
          {"lm_head.weight", {4, 8}, DType::F32, ramp(32, 0.5f)}};
}

/// A safetensors file with a hand-written header and `dataBytes` zero bytes.
void writeRaw(const std::string &path, const std::string &header,
              size_t dataBytes) {
  std::vector<char> bytes(8);
  uint64_t len = header.size();
  std::memcpy(bytes.data(), &len, 8);
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + dataBytes);
  tfm::test::writeBytes(path, bytes);
}

void expectSampleValues(const WeightTable &table) {
  std::vector<float> embed = ramp(32), gain = ramp(8, 1.0f), q = ramp(64),
                     head = ramp(32, 0.5f);
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(table.find("embed.weight")->f32()[i], embed[i]);
    EXPECT_EQ(table.find("lm_head.weight")->f32()[i], head[i]);
  }
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(table.find("layers.0.attn_norm.weight")->f32()[i],
              f16ToFloat(floatToF16(gain[i])));
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(table.find("layers.0.attn.q.weight")->f32()[i],
              bf16ToFloat(floatToBf16(q[i])));
}

} // namespace

TEST(Safetensors, LoadsSingleFileAndDirectory) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, sampleTensors()));

  auto fromFile = loadWeights(path, kRequests, WeightLayout{});
  ASSERT_TRUE(fromFile) << fromFile.error().message();
  expectSampleValues(*fromFile);

  // A directory holding model.safetensors is found too.
  auto fromDir = loadWeights(dir.file(""), kRequests, WeightLayout{});
  ASSERT_TRUE(fromDir) << fromDir.error().message();
  expectSampleValues(*fromDir);
}

TEST(Safetensors, LoadsShardsThroughTheIndex) {
  TempDir dir;
  std::vector<TensorData> all = sampleTensors();
  ASSERT_TRUE(writeSafetensors(dir.file("model-00001-of-00002.safetensors"),
                               {all[0], all[1]}));
  ASSERT_TRUE(writeSafetensors(dir.file("model-00002-of-00002.safetensors"),
                               {all[2], all[3]}));
  std::ofstream(dir.file("model.safetensors.index.json"))
      << R"({"metadata": {"total_size": 0}, "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.input_layernorm.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.self_attn.q_proj.weight": "model-00002-of-00002.safetensors",
        "lm_head.weight": "model-00002-of-00002.safetensors"}})";
  auto table = loadWeights(dir.file(""), kRequests, WeightLayout{});
  ASSERT_TRUE(table) << table.error().message();
  expectSampleValues(*table);
}

TEST(Safetensors, IndexNamingAMissingShardIsAnError) {
  TempDir dir;
  std::ofstream(dir.file("model.safetensors.index.json"))
      << R"({"weight_map": {"a": "model-00001-of-00001.safetensors"}})";
  auto source = openWeights(dir.file(""));
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            dir.file("model-00001-of-00001.safetensors") +
                ": cannot open: No such file or directory");
}

TEST(Safetensors, MissingTensorAndWrongShape) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, sampleTensors()));

  auto missing = loadWeights(path, {{"layers.0.ffn.up.weight", {16, 8}}},
                             WeightLayout{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            path + ": missing tensor 'model.layers.0.mlp.up_proj.weight' (for "
                   "tfm weight 'layers.0.ffn.up.weight' of shape [16, 8])");

  auto shape = loadWeights(path, {{"layers.0.attn.q.weight", {4, 16}}},
                           WeightLayout{});
  ASSERT_FALSE(shape);
  EXPECT_EQ(shape.error().message(),
            path + ": tensor 'model.layers.0.self_attn.q_proj.weight' has "
                   "shape [8, 8], expected [4, 16] (for tfm weight "
                   "'layers.0.attn.q.weight')");
}

TEST(Safetensors, TruncatedFileIsReported) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, sampleTensors()));
  size_t size = tfm::test::readBytes(path).size();
  tfm::test::truncateFile(path, size - 10);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": tensor 'lm_head.weight': data [272, 400) extends past "
                   "the end of the data section (390 bytes); the file is "
                   "truncated");
}

TEST(Safetensors, HeaderLongerThanFileIsReported) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, sampleTensors()));
  tfm::test::truncateFile(path, 50);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_NE(source.error().message().find(
                path + ": header length"),
            std::string::npos);
  EXPECT_NE(source.error().message().find("the file is truncated or not "
                                          "safetensors"),
            std::string::npos);
}

TEST(Safetensors, CorruptHeaderIsReported) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  writeRaw(path, R"({"a": {"dtype": "F32", "shape": [2], )", 0);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": corrupt safetensors header: parse error at line 1, "
                   "column 38: syntax error while parsing object key - "
                   "unexpected end of input; expected string literal");

  // One tensor described twice: which description counts is ambiguous.
  std::string twice = dir.file("twice.safetensors");
  writeRaw(twice,
           R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, )"
           R"("a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
           4);
  auto duplicate = openWeights(twice);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().message(),
            twice + ": corrupt safetensors header: key \"a\" appears twice "
                    "in one object");
}

TEST(Safetensors, InconsistentOffsetsAreReported) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})",
           8);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": tensor 'a': data_offsets span 8 bytes but shape [3] of "
                   "F32 needs 12");
}

TEST(Safetensors, UnsupportedDtypeIsNamed) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  writeRaw(path,
           R"({"model.embed_tokens.weight": {"dtype": "I64", )"
           R"("shape": [2], "data_offsets": [0, 16]}})",
           16);
  auto table = loadWeights(path, {{"embed.weight", {2}}}, WeightLayout{});
  ASSERT_FALSE(table);
  EXPECT_EQ(table.error().message(),
            path + ": tensor 'model.embed_tokens.weight' has dtype I64, which "
                   "tfm cannot load (supported: f32, f16, bf16, q8_0, q4_0, "
                   "q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K) (for "
                   "tfm weight 'embed.weight')");
}

TEST(Safetensors, OverlappingTensorsAreRefused) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  // Two tensors on the same bytes: the format forbids it.
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
           R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
           8);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": tensors 'a' and 'b' overlap (bytes [0, 8) of the data "
                   "section)");
}

TEST(Safetensors, HolesAndTrailingBytesAreRefused) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
           R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
           12);
  auto hole = openWeights(path);
  ASSERT_FALSE(hole);
  EXPECT_EQ(hole.error().message(),
            path + ": bytes [4, 8) of the data section belong to no tensor "
                   "(before 'b')");

  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
           20);
  auto trailing = openWeights(path);
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message(),
            path + ": 16 bytes after the last tensor's data belong to no "
                   "tensor");
}

TEST(Safetensors, SizesThatWouldWrapAreRefused) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  // 2^62 f32 elements are 2^64 bytes, which wraps to 0 in 64 bits.
  writeRaw(path,
           R"({"a": {"dtype": "F32", "shape": [4611686018427387904], )"
           R"("data_offsets": [0, 0]}})",
           0);
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": tensor 'a': shape [4611686018427387904] of F32 is too "
                   "large");
}

TEST(Safetensors, ShardsOutsideTheFolderAreRefused) {
  TempDir dir;
  for (const char *shard : {"../model.safetensors", "/etc/passwd",
                            "sub/model.safetensors", ".."}) {
    std::ofstream(dir.file("model.safetensors.index.json"))
        << R"({"weight_map": {"a": ")" << shard << R"("}})";
    auto source = openWeights(dir.file(""));
    ASSERT_FALSE(source) << shard;
    EXPECT_EQ(source.error().message(),
              dir.file("model.safetensors.index.json") +
                  ": weight_map['a'] names '" + shard +
                  "', which is not a file in the checkpoint's folder");
  }
}

TEST(Safetensors, APipeIsRefusedWithoutWaiting) {
  TempDir dir;
  std::string path = dir.file("weights.fifo");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // Opening a FIFO for reading would wait for a writer forever.
  auto source = openWeights(path);
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().message(),
            path + ": not a regular file (a pipe)");
}

TEST(Safetensors, NonFiniteWeightsAreRefused) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  std::vector<TensorData> tensors = sampleTensors();
  tensors[3].values[7] = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(writeSafetensors(path, tensors));
  auto nan = loadWeights(path, kRequests, WeightLayout{});
  ASSERT_FALSE(nan);
  EXPECT_EQ(nan.error().message(),
            path + ": weight 'lm_head.weight' holds NaN at element 7; a "
                   "model with non-finite weights gives no meaningful output");
  tensors[3].values[7] = 0;
  tensors[0].values[31] = -std::numeric_limits<float>::infinity();
  ASSERT_TRUE(writeSafetensors(path, tensors));
  auto inf = loadWeights(path, kRequests, WeightLayout{});
  ASSERT_FALSE(inf);
  EXPECT_EQ(inf.error().message(),
            path + ": weight 'embed.weight' holds Inf at element 31; a model "
                   "with non-finite weights gives no meaningful output");
}

TEST(Safetensors, SixteenBitWeightsStayAsStored) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, sampleTensors()));
  std::vector<WeightRequest> requests = kRequests;
  requests[2].storage = DType::BF16; // layers.0.attn.q.weight, stored bf16
  auto table = loadWeights(path, requests, WeightLayout{});
  ASSERT_TRUE(table) << table.error().message();
  const WeightTable::Entry *q = table->find("layers.0.attn.q.weight");
  EXPECT_EQ(q->storage, DType::BF16);
  EXPECT_EQ(q->owned, -1) << "a view of the mapped file, not a copy";
  // Only the f16 norm weight (8 values) was converted, to f32.
  EXPECT_EQ(table->ownedBytes(), 8u * 4u);
  std::vector<float> want = ramp(64);
  const uint16_t *bits = static_cast<const uint16_t *>(q->data);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(bits[i], tfm::rt::floatToBf16(want[i]));

  // A weight kept in 16 bits is not rounded from another stored type.
  requests = kRequests;
  requests[0].storage = DType::BF16; // embed.weight, stored f32
  auto refused = loadWeights(path, requests, WeightLayout{});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            path + ": tensor 'model.embed_tokens.weight' is stored as F32, "
                   "but the program keeps tfm weight 'embed.weight' as "
                   "bf16; compile it for these weights (tfmc compile "
                   "--weight-type f32), or convert it as it loads "
                   "(--weight-type bf16)");

  // Converting as it loads (--weight-type) rounds it, to nearest even.
  auto converted = loadWeights(path, requests, WeightLayout{},
                               /*convertFloats=*/true);
  ASSERT_TRUE(converted) << converted.error().message();
  const WeightTable::Entry *e = converted->find("embed.weight");
  EXPECT_EQ(e->storage, DType::BF16);
  const uint16_t *rounded = static_cast<const uint16_t *>(e->data);
  std::vector<float> embed = ramp(32);
  for (size_t i = 0; i < embed.size(); ++i)
    EXPECT_EQ(rounded[i], tfm::rt::floatToBf16(embed[i]));
}
