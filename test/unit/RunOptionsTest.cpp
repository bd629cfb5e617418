//===- RunOptionsTest.cpp - generation flags -------------------------------===//

#include "runtime/RunOptions.h"

#include <gtest/gtest.h>

using namespace tfm::rt;

namespace {

Expected<RunOptions> parse(std::vector<std::string> args,
                           bool config = true) {
  std::vector<char *> argv = {const_cast<char *>("tfmc"),
                              const_cast<char *>("run")};
  for (std::string &a : args)
    argv.push_back(a.data());
  RunFlagSet flags;
  flags.configArgument = config;
  flags.benchFlags = !config;
  return parseRunOptions(int(argv.size()), argv.data(), 2, flags);
}

std::string error(std::vector<std::string> args, bool config = true) {
  auto o = parse(std::move(args), config);
  return o ? "<no error>" : o.error().message();
}

} // namespace

TEST(RunOptions, ParsesEveryFlag) {
  auto o = parse({"model.json", "--weights", "w.gguf", "--prompt-ids=1,2,3",
                  "-n", "5", "--temp", "0.7", "--top-k", "40", "--top-p",
                  "0.9", "--seed", "11", "--logits-out", "l.npy", "--json",
                  "--interpret", "--weight-seed", "3"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->config, "model.json");
  EXPECT_EQ(o->weights, "w.gguf");
  EXPECT_EQ(o->promptIds, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(o->numTokens, 5);
  EXPECT_DOUBLE_EQ(o->sampling.temperature, 0.7);
  EXPECT_EQ(o->sampling.topK, 40);
  EXPECT_DOUBLE_EQ(o->sampling.topP, 0.9);
  EXPECT_EQ(o->sampling.seed, 11u);
  EXPECT_EQ(o->logitsOut, "l.npy");
  EXPECT_TRUE(o->json);
  EXPECT_TRUE(o->interpret);
  EXPECT_EQ(o->weightSeed, 3u);
}

TEST(RunOptions, ProgramFlags) {
  auto o = parse({"--prompt-ids", "4", "--bench", "--threads", "2",
                  "--force-ids", "5,6"},
                 /*config=*/false);
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_TRUE(o->bench);
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(o->forceIds, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--bench"}),
            "unknown flag '--bench' (see --help)");
  EXPECT_EQ(error({"--prompt-ids", "1", "--interpret"}, false),
            "unknown flag '--interpret' (see --help)");
}

TEST(RunOptions, Errors) {
  EXPECT_EQ(error({"--prompt-ids", "1"}),
            "missing the model config argument (see --help)");
  EXPECT_EQ(error({"m.json"}),
            "a prompt is required: --prompt \"text\", --prompt-file F or "
            "--prompt-ids 1,2,3");
  EXPECT_EQ(error({"m.json", "--prompt", "hi", "--prompt-ids", "1"}),
            "give one of --prompt, --prompt-file and --prompt-ids");
  EXPECT_EQ(error({"m.json", "--prompt", "hi", "--force-ids", "1"}),
            "--force-ids takes --prompt-ids");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--stop", ""}),
            "--stop expects a non-empty string");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1,x"}),
            "--prompt-ids expects comma-separated non-negative token ids "
            "(like 1,2,3), got '1,x'");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1,,2"}),
            "--prompt-ids expects comma-separated non-negative token ids "
            "(like 1,2,3), got '1,,2'");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "-n", "-3"}),
            "-n expects a non-negative token count, got '-3'");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--top-p", "1.5"}),
            "--top-p expects a probability in (0, 1], got '1.5'");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--temp", "hot"}),
            "--temp expects a temperature >= 0, got 'hot'");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--weights"}),
            "--weights expects a weights file or directory");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "--frobnicate"}),
            "unknown flag '--frobnicate' (see --help)");
  EXPECT_EQ(error({"m.json", "other.json", "--prompt-ids", "1"}),
            "unexpected second config 'other.json' (already have 'm.json')");
  EXPECT_EQ(error({"m.json", "--prompt-ids", "1", "-n", "3", "--force-ids",
                   "4"}),
            "-n and --force-ids conflict: with --force-ids the number of "
            "decode steps is the number of forced ids");
  EXPECT_EQ(error({"m.json", "--json=yes", "--prompt-ids", "1"}),
            "--json takes no value");
}

TEST(RunOptions, HelpStopsParsing) {
  auto o = parse({"--help", "--frobnicate"});
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->help);
}

TEST(RunOptions, ThreadCountsAreBounded) {
  // 2^31 once became a negative int; 0 and huge counts are refused.
  EXPECT_EQ(error({"--prompt-ids", "1", "--threads", "2147483648"}, false),
            "--threads expects a thread count from 1 to 4096, got "
            "'2147483648'");
  EXPECT_EQ(error({"--prompt-ids", "1", "--threads", "0"}, false),
            "--threads expects a thread count from 1 to 4096, got '0'");
  auto o = parse({"--prompt-ids", "1", "--threads", "8"}, false);
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->threads, 8);
}
