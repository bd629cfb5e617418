//===- PlanTest.cpp - the host plan's text form ---------------------------===//

#include "runtime/Plan.h"

#include <gtest/gtest.h>

using namespace tfm::rt;

TEST(PlanWords, EveryByteSurvivesARoundTrip) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += char(c);
  std::string word = escapeWord(all);
  for (char c : word)
    EXPECT_FALSE(c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\0')
        << "an escaped word holds a separator";
  auto back = unescapeWord(word);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, all);
}

TEST(PlanWords, PlainNamesStayReadable) {
  EXPECT_EQ(escapeWord("layers.3.attn.q.weight+layers.3.attn.k.weight"),
            "layers.3.attn.q.weight+layers.3.attn.k.weight");
  EXPECT_EQ(escapeWord("tiny llama"), "tiny%20llama");
  EXPECT_EQ(escapeWord(""), "%");
  EXPECT_EQ(*unescapeWord("%"), "");
}

TEST(PlanWords, MalformedEscapesAreRejected) {
  EXPECT_FALSE(unescapeWord("a%2"));
  EXPECT_FALSE(unescapeWord("a%zz"));
  EXPECT_FALSE(unescapeWord("%4"));
  EXPECT_FALSE(unescapeWord("x%"));
}

TEST(Plan, NamesWithAnyBytesRoundTrip) {
  Plan p;
  p.model = "x\n)\"tfmplan\" \xff\xfe end";
  p.vocabSize = 8;
  p.maxSeqLen = 4;
  p.prefillChunk = 4;
  p.layout.naming = "llama";
  p.weights.push_back({"a b\nc", {2, 3}, {}});
  p.kernels.push_back({"kernel\nname", "tfm_k_0"});
  for (EntryPlan *e : {&p.prefill, &p.decode}) {
    e->buffers.push_back({});
    e->logits = 0;
  }
  p.prefill.name = "prefill";
  p.decode.name = "decode";
  auto parsed = parsePlan(printPlan(p));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->model, p.model);
  EXPECT_EQ(parsed->weights.at(0).name, "a b\nc");
  EXPECT_EQ(parsed->kernels.at(0).symbol, "kernel\nname");
  EXPECT_EQ(printPlan(*parsed), printPlan(p));
}

TEST(Plan, CacheStorageAndHostCacheStepsRoundTrip) {
  Plan p;
  p.model = "m";
  p.layout.naming = "llama";
  p.layers = 1;
  p.kvHeads = 2;
  p.headDim = p.vHeadDim = 32;
  p.kvStorage = DType::Q8_0;
  for (EntryPlan *e : {&p.prefill, &p.decode}) {
    e->buffers.resize(4);
    Step write;
    write.kind = Step::Kind::KvWrite;
    write.keys = 0;
    write.values = 1;
    Step read;
    read.kind = Step::Kind::KvRead;
    read.keys = 2;
    read.values = 3;
    e->steps = {write, read};
    e->logits = 0;
  }
  p.prefill.name = "prefill";
  p.decode.name = "decode";
  std::string text = printPlan(p);
  EXPECT_NE(text.find("cache 1 2 32 32 q8_0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kv_read 0 keys b2 values b3\n"), std::string::npos);
  auto parsed = parsePlan(text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->kvStorage, DType::Q8_0);
  EXPECT_EQ(parsed->decode.steps.at(1).kind, Step::Kind::KvRead);
  EXPECT_EQ(printPlan(*parsed), text);

  // A cache type no kernel reads is refused.
  std::string bad = text;
  bad.replace(bad.find("q8_0\n"), 4, "q4_K");
  auto refused = parsePlan(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("bad KV cache storage type"),
            std::string::npos);
}

// Latent attention's cache keeps keys alone: the values are the first
// vHeadDim features of each key row.
TEST(Plan, LatentCacheKeepsValuesInTheKeys) {
  Plan p;
  p.model = "m";
  p.layout.naming = "deepseek";
  p.layers = 3;
  p.kvHeads = 1;
  p.headDim = 576; // the latent (512) and the rotated key (64)
  p.vHeadDim = 512;
  p.kvStorage = DType::BF16;
  for (EntryPlan *e : {&p.prefill, &p.decode}) {
    e->buffers.resize(1);
    e->logits = 0;
  }
  p.prefill.name = "prefill";
  p.decode.name = "decode";
  EXPECT_EQ(cacheBytesPerPosition(p), 3 * (576 + 512) * 2);
  p.layout.vHeadDim = 128;
  p.layout.latentRank = 512;
  EXPECT_TRUE(p.valuesInKeys());
  EXPECT_EQ(cacheBytesPerPosition(p), 3 * 576 * 2);
  EXPECT_EQ(cacheRowBytes(p, false), cacheRowBytes(p, true));
  std::string text = printPlan(p);
  EXPECT_NE(text.find("latent 128 512\n"), std::string::npos) << text;
  auto parsed = parsePlan(text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->layout.latentRank, 512);
  EXPECT_EQ(parsed->layout.vHeadDim, 128);
  EXPECT_EQ(printPlan(*parsed), text);
}
