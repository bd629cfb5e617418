//===- SamplingTest.cpp - token sampling and .npy files --------------------===//

#include "TempDir.h"

#include "runtime/Npy.h"
#include "runtime/Sampling.h"

#include <cmath>
#include <filesystem>

using namespace tfm::rt;

TEST(Sampling, GreedyTakesTheFirstMaximum) {
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
  EXPECT_EQ(argmax(logits.data(), 4), 1);
  Sampler greedy(SamplingParams{});
  EXPECT_EQ(greedy.sample(logits.data(), 4), 1);
}

TEST(Sampling, TopKOfOneIsGreedy) {
  std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  SamplingParams p;
  p.temperature = 5.0;
  p.topK = 1;
  Sampler s(p);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(s.sample(logits.data(), 3), 1);
}

TEST(Sampling, TinyTopPIsGreedy) {
  std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  SamplingParams p;
  p.temperature = 1.0;
  p.topP = 1e-6;
  Sampler s(p);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(s.sample(logits.data(), 3), 1);
}

TEST(Sampling, SeededRunsRepeat) {
  std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f};
  SamplingParams p;
  p.temperature = 1.0;
  p.seed = 42;
  Sampler a(p), b(p);
  p.seed = 43;
  Sampler c(p);
  std::vector<int32_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.sample(logits.data(), 5));
    sb.push_back(b.sample(logits.data(), 5));
    sc.push_back(c.sample(logits.data(), 5));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Sampling, FrequenciesFollowTheSoftmax) {
  // logits log(1), log(2), log(3), log(4): probabilities 0.1 .. 0.4.
  std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  SamplingParams p;
  p.temperature = 1.0;
  p.seed = 1;
  Sampler s(p);
  const int n = 40000;
  std::vector<int> counts(4);
  for (int i = 0; i < n; ++i)
    ++counts[s.sample(logits.data(), 4)];
  for (int k = 0; k < 4; ++k)
    EXPECT_NEAR(counts[k] / double(n), 0.1 * (k + 1), 0.01) << k;
}

TEST(Sampling, TopPKeepsTheNucleus) {
  // Probabilities 0.1 .. 0.4; top-p 0.65 keeps {0.4, 0.3} renormalized.
  std::vector<float> logits = {0.0f, std::log(2.0f), std::log(3.0f),
                               std::log(4.0f)};
  SamplingParams p;
  p.temperature = 1.0;
  p.topP = 0.65;
  p.seed = 3;
  Sampler s(p);
  const int n = 20000;
  std::vector<int> counts(4);
  for (int i = 0; i < n; ++i)
    ++counts[s.sample(logits.data(), 4)];
  EXPECT_EQ(counts[0] + counts[1], 0);
  EXPECT_NEAR(counts[3] / double(n), 4.0 / 7.0, 0.015);
}

TEST(Npy, RoundTripsAndWritesAtomically) {
  tfm::test::TempDir dir;
  std::string path = dir.file("x.npy");
  std::vector<float> data = tfm::test::ramp(6);
  ASSERT_TRUE(writeNpy(path, data.data(), 2, 3));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto m = readNpy(path);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->rows, 2);
  EXPECT_EQ(m->cols, 3);
  EXPECT_EQ(m->data, data);
  // The header is padded so the data starts on a 64-byte boundary.
  EXPECT_EQ((tfm::test::readBytes(path).size() - 6 * 4) % 64, 0u);

  Status bad = writeNpy(dir.file("no/such/dir/x.npy"), data.data(), 2, 3);
  EXPECT_FALSE(bad);
  EXPECT_NE(bad.message().find("no/such/dir/x.npy: cannot write"),
            std::string::npos);
}
