//===- QuantTest.cpp - GGUF block formats: layouts, quantizing ------------===//

#include "runtime/Half.h"
#include "runtime/Quant.h"
#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <random>
#include <string>

using namespace tfm::rt;

namespace {

std::vector<float> uniform(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = dist(rng);
  return v;
}

struct Format {
  DType type;
  /// The rms error of quantizing uniform [-1, 1) values, at most: about
  /// the step (2 / (levels - 1)) over sqrt(12), with room for the scales'
  /// own rounding and the sub-blocks' coarser scales.
  double rms;
};

// Levels: q2 4, q3 8, q4 16, q5 32, q6 64, q8 255.
const Format kFormats[] = {
    {DType::Q8_0, 0.003}, {DType::Q4_0, 0.045}, {DType::Q4_1, 0.045},
    {DType::Q5_0, 0.022}, {DType::Q5_1, 0.022}, {DType::Q2_K, 0.21},
    {DType::Q3_K, 0.095}, {DType::Q4_K, 0.045}, {DType::Q5_K, 0.022},
    {DType::Q6_K, 0.011},
};

} // namespace

TEST(Quant, LayoutsAreGgmls) {
  struct Layout {
    DType type;
    int64_t elements, bytes;
  };
  for (Layout l : {Layout{DType::Q8_0, 32, 34}, {DType::Q4_0, 32, 18},
                   {DType::Q4_1, 32, 20}, {DType::Q5_0, 32, 22},
                   {DType::Q5_1, 32, 24}, {DType::Q2_K, 256, 84},
                   {DType::Q3_K, 256, 110}, {DType::Q4_K, 256, 144},
                   {DType::Q5_K, 256, 176}, {DType::Q6_K, 256, 210}}) {
    EXPECT_EQ(blockElements(l.type), l.elements) << storageName(l.type);
    EXPECT_EQ(blockBytes(l.type), l.bytes) << storageName(l.type);
    EXPECT_TRUE(isBlockFormat(l.type));
    EXPECT_EQ(storageSize(l.type, 3 * l.elements), 3 * l.bytes);
    EXPECT_EQ(storageSize(l.type, l.elements + 1), -1);
    EXPECT_EQ(storageNamed(storageName(l.type)), l.type);
  }
  EXPECT_EQ(storageSize(DType::BF16, 5), 10);
  EXPECT_FALSE(isBlockFormat(DType::F16));
}

TEST(Quant, RoundTripErrorIsAboutHalfAStep) {
  std::vector<float> x = uniform(4096, 1);
  for (Format f : kFormats) {
    std::vector<uint8_t> blocks(size_t(storageSize(f.type, 4096)));
    quantize(f.type, x.data(), 4096, blocks.data());
    std::vector<float> y(4096);
    dequantize(f.type, blocks.data(), 4096, y.data());
    double sum = 0, worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      sum += double(x[i] - y[i]) * double(x[i] - y[i]);
      worst = std::max(worst, double(std::fabs(x[i] - y[i])));
    }
    double rms = std::sqrt(sum / 4096);
    EXPECT_LE(rms, f.rms) << storageName(f.type);
    // Not lost: an error near the values' own size would be a wrong layout.
    EXPECT_LT(worst, 0.5) << storageName(f.type);
    // Quantizing what was dequantized finds the same integers again, to
    // within the scales' rounding: the error does not grow.
    std::vector<uint8_t> again(blocks.size());
    quantize(f.type, y.data(), 4096, again.data());
    std::vector<float> z(4096);
    dequantize(f.type, again.data(), 4096, z.data());
    double drift = 0;
    for (size_t i = 0; i < y.size(); ++i)
      drift += double(y[i] - z[i]) * double(y[i] - z[i]);
    EXPECT_LE(std::sqrt(drift / 4096), f.rms) << storageName(f.type);
  }
}

TEST(Quant, ZeroBlocksStayZero) {
  std::vector<float> x(512, 0.0f);
  for (Format f : kFormats) {
    std::vector<uint8_t> blocks(size_t(storageSize(f.type, 512)));
    quantize(f.type, x.data(), 512, blocks.data());
    std::vector<float> y(512, 1.0f);
    dequantize(f.type, blocks.data(), 512, y.data());
    for (float v : y)
      ASSERT_EQ(v, 0.0f) << storageName(f.type);
  }
}

// Every format through a GGUF file: written, read back as stored (a view
// of the mapping) and dequantized the same way.
TEST(Quant, GgufKeepsBlocksAsStored) {
  char dir[] = "/tmp/tfm-quant-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/m.gguf";
  GgufWriter w;
  w.addString("general.architecture", "llama");
  std::vector<WeightRequest> requests;
  int layer = 0;
  for (Format f : kFormats) {
    std::string name = "blk." + std::to_string(layer) + ".ffn_up.weight";
    w.addTensor({name, {2, 256}, f.type, uniform(512, uint32_t(layer)), {}});
    requests.push_back({"layers." + std::to_string(layer) + ".ffn.up.weight",
                        {2, 256}, f.type});
    ++layer;
  }
  ASSERT_TRUE(w.write(path));
  auto table = loadWeights(path, requests, WeightLayout{});
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(table->ownedBytes(), 0u);
  for (size_t i = 0; i < requests.size(); ++i) {
    const WeightTable::Entry *e = table->find(requests[i].name);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->storage, kFormats[i].type);
    EXPECT_EQ(int64_t(e->bytes()), storageSize(kFormats[i].type, 512));
    std::vector<uint8_t> blocks(e->bytes());
    std::vector<float> x = uniform(512, uint32_t(i));
    quantize(kFormats[i].type, x.data(), 512, blocks.data());
    EXPECT_EQ(std::memcmp(blocks.data(), e->data, blocks.size()), 0)
        << storageName(kFormats[i].type);
  }
  // Kept as f32, the same tensors are dequantized.
  for (WeightRequest &r : requests)
    r.storage = DType::F32;
  auto wide = loadWeights(path, requests, WeightLayout{});
  ASSERT_TRUE(wide) << wide.error().message();
  for (size_t i = 0; i < requests.size(); ++i) {
    std::vector<float> want(512);
    dequantize(kFormats[i].type,
               static_cast<const uint8_t *>(table->find(requests[i].name)->data),
               512, want.data());
    const float *got = wide->find(requests[i].name)->f32();
    for (int k = 0; k < 512; ++k)
      ASSERT_EQ(got[k], want[k]) << storageName(kFormats[i].type) << " " << k;
  }
  // A program compiled for q4_K refuses q4_0, naming the tensor.
  requests[0].storage = DType::Q4_K;
  auto refused = loadWeights(path, requests, WeightLayout{});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("blk.0.ffn_up.weight"),
            std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("q8_0"), std::string::npos);
  std::remove(path.c_str());
  rmdir(dir);
}

TEST(Quant, RandomWeightsInABlockFormat) {
  std::vector<WeightRequest> requests = {
      {"layers.0.ffn.up.weight", {4, 512}, DType::Q4_K}};
  auto a = randomWeights(requests, 3), b = randomWeights(requests, 3);
  ASSERT_TRUE(a && b);
  const WeightTable::Entry *e = a->find("layers.0.ffn.up.weight");
  ASSERT_EQ(e->bytes(), uint64_t(storageSize(DType::Q4_K, 2048)));
  EXPECT_EQ(std::memcmp(e->data, b->find("layers.0.ffn.up.weight")->data,
                        e->bytes()),
            0);
  std::vector<float> y(2048);
  dequantize(DType::Q4_K, static_cast<const uint8_t *>(e->data), 2048,
             y.data());
  double sum = 0;
  for (float v : y)
    sum += double(v) * v;
  // Matrices have std 1/sqrt(fan-in) = 1/sqrt(512).
  EXPECT_NEAR(std::sqrt(sum / 2048), 1 / std::sqrt(512.0), 0.01);
}

// Activations rounded as llama.cpp's q8_0 and q8_K round them: the scale,
// ties to even, the first value of largest magnitude, and all-zero blocks.
TEST(Quant, RoundsActivationsAsLlamaCpp) {
  std::vector<float> x(64, 0.f), y(64);
  // Block 0: amax 127, so d = 1 and x·127/amax = x.
  x[0] = 127.f, x[1] = 2.5f, x[2] = 3.5f, x[3] = -2.5f, x[4] = -127.f;
  x[5] = 0.49999997f;
  // Block 1: amax 1, d = 1/127 rounded to f16 = 1032·2^-17.
  x[32] = 1.f, x[33] = 0.5f, x[34] = -0.25f;
  roundActivations(ActQuant::Q8_0, x.data(), 64, y.data());
  float expect0[] = {127, 2, 4, -2, -127, 0};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(y[i], expect0[i]) << i;
  float d = 1032.f / 131072.f;
  EXPECT_EQ(y[32], 127 * d);
  EXPECT_EQ(y[33], 64 * d); // 63.5 rounds to even
  EXPECT_EQ(y[34], -32 * d); // -31.75
  EXPECT_EQ(y[35], 0.f);

  std::vector<float> k(512, 0.f), z(512);
  // The first value of largest magnitude sets the sign: iscale =
  // -127/-2 = 63.5, d = 1/63.5.
  k[0] = -2.f, k[1] = 2.f, k[2] = 1.f / 127, k[3] = 3.f / 127;
  roundActivations(ActQuant::Q8_K, k.data(), 512, z.data());
  float dk = 1.f / 63.5f;
  EXPECT_EQ(z[0], -127 * dk);
  EXPECT_EQ(z[1], 127 * dk);
  EXPECT_EQ(z[2], 0.f); // 0.5 rounds to even
  EXPECT_EQ(z[3], 2 * dk); // 1.5 rounds to even
  for (int i = 256; i < 512; ++i) // an all-zero block
    EXPECT_EQ(z[i], 0.f);
}

// The KV cache's rows: f16 and bf16 rounded to nearest even, q8_0 as
// quantize() writes it; loading gives back the values stored.
TEST(Quant, StoresCacheRowsAsTheirStorage) {
  float row[32];
  for (int i = 0; i < 32; ++i)
    row[i] = float(i - 16) * 0.37f + 0.001f;
  // 1 + 2^-11 lies halfway between two f16s: ties to even (1.0); 1 +
  // 3·2^-11 rounds up to the even 1 + 2^-9.
  row[0] = 1.0f + 0x1p-11f;
  row[1] = 1.0f + 3 * 0x1p-11f;
  uint8_t bytes[128];
  float back[32];
  storeValues(DType::F16, row, 32, bytes);
  loadValues(DType::F16, bytes, 32, back);
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 1.0f + 0x1p-9f);
  for (int i = 2; i < 32; ++i)
    EXPECT_NEAR(back[i], row[i], std::fabs(row[i]) * 0x1p-11f);

  storeValues(DType::BF16, row, 32, bytes);
  loadValues(DType::BF16, bytes, 32, back);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(back[i], bf16ToFloat(floatToBf16(row[i])));

  uint8_t blocks[34];
  float expected[32];
  quantize(DType::Q8_0, row, 32, blocks);
  dequantize(DType::Q8_0, blocks, 32, expected);
  storeValues(DType::Q8_0, row, 32, bytes);
  EXPECT_EQ(std::memcmp(bytes, blocks, 34), 0);
  loadValues(DType::Q8_0, bytes, 32, back);
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(back[i], expected[i]);

  storeValues(DType::F32, row, 32, bytes);
  loadValues(DType::F32, bytes, 32, back);
  EXPECT_EQ(std::memcmp(back, row, sizeof(row)), 0);
}
