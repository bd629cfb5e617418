//===- JsonFields.cpp - typed, path-aware reads of JSON objects -*- C++ -*-===//

#include "compiler/frontend/JsonFields.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace tfm;
using llvm::StringRef;
namespace json = llvm::json;

std::string tfm::describeJson(const json::Value &value) {
  std::string s = llvm::formatv("{0}", value).str();
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

std::string tfm::formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::string JsonFields::pathOf(StringRef key) const {
  return path_.empty() ? key.str() : path_ + "." + key.str();
}

bool JsonFields::has(StringRef key) const {
  const json::Value *v = object_.get(key);
  return v && !v->getAsNull();
}

const json::Value *JsonFields::raw(StringRef key) {
  read_.insert(key);
  return object_.get(key);
}

void JsonFields::typeError(StringRef key, const char *expected,
                           const json::Value &got) {
  diags_.error(pathOf(key), llvm::formatv("expected {0}, got {1}", expected,
                                          describeJson(got))
                                .str());
}

bool JsonFields::integer(StringRef key, int64_t &out, int64_t min) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return false;
  std::optional<int64_t> i = v->getAsInteger();
  if (!i) {
    typeError(key, "an integer", *v);
    return false;
  }
  if (*i < min) {
    diags_.error(pathOf(key),
                 llvm::formatv("expected an integer >= {0}, got {1}", min, *i)
                     .str());
    return false;
  }
  out = *i;
  return true;
}

bool JsonFields::requiredInteger(StringRef key, int64_t &out, int64_t min) {
  if (!has(key)) {
    read_.insert(key);
    diags_.error(pathOf(key),
                 llvm::formatv("missing required field (an integer >= {0})",
                               min)
                     .str());
    return false;
  }
  return integer(key, out, min);
}

bool JsonFields::integer(StringRef key, std::optional<int64_t> &out,
                         int64_t min) {
  int64_t value;
  if (!integer(key, value, min))
    return false;
  out = value;
  return true;
}

bool JsonFields::number(StringRef key, double &out, bool positive) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return false;
  std::optional<double> d = v->getAsNumber();
  if (!d || !std::isfinite(*d)) {
    typeError(key, "a number", *v);
    return false;
  }
  if (positive && !(*d > 0)) {
    diags_.error(pathOf(key),
                 "expected a number > 0, got " + formatNumber(*d));
    return false;
  }
  out = *d;
  return true;
}

bool JsonFields::number(StringRef key, std::optional<double> &out,
                        bool positive) {
  double value;
  if (!number(key, value, positive))
    return false;
  out = value;
  return true;
}

bool JsonFields::numbers(StringRef key, std::vector<double> &out,
                         bool positive) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return false;
  const json::Array *arr = v->getAsArray();
  if (!arr) {
    typeError(key, "an array of numbers", *v);
    return false;
  }
  std::vector<double> values;
  for (size_t i = 0; i < arr->size(); ++i) {
    std::optional<double> d = (*arr)[i].getAsNumber();
    if (!d || !std::isfinite(*d) || (positive && !(*d > 0))) {
      diags_.error((pathOf(key) + "[" + std::to_string(i) + "]"),
                   std::string("expected a ") +
                       (positive ? "number > 0" : "finite number") +
                       ", got " + describeJson((*arr)[i]));
      return false;
    }
    values.push_back(*d);
  }
  out = std::move(values);
  return true;
}

bool JsonFields::boolean(StringRef key, bool &out) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return false;
  std::optional<bool> b = v->getAsBoolean();
  if (!b) {
    typeError(key, "true or false", *v);
    return false;
  }
  out = *b;
  return true;
}

bool JsonFields::boolean(StringRef key, std::optional<bool> &out) {
  bool value;
  if (!boolean(key, value))
    return false;
  out = value;
  return true;
}

bool JsonFields::string(StringRef key, std::string &out) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return false;
  std::optional<StringRef> s = v->getAsString();
  if (!s) {
    typeError(key, "a string", *v);
    return false;
  }
  out = s->str();
  return true;
}

const json::Object *JsonFields::object(StringRef key) {
  const json::Value *v = raw(key);
  if (!v || v->getAsNull())
    return nullptr;
  const json::Object *o = v->getAsObject();
  if (!o)
    typeError(key, "an object", *v);
  return o;
}

void JsonFields::finish() {
  std::vector<std::string> unknown;
  for (const auto &kv : object_)
    if (!read_.contains(kv.first))
      unknown.push_back(kv.first.str());
  std::sort(unknown.begin(), unknown.end());
  for (const std::string &key : unknown) {
    // A key is the file's text: shown clipped, with control bytes escaped.
    std::string shown;
    for (char c : llvm::StringRef(key).take_front(60))
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        shown += llvm::formatv("\\x{0:x-2}", static_cast<unsigned char>(c)).str();
      else
        shown += c;
    if (key.size() > 60)
      shown += llvm::formatv("... ({0} bytes)", key.size()).str();
    if (unknown_ == UnknownKeys::Error)
      diags_.error(pathOf(shown), "unknown key");
    else
      diags_.warning(pathOf(shown), "unknown key, ignored");
  }
}
