//===- Config.cpp - fuzz the config readers (spec, Hugging Face, GGUF) -----===//
//
// Any bytes as a model config: readModelConfig detects the format, reads
// and validates it or reports errors; a spec it accepts prints as JSON.

#include "MemFile.h"

#include "compiler/frontend/Frontend.h"

#include "llvm/Support/raw_ostream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tfm::fuzz::MemFile file(data, size);
  tfm::SpecDiagnostics diags(file.path());
  std::optional<tfm::ModelSpec> spec = tfm::readModelConfig(file.path(), diags);
  if (spec) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << tfm::specToJson(*spec);
  }
  return 0;
}
