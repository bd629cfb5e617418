/* Uses a compiled model through the C API: greedy generation, then errors. */
#include "tfm/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  tfm_model *model;
  if (tfm_model_load(NULL, 0, &model) != TFM_OK) {
    printf("load failed: %s\n", tfm_last_error());
    return 1;
  }
  printf("model %s vocab %lld positions %lld\n", tfm_model_name(model),
         (long long)tfm_model_vocab_size(model),
         (long long)tfm_model_max_seq_len(model));
  tfm_set_num_threads(1);
  tfm_session *session;
  tfm_session_create(model, 0, &session);
  int64_t vocab = tfm_model_vocab_size(model);
  float *logits = malloc(sizeof(float) * 3 * vocab);
  int32_t prompt[3] = {1, 2, 3};
  tfm_sampling greedy = {0.0f, 0, 1.0f, 0};
  tfm_sampler *sampler;
  tfm_sampler_create(&greedy, &sampler);
  if (tfm_prefill(session, prompt, 3, logits) != TFM_OK) {
    printf("prefill failed: %s\n", tfm_last_error());
    return 1;
  }
  int32_t next = tfm_sample(sampler, logits + 2 * vocab, vocab);
  printf("generated: %d", next);
  for (int i = 0; i < 3; ++i) {
    if (tfm_decode(session, next, logits) != TFM_OK) {
      printf("decode failed: %s\n", tfm_last_error());
      return 1;
    }
    next = tfm_sample(sampler, logits, vocab);
    printf(" %d", next);
  }
  printf("\nposition %lld\n", (long long)tfm_session_position(session));

  /* Errors come back as codes with messages. */
  tfm_status s = tfm_decode(session, 100000, logits);
  printf("bad id: %d %s\n", (int)s, tfm_last_error());
  s = tfm_prefill(NULL, prompt, 3, NULL);
  printf("null session: %d %s\n", (int)s, tfm_last_error());
  tfm_session_reset(session);
  printf("after reset: position %lld\n",
         (long long)tfm_session_position(session));
  tfm_model *bad;
  s = tfm_model_load("/nonexistent.gguf", 0, &bad);
  printf("bad weights: %d %s\n", (int)s, tfm_last_error());
  tfm_sampling nan = {NAN, 0, 1.0f, 0};
  tfm_sampler *none;
  s = tfm_sampler_create(&nan, &none);
  printf("nan temperature: %d %s\n", (int)s, tfm_last_error());

  /* A session limited to 4 positions (its --ctx). */
  tfm_session *small;
  s = tfm_session_create(model, 4, &small);
  printf("ctx 4: %d ctx %lld\n", (int)s, (long long)tfm_session_ctx(small));
  s = tfm_prefill(small, prompt, 3, NULL);
  printf("3 tokens: %d\n", (int)s);
  s = tfm_prefill(small, prompt, 2, NULL);
  printf("2 more: %d %s\n", (int)s, tfm_last_error());
  s = tfm_decode(small, 1, NULL);
  printf("then one: %d position %lld\n", (int)s,
         (long long)tfm_session_position(small));
  s = tfm_decode(small, 1, NULL);
  printf("and another: %d %s\n", (int)s, tfm_last_error());
  tfm_session_free(small);
  tfm_session *wrong = (tfm_session *)1;
  s = tfm_session_create(model, tfm_model_max_seq_len(model) + 1, &wrong);
  printf("ctx too large: %d %s %s\n", (int)s, tfm_last_error(),
         wrong ? "session" : "NULL");
  s = tfm_session_create(model, -1, &wrong);
  printf("ctx negative: %d %s\n", (int)s, tfm_last_error());

  tfm_sampler_free(sampler);
  tfm_session_free(session);
  tfm_model_free(model);
  free(logits);
  return 0;
}
