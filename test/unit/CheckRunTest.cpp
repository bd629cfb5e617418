//===- CheckRunTest.cpp - what a run is checked for before loading ---------===//

#include "TempDir.h"

#include "runtime/Generate.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace tfm::rt;
using tfm::test::TempDir;

namespace {

RunOptions run(std::vector<int32_t> prompt, int64_t n) {
  RunOptions o;
  o.promptIds = std::move(prompt);
  o.numTokens = n;
  return o;
}

} // namespace

TEST(CheckRun, IdsAndLengths) {
  EXPECT_TRUE(checkRun(run({1, 2}, 4), 10, 16));
  EXPECT_EQ(checkRun(run({1, 12}, 4), 10, 16).message(),
            "--prompt-ids: token id 12 is out of range for a vocabulary of 10");
  EXPECT_EQ(checkRun(run({1, 2}, 16), 10, 16).message(),
            "the prompt (2 tokens) and 15 decode steps need 17 positions, "
            "but the model's KV cache holds 16 (max_seq_len)");
  // -n near 2^63 once overflowed the sum and passed the check.
  EXPECT_EQ(checkRun(run({1, 2}, INT64_MAX), 10, 16).message(),
            "the prompt (2 tokens) and 9223372036854775806 decode steps need "
            "more than 2^63 positions, but the model's KV cache holds 16 "
            "(max_seq_len)");
}

TEST(CheckRun, LogitsOutMustBeWritable) {
  TempDir dir;
  RunOptions o = run({1}, 1);
  o.logitsOut = dir.file("out.npy");
  EXPECT_TRUE(checkRun(o, 10, 16));
  o.logitsOut = dir.file("no-such-folder/out.npy");
  EXPECT_EQ(checkRun(o, 10, 16).message(),
            "--logits-out: cannot create " + o.logitsOut +
                ": No such file or directory");
  o.logitsOut = dir.file("");
  EXPECT_EQ(checkRun(o, 10, 16).message(),
            "--logits-out: " + o.logitsOut + " is not a regular file");
}

namespace {

/// A model whose logits turn to NaN at one decode position.
class NanAt : public ModelRunner {
public:
  explicit NanAt(int64_t badPos) : badPos_(badPos) {}
  int64_t vocabSize() const override { return 4; }
  int64_t maxSeqLen() const override { return 16; }
  Status prefill(const std::vector<int32_t> &ids, int64_t,
                 std::vector<float> &logits, LogitRows) override {
    logits.assign(ids.size() * 4, 0.5f);
    return Status::ok();
  }
  Status decode(int32_t, int64_t pos, std::vector<float> &logits) override {
    logits.assign(4, 0.5f);
    if (pos == badPos_)
      logits[2] = std::nanf("");
    return Status::ok();
  }

private:
  int64_t badPos_;
};

} // namespace

TEST(Generate, NanLogitsAreAnErrorNamingTheStep) {
  NanAt model(/*badPos=*/3);
  auto result = generate(model, run({1, 2}, 5), nullptr);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "the logits of decode step 2 (position 3) hold NaN (token 2): the "
            "weights or the computation went out of range");
  NanAt fine(/*badPos=*/100);
  auto ok = generate(fine, run({1, 2}, 5), nullptr);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->generatedIds.size(), 5u);
}

TEST(CheckRun, CtxLimitsThePositions) {
  RunOptions o = run({1, 2}, 8);
  o.ctx = 8;
  EXPECT_EQ(checkRun(o, 10, 16).message(),
            "the prompt (2 tokens) and 7 decode steps need 9 positions, but "
            "--ctx allows 8");
  o.ctx = 9;
  EXPECT_TRUE(checkRun(o, 10, 16));
  o.ctx = 32;
  EXPECT_EQ(checkRun(o, 10, 16).message(),
            "--ctx 32 is more than the 16 positions the model was compiled "
            "for (tfmc compile --ctx N sets them)");
}
