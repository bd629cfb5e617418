/* Loads several tfm libraries into one process with RTLD_GLOBAL, reaches
 * each one's C API through its own handle, and runs a prompt on each: every
 * library must give its own model, not the first one loaded. */
#include "tfm/runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define GET(handle, name) ((__typeof__(&name))dlsym(handle, #name))

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    void *lib = dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      printf("dlopen: %s\n", dlerror());
      return 1;
    }
    tfm_model *model;
    if (GET(lib, tfm_model_load)(NULL, 0, &model) != TFM_OK) {
      printf("load failed: %s\n", GET(lib, tfm_last_error)());
      return 1;
    }
    int64_t vocab = GET(lib, tfm_model_vocab_size)(model);
    tfm_session *session;
    GET(lib, tfm_session_create)(model, 0, &session);
    float *logits = malloc(sizeof(float) * vocab);
    int32_t prompt[1] = {3};
    tfm_status s = GET(lib, tfm_decode)(session, prompt[0], logits);
    printf("%s: model %s vocab %lld decode %d\n", argv[i],
           GET(lib, tfm_model_name)(model), (long long)vocab, (int)s);
    free(logits);
    GET(lib, tfm_session_free)(session);
    GET(lib, tfm_model_free)(model);
  }
  return 0;
}
