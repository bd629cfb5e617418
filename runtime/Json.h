//===- Json.h - a small JSON reader for the runtime -------------*- C++ -*-===//
//
// Reads safetensors headers and shard indexes. The runtime links no LLVM, so
// it cannot use llvm::json; this reader covers RFC 8259 and nothing more.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_JSON_H
#define TFM_RUNTIME_JSON_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm::rt {

class JsonValue {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  /// Exact value of a number written as an integer (no '.', 'e').
  bool isInteger = false;
  int64_t integer = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  /// The member `key` of an object, or null if absent or not an object.
  const JsonValue *get(std::string_view key) const;
};

/// Parses `text`; errors give the byte offset of the problem.
Expected<JsonValue> parseJson(std::string_view text);

/// Writes `s` as a JSON string literal (with quotes and escapes).
std::string jsonQuote(std::string_view s);

} // namespace tfm::rt

#endif // TFM_RUNTIME_JSON_H
