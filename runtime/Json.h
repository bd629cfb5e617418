//===- Json.h - JSON for the runtime ----------------------------*- C++ -*-===//
//
// Reads safetensors headers and shard indexes with nlohmann::json. The
// runtime links no LLVM, so it cannot use llvm::json. parseJson adds the
// limits a reader of hostile files needs on top of the library's parser.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_JSON_H
#define TFM_RUNTIME_JSON_H

#include "runtime/Status.h"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tfm::rt {

using Json = nlohmann::json;

/// Deepest nesting parseJson accepts.
inline constexpr int kMaxJsonDepth = 256;

/// Parses `text` as one JSON document (RFC 8259, UTF-8). Refuses nesting
/// deeper than kMaxJsonDepth and an object that names a key twice (which
/// one would count is ambiguous). Syntax errors give the line and column.
Expected<Json> parseJson(std::string_view text);

/// The member `key` of an object; nullptr if absent or `value` is not an
/// object.
const Json *jsonMember(const Json &value, std::string_view key);

/// The value of an integer that fits int64_t; nullopt for anything else
/// (a fraction, an exponent, a string, an integer too large).
std::optional<int64_t> jsonInt(const Json &value);

/// Writes `s` as a JSON string literal (with quotes and escapes). Bytes
/// that are not UTF-8 are written as U+FFFD.
std::string jsonQuote(std::string_view s);

} // namespace tfm::rt

#endif // TFM_RUNTIME_JSON_H
