//===- CApi.cpp - the C API of compiled models ------------------*- C++ -*-===//
//
// Implements tfm/runtime.h over CompiledModel and Session. The generated
// part of a shared library defines tfmEmbeddedModel().
//
//===----------------------------------------------------------------------===//

#include "tfm/runtime.h"

#include "runtime/CompiledModel.h"
#include "runtime/Sampling.h"
#include "runtime/Tokenizer.h"

#include <cmath>
#include <cstring>
#include <new>
#include <fmt/format.h>

using namespace tfm::rt;

/// Defined by the generated code of each compiled model.
extern const EmbeddedModel &tfmEmbeddedModel();

struct tfm_model {
  std::unique_ptr<CompiledModel> model;
};

struct tfm_session {
  std::unique_ptr<Session> session;
  int64_t position = 0;
  /// Positions this session may use (at most the plan's max_seq_len).
  int64_t ctx = 0;
};

struct tfm_sampler {
  Sampler sampler;
};

struct tfm_tokenizer {
  std::unique_ptr<Tokenizer> tokenizer;
};

namespace {

thread_local std::string lastError;

tfm_status fail(tfm_status code, const std::string &message) {
  lastError = message;
  return code;
}

} // namespace

extern "C" {

const char *tfm_last_error(void) { return lastError.c_str(); }

tfm_status tfm_model_load(const char *weights_path, uint64_t random_seed,
                          tfm_model **model) {
  if (!model)
    return fail(TFM_ERROR_ARGUMENT, "tfm_model_load: model is NULL");
  *model = nullptr;
  // Nothing throws out of the C API: memory that runs out becomes an error.
  try {
    auto loaded = CompiledModel::load(tfmEmbeddedModel(),
                                      weights_path ? weights_path : "",
                                      random_seed);
    if (!loaded)
      return fail(TFM_ERROR_WEIGHTS, loaded.error().message());
    *model = new tfm_model{loaded.take()};
  } catch (const std::bad_alloc &) {
    return fail(TFM_ERROR_WEIGHTS,
                "tfm_model_load: out of memory while loading the weights");
  }
  return TFM_OK;
}

void tfm_model_free(tfm_model *model) { delete model; }

const char *tfm_model_name(const tfm_model *model) {
  return model ? model->model->plan().model.c_str() : "";
}

int64_t tfm_model_vocab_size(const tfm_model *model) {
  return model ? model->model->plan().vocabSize : 0;
}

int64_t tfm_model_max_seq_len(const tfm_model *model) {
  return model ? model->model->plan().maxSeqLen : 0;
}

tfm_status tfm_session_create(tfm_model *model, int64_t ctx,
                              tfm_session **session) {
  if (!model || !session)
    return fail(TFM_ERROR_ARGUMENT, "tfm_session_create: NULL argument");
  *session = nullptr;
  int64_t maxSeqLen = model->model->plan().maxSeqLen;
  if (ctx < 0 || ctx > maxSeqLen)
    return fail(TFM_ERROR_ARGUMENT,
                fmt::format("tfm_session_create: ctx {} is not between 0 and "
                            "the {} positions the model was compiled for",
                            ctx, maxSeqLen));
  try {
    *session = new tfm_session{std::make_unique<Session>(*model->model), 0,
                               ctx > 0 ? ctx : maxSeqLen};
  } catch (const std::bad_alloc &) {
    *session = nullptr;
    return fail(TFM_ERROR_KERNEL,
                "tfm_session_create: out of memory for the session's buffers");
  }
  if (Status s = (*session)->session->status(); !s) {
    delete *session;
    *session = nullptr;
    return fail(TFM_ERROR_KERNEL, "tfm_session_create: " + s.message());
  }
  return TFM_OK;
}

void tfm_session_free(tfm_session *session) { delete session; }

void tfm_session_reset(tfm_session *session) {
  if (session)
    session->position = 0;
}

int64_t tfm_session_position(const tfm_session *session) {
  return session ? session->position : 0;
}

int64_t tfm_session_ctx(const tfm_session *session) {
  return session ? session->ctx : 0;
}

static tfm_status append(tfm_session *session, const int32_t *ids,
                         int64_t count, float *logits, bool decode) {
  if (!session || !ids || count < 1)
    return fail(TFM_ERROR_ARGUMENT, "NULL session or ids, or no ids");
  int64_t vocab = session->session->vocabSize();
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail(TFM_ERROR_ARGUMENT,
                  fmt::format("token id {} is out of range for a vocabulary "
                              "of {}",
                              ids[i], vocab));
  if (count > session->ctx - session->position)
    return fail(TFM_ERROR_RANGE,
                fmt::format("the KV cache holds {} positions: {} in use, {} "
                            "more given",
                            session->ctx, session->position, count));
  std::vector<float> out;
  Status s = Status::ok();
  try {
    s = decode ? session->session->decode(ids[0], session->position, out)
               : session->session->prefill(
                     std::vector<int32_t>(ids, ids + count), session->position,
                     out, logits ? LogitRows::All : LogitRows::None);
  } catch (const std::bad_alloc &) {
    return fail(TFM_ERROR_KERNEL, "out of memory for the logits");
  }
  if (!s)
    return fail(TFM_ERROR_KERNEL, s.message());
  if (logits)
    std::copy(out.begin(), out.end(), logits);
  session->position += count;
  return TFM_OK;
}

tfm_status tfm_prefill(tfm_session *session, const int32_t *ids,
                       int64_t count, float *logits) {
  return append(session, ids, count, logits, /*decode=*/false);
}

tfm_status tfm_decode(tfm_session *session, int32_t id, float *logits) {
  return append(session, &id, 1, logits, /*decode=*/true);
}

tfm_status tfm_sampler_create(const tfm_sampling *params,
                              tfm_sampler **sampler) {
  if (!params || !sampler)
    return fail(TFM_ERROR_ARGUMENT, "tfm_sampler_create: NULL argument");
  if (!std::isfinite(params->temperature) || params->temperature < 0)
    return fail(TFM_ERROR_ARGUMENT,
                fmt::format("tfm_sampler_create: temperature {} is not a "
                            "number >= 0",
                            params->temperature));
  if (params->top_k < 0)
    return fail(TFM_ERROR_ARGUMENT,
                fmt::format("tfm_sampler_create: top_k {} is negative",
                            params->top_k));
  if (!std::isfinite(params->top_p))
    return fail(TFM_ERROR_ARGUMENT,
                fmt::format("tfm_sampler_create: top_p {} is not a number",
                            params->top_p));
  SamplingParams p;
  p.temperature = params->temperature;
  p.topK = params->top_k;
  p.topP = params->top_p > 0 && params->top_p <= 1 ? params->top_p : 1.0;
  p.seed = params->seed;
  *sampler = new tfm_sampler{Sampler(p)};
  return TFM_OK;
}

void tfm_sampler_free(tfm_sampler *sampler) { delete sampler; }

int32_t tfm_sample(tfm_sampler *sampler, const float *logits, int64_t vocab) {
  if (!sampler || !logits || vocab < 1)
    return -1;
  return sampler->sampler.sample(logits, vocab);
}

void tfm_set_num_threads(int threads) { setNumThreads(threads); }

tfm_status tfm_tokenizer_load(const char *path, tfm_tokenizer **tokenizer) {
  if (!path || !tokenizer)
    return fail(TFM_ERROR_ARGUMENT, "tfm_tokenizer_load: NULL argument");
  *tokenizer = nullptr;
  try {
    auto loaded = Tokenizer::load(path);
    if (!loaded)
      return fail(TFM_ERROR_WEIGHTS, loaded.error().message());
    *tokenizer = new tfm_tokenizer{loaded.take()};
  } catch (const std::bad_alloc &) {
    return fail(TFM_ERROR_WEIGHTS, "tfm_tokenizer_load: out of memory");
  }
  return TFM_OK;
}

void tfm_tokenizer_free(tfm_tokenizer *tokenizer) { delete tokenizer; }

int64_t tfm_tokenizer_vocab_size(const tfm_tokenizer *tokenizer) {
  return tokenizer ? tokenizer->tokenizer->size() : 0;
}

int tfm_token_is_end(const tfm_tokenizer *tokenizer, int32_t id) {
  return tokenizer && tokenizer->tokenizer->isEndOfGeneration(id);
}

tfm_status tfm_tokenize(const tfm_tokenizer *tokenizer, const char *text,
                        int64_t length, int flags, int32_t *ids,
                        int64_t capacity, int64_t *count) {
  if (!tokenizer || (!text && length > 0) || length < 0 || !count ||
      (!ids && capacity > 0))
    return fail(TFM_ERROR_ARGUMENT, "tfm_tokenize: NULL or negative argument");
  Tokenizer::EncodeOptions options;
  options.addSpecial = flags & TFM_TOKENIZE_ADD_SPECIAL;
  options.parseSpecial = flags & TFM_TOKENIZE_PARSE_SPECIAL;
  std::vector<int32_t> out = tokenizer->tokenizer->encode(
      std::string_view(text ? text : "", size_t(length)), options);
  *count = int64_t(out.size());
  if (*count > capacity)
    return fail(TFM_ERROR_RANGE,
                fmt::format("tfm_tokenize: {} ids, room for {}", *count,
                            capacity));
  std::copy(out.begin(), out.end(), ids);
  return TFM_OK;
}

tfm_status tfm_detokenize(const tfm_tokenizer *tokenizer, const int32_t *ids,
                          int64_t count, int flags, char *text,
                          int64_t capacity, int64_t *length) {
  if (!tokenizer || (!ids && count > 0) || count < 0 || !length ||
      (!text && capacity > 0))
    return fail(TFM_ERROR_ARGUMENT,
                "tfm_detokenize: NULL or negative argument");
  for (int64_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= tokenizer->tokenizer->size())
      return fail(TFM_ERROR_ARGUMENT,
                  fmt::format("tfm_detokenize: token id {} is out of range "
                              "for a vocabulary of {}",
                              ids[i], tokenizer->tokenizer->size()));
  std::string out = tokenizer->tokenizer->decode(
      std::vector<int32_t>(ids, ids + count), flags & TFM_DETOKENIZE_SPECIAL);
  *length = int64_t(out.size());
  if (*length + 1 > capacity)
    return fail(TFM_ERROR_RANGE,
                fmt::format("tfm_detokenize: {} bytes and the NUL, room for "
                            "{}",
                            *length, capacity));
  std::memcpy(text, out.data(), out.size());
  text[out.size()] = '\0';
  return TFM_OK;
}

tfm_status tfm_generate(tfm_session *session, const tfm_tokenizer *tokenizer,
                        tfm_sampler *sampler, const char *prompt,
                        int64_t max_tokens, tfm_text_callback on_text,
                        void *user, int64_t *generated) {
  if (generated)
    *generated = 0;
  if (!session || !tokenizer || !sampler || !prompt || max_tokens < 0)
    return fail(TFM_ERROR_ARGUMENT, "tfm_generate: NULL or negative argument");
  const Tokenizer &t = *tokenizer->tokenizer;
  Tokenizer::EncodeOptions options;
  options.addSpecial = session->position == 0; // BOS once, at the start
  std::vector<int32_t> ids;
  try {
    ids = t.encode(prompt, options);
  } catch (const std::bad_alloc &) {
    return fail(TFM_ERROR_ARGUMENT, "tfm_generate: out of memory");
  }
  if (ids.empty())
    return TFM_OK;
  int64_t vocab = session->session->vocabSize();
  std::vector<float> logits(size_t(ids.size()) * size_t(vocab));
  if (tfm_status s = tfm_prefill(session, ids.data(), int64_t(ids.size()),
                                 logits.data());
      s != TFM_OK)
    return s;
  const float *row = logits.data() + (ids.size() - 1) * size_t(vocab);
  Utf8Stream utf8;
  auto emit = [&](const std::string &text) {
    return !on_text || text.empty() ||
           on_text(text.data(), int64_t(text.size()), user) == 0;
  };
  for (int64_t n = 0; n < max_tokens; ++n) {
    int32_t id = sampler->sampler.sample(row, vocab);
    if (generated)
      ++*generated;
    // The token joins the cache, so the next call continues after it (an
    // end-of-turn token included: chat templates expect it there).
    bool end = t.isEndOfGeneration(id);
    if (tfm_status s = tfm_decode(session, id, end ? nullptr : logits.data());
        s != TFM_OK)
      return s;
    if (end)
      break;
    row = logits.data();
    if (!emit(utf8.push(t.piece(id))))
      return TFM_OK;
  }
  emit(utf8.flush());
  return TFM_OK;
}

} // extern "C"
