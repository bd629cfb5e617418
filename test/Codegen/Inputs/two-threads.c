/* One model, two sessions on two threads at once: each must generate the
 * ids one session generates alone. Repeated, to give races a chance. */
#include "tfm/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kSteps = 12, kRounds = 20 };

typedef struct {
  tfm_model *model;
  int32_t first;
  int32_t ids[kSteps];
  int ok;
} Job;

static void *generate(void *arg) {
  Job *job = arg;
  tfm_session *session;
  tfm_sampler *sampler;
  tfm_sampling greedy = {0.0f, 0, 1.0f, 0};
  job->ok = 0;
  if (tfm_session_create(job->model, 0, &session) != TFM_OK ||
      tfm_sampler_create(&greedy, &sampler) != TFM_OK)
    return NULL;
  int64_t vocab = tfm_model_vocab_size(job->model);
  float *logits = malloc(sizeof(float) * 3 * vocab);
  int32_t prompt[3] = {job->first, 2, 3};
  if (tfm_prefill(session, prompt, 3, logits) != TFM_OK)
    return NULL;
  int32_t next = tfm_sample(sampler, logits + 2 * vocab, vocab);
  for (int i = 0; i < kSteps; ++i) {
    job->ids[i] = next;
    if (tfm_decode(session, next, logits) != TFM_OK)
      return NULL;
    next = tfm_sample(sampler, logits, vocab);
  }
  free(logits);
  tfm_sampler_free(sampler);
  tfm_session_free(session);
  job->ok = 1;
  return NULL;
}

int main(void) {
  tfm_model *model;
  if (tfm_model_load(NULL, 0, &model) != TFM_OK) {
    printf("load failed: %s\n", tfm_last_error());
    return 1;
  }
  /* Alone, one after the other: the reference. */
  Job alone[2] = {{model, 1, {0}, 0}, {model, 7, {0}, 0}};
  generate(&alone[0]);
  generate(&alone[1]);
  if (!alone[0].ok || !alone[1].ok) {
    printf("alone: failed: %s\n", tfm_last_error());
    return 1;
  }
  int same = 0;
  for (int round = 0; round < kRounds; ++round) {
    Job jobs[2] = {{model, 1, {0}, 0}, {model, 7, {0}, 0}};
    pthread_t threads[2];
    for (int t = 0; t < 2; ++t)
      pthread_create(&threads[t], NULL, generate, &jobs[t]);
    for (int t = 0; t < 2; ++t)
      pthread_join(threads[t], NULL);
    for (int t = 0; t < 2; ++t)
      same += jobs[t].ok &&
              memcmp(jobs[t].ids, alone[t].ids, sizeof jobs[t].ids) == 0;
  }
  printf("concurrent sessions matching their runs alone: %d of %d\n", same,
         2 * kRounds);
  tfm_model_free(model);
  return same == 2 * kRounds ? 0 : 1;
}
