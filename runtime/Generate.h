//===- Generate.h - the prefill/decode loop ---------------------*- C++ -*-===//
//
// Drives any model implementation (the interpreter, a compiled program)
// through prefill and decode, sampling, scoring mode, logits dumps, timing
// and output, so every way of running a model behaves the same.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_GENERATE_H
#define TFM_RUNTIME_GENERATE_H

#include "runtime/RunOptions.h"

#include <cstdio>

namespace tfm::rt {

/// The logits rows a prefill must produce: every prompt position's, the
/// last one's (to pick the next token), or none.
enum class LogitRows { All, Last, None };

/// A model with a KV cache, as the generation loop sees it.
class ModelRunner {
public:
  virtual ~ModelRunner() = default;
  virtual int64_t vocabSize() const = 0;
  virtual int64_t maxSeqLen() const = 0;
  /// Runs `ids` at positions [pos, pos + ids.size()). With LogitRows::All,
  /// sets `logits` to one row of vocabSize() values per id; with Last, the
  /// last vocabSize() values of `logits` are the last id's row (a runner
  /// may skip computing the others); with None, `logits` is unspecified.
  virtual Status prefill(const std::vector<int32_t> &ids, int64_t pos,
                         std::vector<float> &logits, LogitRows rows) = 0;
  /// Runs one token at position `pos`; `logits` gets one row.
  virtual Status decode(int32_t id, int64_t pos,
                        std::vector<float> &logits) = 0;
};

struct GenerationResult {
  std::vector<int32_t> promptIds;
  /// The sampler's pick after the prompt and after every decode call.
  std::vector<int32_t> generatedIds;
  std::vector<int32_t> forcedIds;
  /// Text mode: the generated text, up to a stop string, without the
  /// end-of-generation token.
  std::string generatedText;
  /// Why generation ended: "length", "eos" or "stop".
  std::string stopReason = "length";
  double prefillSeconds = 0;
  double decodeSeconds = 0;
  int64_t decodeCalls = 0;
  /// Every logits row, when the options ask for them.
  std::vector<float> logits;
  int64_t logitsRows = 0;
};

/// Exit codes of programs and `tfmc run`: 0 success, 1 a failure while
/// loading or running (weights, kernels, memory), 2 a bad command line
/// (flags, token ids, lengths, output paths), found before any weight is
/// loaded.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

/// Everything about a run that can be checked without weights: token ids
/// within `vocab`, the prompt and generation within `maxSeqLen` positions,
/// a --logits-out that can be written. Programs and `tfmc run` call it
/// before they load the weights; generate() checks it again.
Status checkRun(const RunOptions &options, int64_t vocab, int64_t maxSeqLen);

/// Runs the prompt and the decode steps the options ask for. `stream` (if
/// not null) gets each generated id as soon as it is chosen, or with a
/// tokenizer (text mode) the generated text, whole UTF-8 characters at a
/// time. In text mode generation stops after an end-of-generation token
/// (unless --ignore-eos) or where the text reaches a --stop string.
Expected<GenerationResult> generate(ModelRunner &runner,
                                    const RunOptions &options,
                                    std::FILE *stream);

/// generate(), then --logits-out and the report (text or --json) on stdout.
/// Returns the process exit code; errors go to stderr prefixed by `tool`.
int runGeneration(ModelRunner &runner, const RunOptions &options,
                  const std::string &tool);

/// --chat: reads messages from stdin, one per line, and streams each
/// answer to stdout, keeping the conversation in the KV cache. Returns the
/// process exit code.
int runChat(ModelRunner &runner, const RunOptions &options,
            const std::string &tool);

/// --bench: one warm-up run, then `repeats` runs of the prompt and the
/// decode steps; prints the median prefill and decode tokens/s.
int runBenchmark(ModelRunner &runner, const RunOptions &options,
                 const std::string &tool, int repeats = 5);

} // namespace tfm::rt

#endif // TFM_RUNTIME_GENERATE_H
