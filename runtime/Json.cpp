//===- Json.cpp - JSON for the runtime --------------------------*- C++ -*-===//

#include "runtime/Json.h"

#include <fmt/format.h>
#include <vector>

using namespace tfm::rt;

namespace {

/// `s`, cut to its first 100 bytes if longer, for an error message.
std::string shortened(std::string s) {
  if (s.size() > 100) {
    s.resize(100);
    s += "...";
  }
  return s;
}

/// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string withoutPrefix(std::string_view s) {
  if (!s.empty() && s.front() == '[')
    if (size_t end = s.find("] "); end != std::string_view::npos)
      s.remove_prefix(end + 2);
  return std::string(s);
}

/// Builds the document from the library's SAX events and stops at the
/// first nesting too deep or key seen twice. (The library's own DOM parser
/// takes a callback for this, but is far slower with one.) Returning false
/// from an event stops the parse.
class Builder {
public:
  Json root;
  std::string error;

  bool null() { return place(nullptr); }
  bool boolean(bool v) { return place(v); }
  bool number_integer(Json::number_integer_t v) { return place(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return place(v); }
  bool number_float(Json::number_float_t v, const std::string &) {
    return place(v);
  }
  bool string(std::string &v) { return place(std::move(v)); }
  bool binary(Json::binary_t &v) { return place(std::move(v)); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string &k) {
    Json &object = *open_.back();
    if (object.contains(k)) {
      error = fmt::format("key {} appears twice in one object",
                          jsonQuote(shortened(k)));
      return false;
    }
    slot_ = &object[k];
    return true;
  }

  bool parse_error(std::size_t, const std::string &,
                   const nlohmann::detail::exception &e) {
    error = withoutPrefix(e.what());
    return false;
  }

private:
  /// The containers not yet closed, outermost first. An element's address
  /// stays valid: its parent grows only after it is closed.
  std::vector<Json *> open_;
  /// Where an object's next value goes (set by key()).
  Json *slot_ = nullptr;

  Json *put(Json &&v) {
    if (open_.empty()) {
      root = std::move(v);
      return &root;
    }
    Json &parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    *slot_ = std::move(v);
    return slot_;
  }
  bool place(Json &&v) {
    put(std::move(v));
    return true;
  }
  bool open(Json &&container) {
    if (open_.size() >= size_t(kMaxJsonDepth)) {
      error = fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth);
      return false;
    }
    open_.push_back(put(std::move(container)));
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }
};

} // namespace

Expected<Json> tfm::rt::parseJson(std::string_view text) {
  Builder builder;
  if (!Json::sax_parse(text.begin(), text.end(), &builder))
    return Error(builder.error);
  return std::move(builder.root);
}

const Json *tfm::rt::jsonMember(const Json &value, std::string_view key) {
  if (!value.is_object())
    return nullptr;
  auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

std::optional<int64_t> tfm::rt::jsonInt(const Json &value) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v > uint64_t(INT64_MAX))
      return std::nullopt;
    return int64_t(v);
  }
  if (value.is_number_integer())
    return value.get<int64_t>();
  return std::nullopt;
}

std::string tfm::rt::jsonQuote(std::string_view s) {
  return Json(std::string(s))
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}
