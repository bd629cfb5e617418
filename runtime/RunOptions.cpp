//===- RunOptions.cpp - generation flags ------------------------*- C++ -*-===//

#include "runtime/RunOptions.h"
#include "runtime/Gguf.h"
#include "runtime/Tokenizer.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <fmt/format.h>

using namespace tfm::rt;

namespace {

/// More worker threads than any machine tfm runs on has cores.
constexpr int64_t kMaxThreads = 4096;

bool parseInt(const std::string &s, int64_t &out) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  out = v;
  return true;
}

bool parseReal(const std::string &s, double &out) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && *end == '\0' && std::isfinite(out);
}

bool parseIdList(const std::string &s, std::vector<int32_t> &out) {
  out.clear();
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item =
        s.substr(start, comma == std::string::npos ? std::string::npos
                                                   : comma - start);
    int64_t v;
    if (!parseInt(item, v) || v < 0 || v > INT32_MAX)
      return false;
    out.push_back(int32_t(v));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return !out.empty();
}

} // namespace

Expected<RunOptions> tfm::rt::parseRunOptions(int argc, char **argv, int first,
                                              const RunFlagSet &flags) {
  RunOptions o;
  bool havePrompt = false;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      o.help = true;
      return o;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (!flags.configArgument)
        return Error(fmt::format("unexpected argument '{}'", arg));
      if (!o.config.empty())
        return Error(fmt::format("unexpected second config '{}' (already "
                                 "have '{}')",
                                 arg, o.config));
      o.config = arg;
      continue;
    }
    std::string flag = arg, value;
    bool inlineValue = false;
    if (size_t eq = arg.find('='); eq != std::string::npos && arg[1] == '-') {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inlineValue = true;
    }
    auto takeValue = [&]() -> bool {
      if (inlineValue)
        return true;
      if (i + 1 >= argc)
        return false;
      value = argv[++i];
      return true;
    };
    auto missing = [&](const char *what) {
      return Error(fmt::format("{} expects {}", flag, what));
    };
    auto bad = [&](const char *what) {
      return Error(fmt::format("{} expects {}, got '{}'", flag, what, value));
    };
    auto noValue = [&]() -> bool { return !inlineValue; };

    if (flag == "--json" || flag == "--interpret" || flag == "--bench" ||
        flag == "--profile") {
      if (!noValue())
        return Error(fmt::format("{} takes no value", flag));
      if (flag == "--json")
        o.json = true;
      else if (flag == "--interpret" && flags.configArgument)
        o.interpret = true;
      else if (flag == "--bench" && flags.benchFlags)
        o.bench = true;
      else if (flag == "--profile" && flags.benchFlags)
        o.profile = true;
      else
        return Error(fmt::format("unknown flag '{}' (see --help)", flag));
    } else if (flag == "--disable-fusion" && flags.configArgument) {
      if (!takeValue() || value.empty())
        return missing("a list of fusions");
      o.disableFusion = value;
    } else if (flag == "--activations" && flags.configArgument) {
      if (!takeValue())
        return missing("int8 or f32");
      if (value != "int8" && value != "f32")
        return bad("int8 or f32");
      o.activations = value;
    } else if (flag == "--precision" && flags.configArgument) {
      if (!takeValue())
        return missing("auto, bf16 or f32");
      if (value != "auto" && value != "bf16" && value != "f32")
        return bad("auto, bf16 or f32");
      o.precision = value;
    } else if (flag == "--kv-cache" && flags.configArgument) {
      if (!takeValue())
        return missing("f32, f16, bf16 or q8_0");
      if (value != "f32" && value != "f16" && value != "bf16" &&
          value != "q8_0")
        return bad("f32, f16, bf16 or q8_0");
      o.kvCache = value;
    } else if (flag == "--weights") {
      if (!takeValue() || value.empty())
        return missing("a weights file or directory");
      o.weights = value;
    } else if (flag == "--weight-type") {
      if (!takeValue())
        return missing("a storage type");
      o.weightType = storageNamed(value);
      if (!o.weightType)
        return bad("f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, "
                   "q3_K, q4_K, q5_K or q6_K");
    } else if (flag == "--weight-seed") {
      int64_t v;
      if (!takeValue())
        return missing("an integer");
      if (!parseInt(value, v) || v < 0)
        return bad("a non-negative integer");
      o.weightSeed = uint64_t(v);
    } else if (flag == "--prompt-ids" || flag == "--force-ids") {
      if (!takeValue())
        return missing("comma-separated token ids");
      std::vector<int32_t> &ids =
          flag == "--prompt-ids" ? o.promptIds : o.forceIds;
      if (!parseIdList(value, ids))
        return bad("comma-separated non-negative token ids (like 1,2,3)");
      if (flag == "--prompt-ids")
        havePrompt = true;
    } else if (flag == "--prompt") {
      if (!takeValue())
        return missing("the prompt text");
      o.promptText = value;
      havePrompt = true;
    } else if (flag == "--prompt-file") {
      if (!takeValue() || value.empty())
        return missing("a text file");
      o.promptFile = value;
      havePrompt = true;
    } else if (flag == "--tokenizer") {
      if (!takeValue() || value.empty())
        return missing("a GGUF file or a folder with one");
      o.tokenizerPath = value;
    } else if (flag == "--stop") {
      if (!takeValue() || value.empty())
        return missing("a non-empty string");
      o.stops.push_back(value);
    } else if (flag == "--chat") {
      if (!noValue())
        return Error("--chat takes no value");
      o.chat = true;
    } else if (flag == "--chat-template") {
      if (!takeValue() || value.empty())
        return missing("a template name (chatml, llama2, llama3, mistral, "
                       "gemma, phi3)");
      o.chatTemplate = value;
    } else if (flag == "--ignore-eos") {
      if (!noValue())
        return Error("--ignore-eos takes no value");
      o.ignoreEos = true;
    } else if (flag == "--ctx") {
      if (!takeValue())
        return missing("a number of positions");
      if (!parseInt(value, o.ctx) || o.ctx < 1)
        return bad("a number of positions >= 1");
    } else if (flag == "-n" || flag == "--max-tokens") {
      if (!takeValue())
        return missing("a token count");
      if (!parseInt(value, o.numTokens) || o.numTokens < 0)
        return bad("a non-negative token count");
      o.numTokensGiven = true;
    } else if (flag == "--temp") {
      if (!takeValue())
        return missing("a temperature");
      if (!parseReal(value, o.sampling.temperature) ||
          o.sampling.temperature < 0)
        return bad("a temperature >= 0");
    } else if (flag == "--top-k") {
      if (!takeValue())
        return missing("an integer");
      if (!parseInt(value, o.sampling.topK) || o.sampling.topK < 0)
        return bad("an integer >= 0");
    } else if (flag == "--top-p") {
      if (!takeValue())
        return missing("a probability");
      if (!parseReal(value, o.sampling.topP) || !(o.sampling.topP > 0) ||
          o.sampling.topP > 1)
        return bad("a probability in (0, 1]");
    } else if (flag == "--seed") {
      int64_t v;
      if (!takeValue())
        return missing("an integer");
      if (!parseInt(value, v) || v < 0)
        return bad("a non-negative integer");
      o.sampling.seed = uint64_t(v);
    } else if (flag == "--logits-out") {
      if (!takeValue() || value.empty())
        return missing("an output .npy path");
      o.logitsOut = value;
    } else if (flag == "--threads" && flags.benchFlags) {
      if (!takeValue())
        return missing("a thread count");
      if (!parseInt(value, o.threads) || o.threads < 1 ||
          o.threads > kMaxThreads)
        return bad(fmt::format("a thread count from 1 to {}", kMaxThreads)
                       .c_str());
    } else if (flag == "--repeats" && flags.benchFlags) {
      if (!takeValue())
        return missing("a repeat count");
      if (!parseInt(value, o.repeats) || o.repeats < 1)
        return bad("a repeat count >= 1");
    } else {
      return Error(fmt::format("unknown flag '{}' (see --help)", flag));
    }
  }
  if (flags.configArgument && o.config.empty())
    return Error("missing the model config argument (see --help)");
  if (o.chat) {
    if (havePrompt || !o.forceIds.empty() || o.bench)
      return Error("--chat reads the conversation from stdin: it takes no "
                   "--prompt, --prompt-ids, --force-ids or --bench");
    if (!o.numTokensGiven)
      o.numTokens = 512; // per answer
    return o;
  }
  if (!havePrompt)
    return Error("a prompt is required: --prompt \"text\", --prompt-file F "
                 "or --prompt-ids 1,2,3");
  if (int(!o.promptIds.empty()) + int(o.promptText.has_value()) +
          int(!o.promptFile.empty()) >
      1)
    return Error("give one of --prompt, --prompt-file and --prompt-ids");
  if ((o.promptText || !o.promptFile.empty()) && !o.forceIds.empty())
    return Error("--force-ids takes --prompt-ids");
  if (!o.forceIds.empty() && o.numTokensGiven)
    return Error("-n and --force-ids conflict: with --force-ids the number of "
                 "decode steps is the number of forced ids");
  return o;
}

std::string tfm::rt::runHelp(const std::string &usageLine,
                             const RunFlagSet &flags) {
  std::string s = fmt::format("usage: {}\n\n", usageLine);
  s += "Runs prefill on the prompt, then decodes one token at a time with a "
       "KV cache.\n\noptions:\n";
  if (flags.configArgument)
    s += "  CONFIG               model config: tfm JSON spec, Hugging Face "
         "config.json, or .gguf\n"
         "  --interpret          run on the reference interpreter\n"
         "  --disable-fusion L   interpret without these fusions: all, or a "
         "comma-separated\n"
         "                       list of attention-kvcache, rope-qk, glu, "
         "norm-residual\n"
         "  --activations A      int8: round the activations of products "
         "over q8_0, q4_0, q5_0\n"
         "                       and K-quant matrices per block as llama.cpp "
         "does; f32: keep\n"
         "                       them (default: the config's "
         "storage.activations, else int8)\n"
         "  --precision P        products over f32/f16/bf16 matrices: bf16 "
         "rounds both\n"
         "                       operands to bf16, f32 keeps them, auto "
         "rounds activations\n"
         "                       before bf16 matrices only (default: the "
         "config's, else auto)\n"
         "  --kv-cache T         store the KV cache as T: f32, f16, bf16 or "
         "q8_0 (default: the\n"
         "                       config's storage.kv_cache, else f32)\n";
  s += "  --weights PATH       GGUF file, .safetensors file, or a directory "
       "(model.safetensors,\n"
       "                       a shard index, or one .gguf); default: seeded "
       "random weights\n"
       "  --weight-seed S      seed of the random weights (default 0)\n"
       "  --weight-type T      round or quantize the file's f32/f16/bf16 "
       "matrices to T as they\n"
       "                       load (T: the type the model keeps them in; "
       "q4_K, bf16, ...)\n"
       "  --prompt TEXT        the prompt as text; the generated text streams "
       "to stdout\n"
       "  --prompt-file F      the prompt as the text of file F\n"
       "  --prompt-ids IDS     the prompt as token ids, comma-separated\n"
       "  --tokenizer PATH     the tokenizer: a GGUF file (default: the "
       "--weights GGUF)\n"
       "  --stop S             text mode: stop where the text reaches S "
       "(repeatable)\n"
       "  --ignore-eos         text mode: go on past end-of-generation "
       "tokens\n"
       "  --chat               converse: each line of stdin is a message, "
       "the answer streams\n"
       "                       back (-n tokens at most, default 512); the KV "
       "cache keeps the\n"
       "                       conversation\n"
       "  --chat-template T    chatml, llama2, llama3, mistral, gemma or phi3 "
       "(default: from\n"
       "                       the tokenizer's tokenizer.chat_template)\n"
       "  -n, --max-tokens N   tokens to generate at most (default 16)\n"
       "  --temp T             sampling temperature; 0 is greedy (default 0)\n"
       "  --top-k K            sample among the K most likely tokens (0: "
       "all)\n"
       "  --top-p P            sample among the most likely tokens of mass P "
       "(default 1)\n"
       "  --seed S             sampling seed (default 0)\n"
       "  --force-ids IDS      scoring mode: feed these ids to decode one by "
       "one instead of the\n"
       "                       sampled ones; the sampler's pick at each step "
       "is still reported\n"
       "  --logits-out F.npy   write every logits row computed (one per "
       "prompt position, then\n"
       "                       one per decode call) as float32 [rows, vocab]\n"
       "  --ctx N              use at most N positions of the KV cache "
       "(default: all)\n"
       "  --json               print a JSON object (prompt_ids, "
       "generated_ids, timing;\n"
       "                       prompt_text and generated_text in text mode)\n";
  if (flags.benchFlags)
    s += "  --bench              measure prefill and decode tokens/s (median "
         "of repeats)\n"
         "  --profile            time every kernel; print a table (calls, ms, "
         "GFLOP/s, GB/s)\n"
         "  --threads N          worker threads (default: all cores)\n"
         "  --repeats N          --bench: timed runs after the warm-up "
         "(default 5)\n";
  s += "  -h, --help           show this help\n"
       "\nexit status: 0 done; 1 the weights, a kernel or memory failed; 2 a "
       "bad command line\n(flags, token ids, lengths, output paths), reported "
       "before any weight loads\n";
  return s;
}

Status tfm::rt::prepareTextRun(RunOptions &o) {
  bool text = o.promptText || !o.promptFile.empty() || o.chat;
  if (!text && o.tokenizerPath.empty() && o.stops.empty())
    return Status::ok();
  if (!o.promptFile.empty()) {
    std::ifstream in(o.promptFile, std::ios::binary);
    if (!in)
      return Error(fmt::format("--prompt-file: cannot read {}", o.promptFile));
    std::ostringstream s;
    s << in.rdbuf();
    o.promptText = s.str();
  }
  // The tokenizer: --tokenizer, else the --weights GGUF (a file, or the
  // one .gguf of a folder).
  const char *flag = o.tokenizerPath.empty() ? "--weights" : "--tokenizer";
  std::string path = o.tokenizerPath.empty() ? o.weights : o.tokenizerPath;
  // tfmc run with a GGUF config: its metadata has the tokenizer too.
  if (path.empty() && o.config.size() > 5 &&
      o.config.compare(o.config.size() - 5, 5, ".gguf") == 0) {
    path = o.config;
    flag = "CONFIG";
  }
  if (path.empty())
    return Error("a text prompt needs a tokenizer: give --tokenizer PATH (a "
                 "GGUF file) or --weights with a GGUF file");
  // A checkpoint file's tokenizer is the tokenizer.json beside it.
  if (path.size() > 12 &&
      path.compare(path.size() - 12, 12, ".safetensors") == 0) {
    size_t slash = path.rfind('/');
    path = slash == std::string::npos ? "." : path.substr(0, slash);
  }
  auto tokenizer = Tokenizer::load(path);
  if (!tokenizer)
    return Error(fmt::format("{}: {}", flag, tokenizer.error().message()));
  o.tokenizer = std::shared_ptr<const Tokenizer>(tokenizer.take());
  if (o.promptText) {
    o.promptIds = o.tokenizer->encode(*o.promptText);
    if (o.promptIds.empty())
      return Error("the prompt is empty (no tokens), and the vocabulary adds "
                   "no BOS");
  }
  return Status::ok();
}
