//===- JsonFields.h - typed, path-aware reads of JSON objects ---*- C++ -*-===//
//
// Reads the fields of one JSON object into C++ values, reporting wrong types,
// out-of-range values and unknown keys with their full JSON path.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_FRONTEND_JSONFIELDS_H
#define TFM_COMPILER_FRONTEND_JSONFIELDS_H

#include "compiler/frontend/Frontend.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSet.h"

#include <initializer_list>
#include <type_traits>

namespace tfm {

/// The JSON value as it would be written, shortened for messages.
std::string describeJson(const llvm::json::Value &value);

/// A number for messages: up to 6 significant digits ("4", "1e-05").
std::string formatNumber(double value);

class JsonFields {
public:
  enum class UnknownKeys { Error, Warn };

  JsonFields(const llvm::json::Object &object, std::string path,
             SpecDiagnostics &diags, UnknownKeys unknown = UnknownKeys::Error)
      : object_(object), path_(std::move(path)), diags_(diags),
        unknown_(unknown) {}

  /// The full path of `key` in this object ("attention.rope.theta").
  std::string pathOf(llvm::StringRef key) const;

  /// Present and not null.
  bool has(llvm::StringRef key) const;
  /// The raw value (or null); marks the key as read.
  const llvm::json::Value *raw(llvm::StringRef key);

  // Each reader leaves `out` unchanged when the key is absent or null and
  // returns whether it stored a value. A present value of the wrong type or
  // range is an error.
  bool integer(llvm::StringRef key, int64_t &out, int64_t min);
  bool requiredInteger(llvm::StringRef key, int64_t &out, int64_t min);
  bool integer(llvm::StringRef key, std::optional<int64_t> &out, int64_t min);
  bool number(llvm::StringRef key, double &out, bool positive);
  bool number(llvm::StringRef key, std::optional<double> &out, bool positive);
  /// An array of finite numbers (each > 0 if `positive`).
  bool numbers(llvm::StringRef key, std::vector<double> &out, bool positive);
  bool boolean(llvm::StringRef key, bool &out);
  bool boolean(llvm::StringRef key, std::optional<bool> &out);
  bool string(llvm::StringRef key, std::string &out);

  /// A keyword among every case of E (a spec enum or a dialect kind).
  template <typename E> bool keyword(llvm::StringRef key, E &out) {
    return keyword(key, out, allCases<E>());
  }

  /// A keyword among `choices`, spelled as toString() spells them.
  template <typename E>
  bool keyword(llvm::StringRef key, E &out,
               llvm::ArrayRef<std::common_type_t<E>> choices) {
    const llvm::json::Value *v = raw(key);
    if (!v || v->getAsNull())
      return false;
    std::string allowed;
    for (E c : choices) {
      if (auto s = v->getAsString(); s && *s == toString(c)) {
        out = c;
        return true;
      }
      allowed += allowed.empty() ? "" : ", ";
      allowed += std::string("\"") + toString(c) + "\"";
    }
    diags_.error(pathOf(key), "expected one of " + allowed + ", got " +
                                  describeJson(*v));
    return false;
  }

  /// A nested object, or null when absent or null (an error if present with
  /// another type).
  const llvm::json::Object *object(llvm::StringRef key);

  /// Reports the keys no reader asked for.
  void finish();

  SpecDiagnostics &diags() { return diags_; }

private:
  void typeError(llvm::StringRef key, const char *expected,
                 const llvm::json::Value &got);

  const llvm::json::Object &object_;
  std::string path_;
  SpecDiagnostics &diags_;
  UnknownKeys unknown_;
  llvm::StringSet<> read_;
};

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_JSONFIELDS_H
