/* Text in, text out through the C API: a tokenizer from the weights file,
 * tokenize and detokenize, and tfm_generate streaming the text. */
#include "tfm/runtime.h"

#include <stdio.h>
#include <string.h>

static int print_text(const char *text, int64_t length, void *user) {
  int *calls = user;
  ++*calls;
  fwrite(text, 1, (size_t)length, stdout);
  return 0;
}

static int stop_after_first(const char *text, int64_t length, void *user) {
  fwrite(text, 1, (size_t)length, stdout);
  return 1;
}

int main(int argc, char **argv) {
  const char *weights = argv[1];
  tfm_model *model;
  tfm_tokenizer *tok;
  if (tfm_model_load(weights, 0, &model) != TFM_OK ||
      tfm_tokenizer_load(weights, &tok) != TFM_OK) {
    printf("load failed: %s\n", tfm_last_error());
    return 1;
  }
  printf("vocab %lld\n", (long long)tfm_tokenizer_vocab_size(tok));

  const char *prompt = "Once upon a time";
  int64_t count = 0;
  tfm_status s = tfm_tokenize(tok, prompt, (int64_t)strlen(prompt),
                              TFM_TOKENIZE_ADD_SPECIAL, NULL, 0, &count);
  printf("size: %d %lld\n", (int)s, (long long)count);
  int32_t ids[16];
  tfm_tokenize(tok, prompt, (int64_t)strlen(prompt), TFM_TOKENIZE_ADD_SPECIAL,
               ids, 16, &count);
  printf("ids:");
  for (int64_t i = 0; i < count; ++i)
    printf(" %d", ids[i]);
  char text[64];
  int64_t length = 0;
  tfm_detokenize(tok, ids, count, TFM_DETOKENIZE_SPECIAL, text, 64, &length);
  printf("\ntext: [%s] %lld\n", text, (long long)length);
  s = tfm_detokenize(tok, ids, count, 0, text, 4, &length);
  printf("small buffer: %d %s\n", (int)s, tfm_last_error());
  int32_t bad = 100000;
  s = tfm_detokenize(tok, &bad, 1, 0, text, 64, &length);
  printf("bad id: %d %s\n", (int)s, tfm_last_error());

  tfm_set_num_threads(1);
  tfm_session *session;
  tfm_session_create(model, 0, &session);
  tfm_sampling greedy = {0.0f, 0, 1.0f, 0};
  tfm_sampler *sampler;
  tfm_sampler_create(&greedy, &sampler);
  int calls = 0;
  int64_t generated = 0;
  printf("generated: [");
  s = tfm_generate(session, tok, sampler, prompt, 64, print_text, &calls,
                   &generated);
  printf("] %d %lld tokens, position %lld\n", (int)s, (long long)generated,
         (long long)tfm_session_position(session));
  printf("streamed in %d pieces\n", calls > 1 ? calls : 0);
  /* The callback stops generation. */
  tfm_session_reset(session);
  printf("stopped: [");
  s = tfm_generate(session, tok, sampler, prompt, 64, stop_after_first, NULL,
                   &generated);
  printf("] %d %lld tokens\n", (int)s, (long long)generated);
  s = tfm_tokenizer_load("/nonexistent.gguf", &tok);
  printf("bad tokenizer: %d %s\n", (int)s, tfm_last_error());
  return 0;
}
