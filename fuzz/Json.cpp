//===- Json.cpp - fuzz the runtime's JSON parser ---------------------------===//

#include "runtime/Json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  (void)tfm::rt::parseJson(
      std::string_view(reinterpret_cast<const char *>(data), size));
  return 0;
}
