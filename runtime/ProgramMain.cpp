//===- ProgramMain.cpp - main() of compiled executables ---------*- C++ -*-===//

#include "runtime/CompiledModel.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <sys/resource.h>

using namespace tfm::rt;

static int run(int argc, char **argv, const EmbeddedModel &embedded,
               const std::string &tool);

int tfm::rt::programMain(int argc, char **argv, const EmbeddedModel &embedded) {
  std::string tool = argc > 0 ? argv[0] : "model";
  if (size_t slash = tool.rfind('/'); slash != std::string::npos)
    tool = tool.substr(slash + 1);
  // Memory that runs out (weights larger than the machine, a huge KV
  // cache) is an error message, never an abort.
  try {
    return run(argc, argv, embedded, tool);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "%s: error: out of memory\n", tool.c_str());
    return kExitFailure;
  }
}

static int run(int argc, char **argv, const EmbeddedModel &embedded,
               const std::string &tool) {
  RunFlagSet flags;
  flags.benchFlags = true;
  auto options = parseRunOptions(argc, argv, 1, flags);
  if (!options) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                 options.error().message().c_str());
    return kExitUsage;
  }
  if (options->help) {
    auto plan = parsePlan(embedded.planText);
    std::printf("%s", runHelp(tool + " [options]", flags).c_str());
    if (plan)
      std::printf("\nmodel: %s (vocabulary %ld, %ld positions)\n",
                  plan->model.c_str(), long(plan->vocabSize),
                  long(plan->maxSeqLen));
    return 0;
  }
  // Everything the command line can get wrong is reported before the
  // weights load (which can take long), and before anything is printed.
  auto plan = parsePlan(embedded.planText);
  if (!plan) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                 plan.error().message().c_str());
    return kExitFailure;
  }
  if (Status s = prepareTextRun(*options); !s) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(), s.message().c_str());
    return kExitFailure;
  }
  if (Status s = checkRun(*options, plan->vocabSize, plan->maxSeqLen); !s) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(), s.message().c_str());
    return kExitUsage;
  }
  setNumThreads(int(options->threads));
  auto loadStart = std::chrono::steady_clock::now();
  auto model = CompiledModel::load(embedded, options->weights,
                                   options->weightSeed, options->weightType);
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - loadStart)
                      .count();
  if (!model) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                 model.error().message().c_str());
    return kExitFailure;
  }
  Session session(**model);
  if (Status s = session.status(); !s) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(), s.message().c_str());
    return kExitFailure;
  }
  if (options->profile)
    session.enableProfile();
  int rc = options->bench
               ? runBenchmark(session, *options, tool, int(options->repeats))
               : options->chat ? runChat(session, *options, tool)
                               : runGeneration(session, *options, tool);
  if (options->profile)
    std::fprintf(stderr, "%s", session.profileReport().c_str());
  if (rc == 0 && !options->json) {
    // What the weights cost: read in place from the file, or held in
    // memory (converted, generated, or concatenated at load).
    const WeightTable &w = (*model)->weights();
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    // Text mode keeps stdout for the text.
    std::FILE *report = options->tokenizer ? stderr : stdout;
    std::fprintf(report,
                "weights: %.1f MiB mapped from the file, %.1f MiB in memory, "
                "loaded in %.1f ms; peak RSS %.1f MiB\n",
                double(w.mappedBytes()) / (1 << 20),
                double(w.ownedBytes() + (*model)->concatenatedBytes()) /
                    (1 << 20),
                loadMs, double(usage.ru_maxrss) / 1024);
    // The cache's memory is committed as positions are written.
    const Plan &plan = (*model)->plan();
    int64_t perPosition = cacheBytesPerPosition(plan);
    std::fprintf(report,
                "KV cache: %s, %.1f KiB per position (%.1f MiB for all %lld "
                "positions, taken as they fill)\n",
                std::string(storageName(plan.kvStorage)).c_str(),
                double(perPosition) / 1024,
                double(perPosition) * double(plan.maxSeqLen) / (1 << 20),
                (long long)plan.maxSeqLen);
  }
  return rc;
}
