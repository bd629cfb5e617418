/*===- tfm/runtime.h - the C API of compiled tfm models ---------*- C -*-===*\
 *
 * A shared library built with `tfmc compile CONFIG --emit=lib -o libX.so`
 * exports these functions. Errors are returned as codes; tfm_last_error()
 * describes the last one on the calling thread. Nothing here aborts the
 * process on bad input.
 *
 *   tfm_model *model;
 *   if (tfm_model_load("model.gguf", 0, &model) != TFM_OK) ...
 *   tfm_session *session;
 *   tfm_session_create(model, 0, &session);            // 0: every position
 *   tfm_prefill(session, prompt, prompt_len, NULL);   // logits optional
 *   tfm_decode(session, token, logits);               // vocab floats
 *
 * Text in, text out:
 *   tfm_tokenizer *tok;
 *   tfm_tokenizer_load("model.gguf", &tok);
 *   tfm_generate(session, tok, sampler, "Once upon a time", 64,
 *                print_text, NULL, NULL);
 *
 * Ownership. A tfm_model owns its weights (the file stays mapped while the
 * model lives) and must outlive every session created from it. Strings the
 * API returns (tfm_model_name, tfm_last_error) belong to the library: the
 * name lives as long as the model, an error message until the thread's
 * next call. Every *_free accepts NULL.
 *
 * Threads. A model is read-only once loaded: any number of sessions made
 * from it may run at the same time, each on its own thread, and give the
 * same results as alone. One session, or one sampler, must not be used by
 * two threads at once. tfm_last_error is per thread. tfm_set_num_threads
 * sets the size of the one kernel thread pool the library's sessions share;
 * call it before running, not while a kernel runs.
 *
 * Errors. Every tfm_status function returns TFM_OK or one of the codes
 * below, with a message in tfm_last_error(); out-of-memory is a code too,
 * never an abort. A failed tfm_prefill or tfm_decode leaves the session's
 * position where it was.
 *
 * Linking. `cc app.c -I<tfm>/runtime/include libX.so -Wl,-rpath,<dir>`;
 * the library exports this API only, so several tfm libraries can be
 * loaded into one process (dlopen), each reaching its own model.
 *
\*===----------------------------------------------------------------------===*/

#ifndef TFM_RUNTIME_H
#define TFM_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tfm_status {
  TFM_OK = 0,
  TFM_ERROR_ARGUMENT = 1, /* a null pointer, an id outside the vocabulary,
                             sampling parameters that are not numbers */
  TFM_ERROR_WEIGHTS = 2,  /* the weights file is missing, corrupt, another
                             model's, or larger than the memory there is */
  TFM_ERROR_RANGE = 3,    /* the KV cache is full */
  TFM_ERROR_KERNEL = 4    /* a kernel failed, or a session's buffers could
                             not be allocated */
} tfm_status;

typedef struct tfm_model tfm_model;
typedef struct tfm_session tfm_session;
typedef struct tfm_sampler tfm_sampler;

typedef struct tfm_sampling {
  float temperature; /* 0: greedy */
  int32_t top_k;     /* 0: all tokens */
  float top_p;       /* 1: no nucleus cut */
  uint64_t seed;
} tfm_sampling;

/* The message of the last error on this thread ("" if none). */
const char *tfm_last_error(void);

/* Loads weights (GGUF, safetensors file or directory) for the compiled
 * model; a NULL path gives seeded random weights. */
tfm_status tfm_model_load(const char *weights_path, uint64_t random_seed,
                          tfm_model **model);
void tfm_model_free(tfm_model *model);
const char *tfm_model_name(const tfm_model *model);
int64_t tfm_model_vocab_size(const tfm_model *model);
int64_t tfm_model_max_seq_len(const tfm_model *model);

/* A session holds a KV cache of `ctx` positions, at most max_seq_len
 * (0: max_seq_len). The cache takes memory only for the positions written;
 * a smaller ctx bounds what a session may use, and prefill or decode beyond
 * it fails with TFM_ERROR_RANGE. A ctx < 0 or > max_seq_len is
 * TFM_ERROR_ARGUMENT. */
tfm_status tfm_session_create(tfm_model *model, int64_t ctx,
                              tfm_session **session);
void tfm_session_free(tfm_session *session);
/* Forgets the cached tokens: the next token goes to position 0. */
void tfm_session_reset(tfm_session *session);
/* How many positions the cache holds now. */
int64_t tfm_session_position(const tfm_session *session);
/* How many positions the session may hold (its ctx). */
int64_t tfm_session_ctx(const tfm_session *session);

/* Appends `count` tokens; `logits` (count x vocab floats) may be NULL, and
 * then no logits are computed at all. */
tfm_status tfm_prefill(tfm_session *session, const int32_t *ids,
                       int64_t count, float *logits);
/* Appends one token; `logits` receives vocab floats (may be NULL). */
tfm_status tfm_decode(tfm_session *session, int32_t id, float *logits);

tfm_status tfm_sampler_create(const tfm_sampling *params,
                              tfm_sampler **sampler);
void tfm_sampler_free(tfm_sampler *sampler);
int32_t tfm_sample(tfm_sampler *sampler, const float *logits, int64_t vocab);

/* Worker threads for the kernels (0: all cores). */
void tfm_set_num_threads(int threads);

/* Tokenizers: the one in a GGUF file's metadata (`path` a .gguf file or a
 * folder with one; it may be the weights file). A tokenizer is read-only:
 * any number of threads may use one at once. */
typedef struct tfm_tokenizer tfm_tokenizer;
tfm_status tfm_tokenizer_load(const char *path, tfm_tokenizer **tokenizer);
void tfm_tokenizer_free(tfm_tokenizer *tokenizer);
int64_t tfm_tokenizer_vocab_size(const tfm_tokenizer *tokenizer);
/* Whether generation ends at `id` (EOS, EOT and the end-of-turn tokens). */
int tfm_token_is_end(const tfm_tokenizer *tokenizer, int32_t id);

enum {
  TFM_TOKENIZE_ADD_SPECIAL = 1,   /* BOS/EOS as the vocabulary adds them */
  TFM_TOKENIZE_PARSE_SPECIAL = 2, /* special-token text becomes the token */
  TFM_DETOKENIZE_SPECIAL = 4      /* control tokens print their text */
};

/* `text` (`length` bytes) to token ids. `*count` gets the number of ids;
 * when it is more than `capacity` nothing is written to `ids` and the
 * result is TFM_ERROR_RANGE (call with capacity 0 to learn the size). */
tfm_status tfm_tokenize(const tfm_tokenizer *tokenizer, const char *text,
                        int64_t length, int flags, int32_t *ids,
                        int64_t capacity, int64_t *count);
/* `count` ids to text, NUL-terminated in `text`. `*length` gets the text's
 * bytes (without the NUL); when length + 1 is more than `capacity` nothing
 * is written and the result is TFM_ERROR_RANGE. */
tfm_status tfm_detokenize(const tfm_tokenizer *tokenizer, const int32_t *ids,
                          int64_t count, int flags, char *text,
                          int64_t capacity, int64_t *length);

/* Receives generated text as it comes, in whole UTF-8 characters (not
 * NUL-terminated); returning nonzero stops generation. */
typedef int (*tfm_text_callback)(const char *text, int64_t length,
                                 void *user);
/* Appends `prompt` to the session (tokenized with special tokens parsed;
 * BOS added only at position 0), then samples and decodes up to
 * `max_tokens` tokens, passing their text to `on_text` (may be NULL), until
 * an end-of-generation token (not passed on), the callback's stop, or the
 * cache's end (TFM_ERROR_RANGE). The session keeps every token, so the next
 * call continues the conversation. `*generated` (may be NULL) gets the
 * number of tokens sampled. */
tfm_status tfm_generate(tfm_session *session, const tfm_tokenizer *tokenizer,
                        tfm_sampler *sampler, const char *prompt,
                        int64_t max_tokens, tfm_text_callback on_text,
                        void *user, int64_t *generated);

#ifdef __cplusplus
}
#endif

#endif /* TFM_RUNTIME_H */
