//===- Generate.cpp - the prefill/decode loop -------------------*- C++ -*-===//

#include "runtime/Generate.h"

#include "runtime/BfloatGemm.h"
#include "runtime/QuantDot.h"
#include "runtime/QuantGemm.h"
#include "runtime/Json.h"
#include "runtime/Npy.h"
#include "runtime/Tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>
#include <fmt/format.h>

using namespace tfm::rt;

namespace {

double now() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch())
      .count();
}

Status checkIds(const std::vector<int32_t> &ids, int64_t vocab,
                const char *flag) {
  for (int32_t id : ids)
    if (id >= vocab)
      return Error(fmt::format("{}: token id {} is out of range for a "
                               "vocabulary of {}",
                               flag, id, vocab));
  return Status::ok();
}

/// Text mode's output: each generated token's text, printed as whole UTF-8
/// characters, held back while it may be the start of a stop string, and
/// cut where one is reached.
class TextStream {
public:
  TextStream(const Tokenizer &t, const RunOptions &o, std::FILE *out)
      : tokenizer_(t), options_(o), out_(out) {}

  /// Adds token `id`; false when generation should end after it.
  bool add(int32_t id, std::string &stopReason) {
    if (!options_.ignoreEos && tokenizer_.isEndOfGeneration(id)) {
      stopReason = "eos";
      finish();
      return false;
    }
    text_ += tokenizer_.piece(id);
    for (const std::string &stop : options_.stops) {
      size_t at = text_.find(stop, printed_ > stop.size()
                                       ? printed_ - stop.size()
                                       : 0);
      if (at != std::string::npos && at < cut_)
        cut_ = at;
    }
    if (cut_ != std::string::npos) {
      text_.resize(cut_);
      stopReason = "stop";
      finish();
      return false;
    }
    // Print what cannot be the start of a stop string.
    size_t hold = 0;
    for (const std::string &stop : options_.stops)
      for (size_t n = std::min(stop.size() - 1, text_.size() - printed_);
           n > hold; --n)
        if (text_.compare(text_.size() - n, n, stop, 0, n) == 0) {
          hold = n;
          break;
        }
    emit(text_.size() - hold);
    return true;
  }

  void finish() {
    emit(text_.size());
    if (out_) {
      std::string rest = utf8_.flush();
      std::fwrite(rest.data(), 1, rest.size(), out_);
      std::fflush(out_);
    }
  }

  const std::string &text() const { return text_; }

private:
  void emit(size_t upTo) {
    if (upTo <= printed_)
      return;
    if (out_) {
      std::string whole =
          utf8_.push(std::string_view(text_).substr(printed_, upTo - printed_));
      std::fwrite(whole.data(), 1, whole.size(), out_);
      std::fflush(out_);
    }
    printed_ = upTo;
  }

  const Tokenizer &tokenizer_;
  const RunOptions &options_;
  std::FILE *out_;
  std::string text_;
  size_t printed_ = 0, cut_ = std::string::npos;
  Utf8Stream utf8_;
};

} // namespace

Status tfm::rt::checkRun(const RunOptions &options, int64_t vocab,
                         int64_t maxSeqLen) {
  if (options.ctx > maxSeqLen)
    return Error(fmt::format("--ctx {} is more than the {} positions the "
                             "model was compiled for (tfmc compile --ctx N "
                             "sets them)",
                             options.ctx, maxSeqLen));
  if (options.ctx > 0)
    maxSeqLen = options.ctx;
  if (Status s = checkIds(options.promptIds, vocab, "--prompt-ids"); !s)
    return s;
  if (Status s = checkIds(options.forceIds, vocab, "--force-ids"); !s)
    return s;
  const int64_t promptLen = int64_t(options.promptIds.size());
  const int64_t picks = !options.forceIds.empty()
                            ? int64_t(options.forceIds.size()) + 1
                            : options.numTokens;
  const int64_t decodeCalls = picks > 0 ? picks - 1 : 0;
  // Compared without the sum, which a huge -n would overflow.
  // A chat's length is checked turn by turn.
  if (!options.chat &&
      (promptLen > maxSeqLen || decodeCalls > maxSeqLen - promptLen))
    return Error(fmt::format("the prompt ({} tokens) and {} decode steps need "
                             "{} positions, but {}",
                             promptLen, decodeCalls,
                             decodeCalls > INT64_MAX - promptLen
                                 ? fmt::format("more than 2^63")
                                 : fmt::format("{}", promptLen + decodeCalls),
                             options.ctx > 0
                                 ? fmt::format("--ctx allows {}", maxSeqLen)
                                 : fmt::format("the model's KV cache holds {} "
                                               "(max_seq_len)",
                                               maxSeqLen)));
  if (!options.logitsOut.empty()) {
    // Checked now, so that a long run does not end unable to write.
    const std::string &path = options.logitsOut;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      if (!S_ISREG(st.st_mode))
        return Error(fmt::format("--logits-out: {} is not a regular file",
                                 path));
      if (::access(path.c_str(), W_OK) != 0)
        return Error(fmt::format("--logits-out: cannot write {}: {}", path,
                                 std::strerror(errno)));
    } else {
      std::string dir = std::filesystem::path(path).parent_path().string();
      if (dir.empty())
        dir = ".";
      if (::access(dir.c_str(), W_OK) != 0)
        return Error(fmt::format("--logits-out: cannot create {}: {}", path,
                                 std::strerror(errno)));
    }
  }
  return Status::ok();
}

Expected<GenerationResult> tfm::rt::generate(ModelRunner &runner,
                                             const RunOptions &options,
                                             std::FILE *stream) {
  const int64_t vocab = runner.vocabSize();
  if (Status s = checkRun(options, vocab, runner.maxSeqLen()); !s)
    return Error(s.message());

  GenerationResult r;
  r.promptIds = options.promptIds;
  r.forcedIds = options.forceIds;
  const int64_t promptLen = int64_t(options.promptIds.size());
  const bool scoring = !options.forceIds.empty();
  const int64_t picks = scoring ? int64_t(options.forceIds.size()) + 1
                                : options.numTokens;
  const int64_t decodeCalls = picks > 0 ? picks - 1 : 0;

  const bool keepLogits = !options.logitsOut.empty();
  Sampler sampler(options.sampling);
  std::vector<float> logits;

  // A NaN or an infinity in the logits would be sampled as some token
  // (token 0, say) and the run would go on: it is an error naming the step.
  auto checkRow = [&](const float *row, const std::string &step) -> Status {
    for (int64_t i = 0; i < vocab; ++i)
      if (!std::isfinite(row[i]))
        return Error(fmt::format("the logits of {} hold {} (token {}): the "
                                 "weights or the computation went out of "
                                 "range",
                                 step, std::isnan(row[i]) ? "NaN" : "Inf", i));
    return Status::ok();
  };
  std::optional<TextStream> text;
  if (options.tokenizer && !scoring)
    text.emplace(*options.tokenizer, options, stream);
  bool ended = false;
  auto pick = [&](const float *row) {
    int32_t id = sampler.sample(row, vocab);
    r.generatedIds.push_back(id);
    if (text) {
      ended = !text->add(id, r.stopReason);
    } else if (stream) {
      std::fprintf(stream, " %d", id);
      std::fflush(stream);
    }
    return id;
  };

  double t0 = now();
  LogitRows rows = keepLogits ? LogitRows::All
                   : picks == 0 ? LogitRows::None
                                : LogitRows::Last;
  if (Status s = runner.prefill(options.promptIds, 0, logits, rows); !s)
    return Error(s.message());
  r.prefillSeconds = now() - t0;
  if (keepLogits)
    r.logits = logits;
  r.logitsRows = promptLen;

  if (picks == 0)
    return r;
  const float *last = logits.data() + logits.size() - size_t(vocab);
  if (Status s = checkRow(last, fmt::format("the prompt's last position ({})",
                                            promptLen - 1));
      !s)
    return Error(s.message());
  int32_t next = pick(last);

  double t1 = now();
  int64_t step = 0;
  for (; step < decodeCalls && !ended; ++step) {
    int32_t feed = scoring ? options.forceIds[step] : next;
    if (Status s = runner.decode(feed, promptLen + step, logits); !s)
      return Error(s.message());
    if (keepLogits)
      r.logits.insert(r.logits.end(), logits.begin(), logits.end());
    ++r.logitsRows;
    if (Status s = checkRow(logits.data(),
                            fmt::format("decode step {} (position {})",
                                        step + 1, promptLen + step));
        !s)
      return Error(s.message());
    next = pick(logits.data());
  }
  r.decodeSeconds = now() - t1;
  r.decodeCalls = step;
  if (text) {
    if (!ended)
      text->finish();
    r.generatedText = text->text();
  }
  return r;
}

static std::string idList(const std::vector<int32_t> &ids,
                          const char *separator) {
  return fmt::format("{}", fmt::join(ids, separator));
}

int tfm::rt::runGeneration(ModelRunner &runner, const RunOptions &options,
                           const std::string &tool) {
  std::FILE *stream = nullptr;
  const bool textMode = options.tokenizer && options.forceIds.empty();
  if (!options.json) {
    // Text mode: the prompt, then the generated text as it comes; the
    // figures go to stderr so that stdout is the text alone.
    if (textMode)
      std::fwrite(options.promptText ? options.promptText->data() : "", 1,
                  options.promptText ? options.promptText->size() : 0,
                  stdout);
    else
      std::printf("prompt ids: %s\ngenerated ids:",
                  idList(options.promptIds, " ").c_str());
    std::fflush(stdout);
    stream = stdout;
  }
  auto result = generate(runner, options, stream);
  if (stream) {
    std::printf("\n");
    std::fflush(stdout);
  }
  if (!result) {
    std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                 result.error().message().c_str());
    return 1;
  }
  const GenerationResult &r = *result;
  if (!options.logitsOut.empty()) {
    if (Status s = writeNpy(options.logitsOut, r.logits.data(), r.logitsRows,
                            runner.vocabSize());
        !s) {
      std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                   s.message().c_str());
      return 1;
    }
  }
  double prefillRate =
      r.prefillSeconds > 0 ? double(r.promptIds.size()) / r.prefillSeconds : 0;
  double decodeRate =
      r.decodeSeconds > 0 ? double(r.decodeCalls) / r.decodeSeconds : 0;
  if (options.json) {
    std::string json = fmt::format(
        "{{\"prompt_ids\": [{}], \"generated_ids\": [{}]",
        idList(r.promptIds, ", "), idList(r.generatedIds, ", "));
    if (!r.forcedIds.empty())
      json += fmt::format(", \"forced_ids\": [{}]", idList(r.forcedIds, ", "));
    json += fmt::format(
        ", \"prefill_tokens\": {}, \"prefill_ms\": {:.3f}, "
        "\"prefill_tokens_per_s\": {:.2f}, \"decode_tokens\": {}, "
        "\"decode_ms\": {:.3f}, \"decode_tokens_per_s\": {:.2f}",
        r.promptIds.size(), r.prefillSeconds * 1e3, prefillRate, r.decodeCalls,
        r.decodeSeconds * 1e3, decodeRate);
    if (!options.logitsOut.empty())
      json += fmt::format(", \"logits_rows\": {}", r.logitsRows);
    if (textMode)
      json += fmt::format(", \"prompt_text\": {}, \"generated_text\": {}, "
                          "\"stop_reason\": \"{}\"",
                          jsonQuote(options.promptText.value_or("")),
                          jsonQuote(r.generatedText), r.stopReason);
    json += "}";
    std::printf("%s\n", json.c_str());
  } else {
    std::FILE *figures = textMode ? stderr : stdout;
    std::fprintf(figures, "prefill: %zu tokens in %.2f ms (%.1f tokens/s)\n",
                 r.promptIds.size(), r.prefillSeconds * 1e3, prefillRate);
    std::fprintf(figures, "decode: %ld tokens in %.2f ms (%.1f tokens/s)%s\n",
                 long(r.decodeCalls), r.decodeSeconds * 1e3, decodeRate,
                 textMode && r.stopReason != "length"
                     ? fmt::format("; stopped at {}", r.stopReason == "eos"
                                                           ? "end of generation"
                                                           : "a stop string")
                           .c_str()
                     : "");
    if (!options.logitsOut.empty())
      std::printf("logits: %ld rows written to %s\n", long(r.logitsRows),
                  options.logitsOut.c_str());
  }
  return 0;
}

int tfm::rt::runBenchmark(ModelRunner &runner, const RunOptions &options,
                          const std::string &tool, int repeats) {
  std::vector<double> prefill, decode;
  GenerationResult last;
  for (int r = 0; r <= repeats; ++r) {
    auto result = generate(runner, options, nullptr);
    if (!result) {
      std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                   result.error().message().c_str());
      return 1;
    }
    if (r == 0)
      continue; // warm-up
    prefill.push_back(double(result->promptIds.size()) /
                      result->prefillSeconds);
    if (result->decodeCalls > 0)
      decode.push_back(double(result->decodeCalls) / result->decodeSeconds);
    last = result.take();
  }
  auto median = [](std::vector<double> v) {
    if (v.empty())
      return 0.0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  double p = median(prefill), d = median(decode);
  // The paths the micro-kernels took on this CPU (runtime/BfloatGemm.h,
  // runtime/QuantGemm.h, runtime/QuantDot.h).
  const char *gemm = gemmIsaName(gemmIsa());
  const char *dot = dotIsa() == DotIsa::avx512vnni ? "avx512-vnni" : "avx2";
  const char *int8 = int8GemmIsaName(int8GemmIsa());
  if (options.json)
    std::printf("{\"prompt_tokens\": %zu, \"decode_tokens\": %ld, "
                "\"repeats\": %d, \"prefill_tokens_per_s\": %.2f, "
                "\"decode_tokens_per_s\": %.2f, \"bf16_gemm_path\": \"%s\", "
                "\"int8_gemm_path\": \"%s\", \"dot_path\": \"%s\"}\n",
                last.promptIds.size(), long(last.decodeCalls), repeats, p, d,
                gemm, int8, dot);
  else
    std::printf("prefill: %zu tokens, %.1f tokens/s (median of %d)\n"
                "decode: %ld tokens, %.1f tokens/s (median of %d)\n"
                "paths: bf16 products on %s, 8-bit prefill products on %s, "
                "8-bit and f16 decode products on %s\n",
                last.promptIds.size(), p, repeats, long(last.decodeCalls), d,
                repeats, gemm, int8, dot);
  return 0;
}

namespace {

/// A chat template: the text of a user's message turn (ending where the
/// model's answer starts), and the text between the model's end-of-turn
/// token and the next turn.
struct ChatTemplate {
  const char *name;
  const char *before, *after; // around the message
  const char *between;
};

const ChatTemplate kTemplates[] = {
    {"chatml", "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n",
     "\n"},
    {"llama3", "<|start_header_id|>user<|end_header_id|>\n\n",
     "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", ""},
    {"llama2", "[INST] ", " [/INST]", "<s>"},
    {"mistral", "[INST] ", " [/INST]", ""},
    {"gemma", "<start_of_turn>user\n",
     "<end_of_turn>\n<start_of_turn>model\n", "\n"},
    {"phi3", "<|user|>\n", "<|end|>\n<|assistant|>\n", "\n"},
};

/// The template `name` names, else the one the Jinja source is written
/// for (recognised by its markers); null if neither.
const ChatTemplate *chatTemplate(const std::string &name,
                                 const std::string &jinja) {
  std::string pick = name;
  auto has = [&](const char *marker) {
    return jinja.find(marker) != std::string::npos;
  };
  if (pick.empty()) {
    if (has("<|im_start|>"))
      pick = "chatml";
    else if (has("<|start_header_id|>"))
      pick = "llama3";
    else if (has("<start_of_turn>"))
      pick = "gemma";
    else if (has("<|assistant|>") && has("<|end|>"))
      pick = "phi3";
    else if (has("[INST]"))
      pick = has("<<SYS>>") ? "llama2" : "mistral";
  }
  for (const ChatTemplate &t : kTemplates)
    if (pick == t.name)
      return &t;
  return nullptr;
}

} // namespace

int tfm::rt::runChat(ModelRunner &runner, const RunOptions &options,
                     const std::string &tool) {
  const Tokenizer &tokenizer = *options.tokenizer;
  const ChatTemplate *t =
      chatTemplate(options.chatTemplate, tokenizer.chatTemplate());
  if (!t) {
    std::fprintf(stderr,
                 "%s: error: %s; choose one with --chat-template (chatml, "
                 "llama2, llama3, mistral, gemma, phi3)\n",
                 tool.c_str(),
                 !options.chatTemplate.empty()
                     ? fmt::format("unknown chat template '{}'",
                                   options.chatTemplate)
                           .c_str()
                 : tokenizer.chatTemplate().empty()
                     ? "the model has no chat template "
                       "(tokenizer.chat_template)"
                     : "tfm does not recognise the model's chat template");
    return kExitUsage;
  }
  const int64_t vocab = runner.vocabSize();
  const int64_t ctx = options.ctx > 0 ? options.ctx : runner.maxSeqLen();
  std::fprintf(stderr,
               "%s: chat (%s template, %lld positions); one message per "
               "line, Ctrl-D ends\n",
               tool.c_str(), t->name, (long long)ctx);
  Sampler sampler(options.sampling);
  std::vector<float> logits;
  int64_t pos = 0;
  bool first = true;
  std::string line;
  while (true) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line))
      break;
    if (line.empty())
      continue;
    std::string turn = std::string(first ? "" : t->between) + t->before +
                       line + t->after;
    Tokenizer::EncodeOptions encode;
    encode.addSpecial = pos == 0;
    std::vector<int32_t> ids = tokenizer.encode(turn, encode);
    if (pos + int64_t(ids.size()) >= ctx) {
      std::fprintf(stderr,
                   "%s: error: the conversation fills the KV cache (%lld "
                   "positions); start again with more (--ctx, or tfmc "
                   "compile --ctx)\n",
                   tool.c_str(), (long long)ctx);
      return kExitFailure;
    }
    if (Status s = runner.prefill(ids, pos, logits, LogitRows::Last); !s) {
      std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                   s.message().c_str());
      return kExitFailure;
    }
    pos += int64_t(ids.size());
    first = false;
    TextStream text(tokenizer, options, stdout);
    std::string reason;
    const float *row = logits.data() + logits.size() - size_t(vocab);
    for (int64_t n = 0; n < options.numTokens && pos < ctx; ++n) {
      int32_t id = sampler.sample(row, vocab);
      // Every token joins the cache, the end of the turn included: the
      // template's next turn follows it.
      if (Status s = runner.decode(id, pos, logits); !s) {
        std::fprintf(stderr, "%s: error: %s\n", tool.c_str(),
                     s.message().c_str());
        return kExitFailure;
      }
      ++pos;
      row = logits.data();
      if (!text.add(id, reason))
        break;
    }
    text.finish();
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("\n");
  return 0;
}
