//===- RunOptions.h - the flags of `tfmc run` and compiled programs -*- C++ -*-===//
//
// `tfmc run CONFIG ...` and the executables `tfmc compile` produces take the
// same generation flags; both parse them here.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_RUNOPTIONS_H
#define TFM_RUNTIME_RUNOPTIONS_H

#include "runtime/Sampling.h"
#include "runtime/WeightFile.h"
#include "runtime/Status.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tfm::rt {

class Tokenizer;

/// Which flags a program accepts beyond the common ones.
struct RunFlagSet {
  /// `tfmc run` takes the model config as its positional argument and
  /// `--interpret`.
  bool configArgument = false;
  /// Compiled programs take `--bench`, `--profile` and `--threads`.
  bool benchFlags = false;
};

struct RunOptions {
  std::string config;
  std::string weights; // empty: seeded random weights
  uint64_t weightSeed = 0;
  /// --weight-type: float weights of the file are rounded or quantized at
  /// load into the type the model keeps its matrices in, which must be
  /// this one.
  std::optional<DType> weightType;
  std::vector<int32_t> promptIds;
  /// --prompt or --prompt-file: the prompt as text, tokenized with the
  /// tokenizer of --tokenizer or of the --weights GGUF (prepareTextRun).
  std::optional<std::string> promptText;
  std::string promptFile;
  std::string tokenizerPath;
  /// Text mode: generation also stops at end-of-generation tokens (unless
  /// --ignore-eos) and where the text reaches a --stop string.
  std::vector<std::string> stops;
  bool ignoreEos = false;
  /// --chat: an interactive conversation on stdin/stdout, in the chat
  /// template of the tokenizer's metadata or --chat-template.
  bool chat = false;
  std::string chatTemplate;
  /// Set by prepareTextRun when the run has a tokenizer.
  std::shared_ptr<const Tokenizer> tokenizer;
  int64_t numTokens = 16;
  /// --ctx: positions of the KV cache a run may use (0: all there are).
  int64_t ctx = 0;
  bool numTokensGiven = false;
  SamplingParams sampling;
  std::vector<int32_t> forceIds;
  std::string logitsOut;
  bool json = false;
  bool interpret = false;
  /// `tfmc run`: the fusions to leave out ("none", "all" or a list).
  std::string disableFusion = "none";
  /// `tfmc run`: how products over block-format matrices take their
  /// activations, "int8" or "f32" (empty: as the config says).
  std::string activations;
  /// precision, "auto", "bf16" or "f32" (empty: as the config says).
  std::string precision;
  /// tfmc run: how the KV cache stores keys and values, "f32", "f16",
  /// "bf16" or "q8_0" (empty: as the config says).
  std::string kvCache;
  bool bench = false;
  bool profile = false;
  int64_t threads = 0;
  int64_t repeats = 5; // --bench
  bool help = false;
};

/// Parses argv[first..argc). Errors name the flag and what it expects.
Expected<RunOptions> parseRunOptions(int argc, char **argv, int first,
                                     const RunFlagSet &flags);

/// Loads the tokenizer a run with a text prompt (or --tokenizer) needs and
/// tokenizes the prompt into promptIds. Errors name the file and flag.
Status prepareTextRun(RunOptions &options);

/// The --help text for `usageLine` (e.g. "tfmc run CONFIG [options]").
std::string runHelp(const std::string &usageLine, const RunFlagSet &flags);

} // namespace tfm::rt

#endif // TFM_RUNTIME_RUNOPTIONS_H
