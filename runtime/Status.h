//===- Status.h - errors as values for the runtime --------------*- C++ -*-===//
//
// The runtime never throws and never aborts on bad input: fallible functions
// return Expected<T> (a value or an Error carrying a user-facing message).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_STATUS_H
#define TFM_RUNTIME_STATUS_H

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace tfm::rt {

/// A user-facing error message ("FILE: tensor 'x' ...").
class Error {
public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  const std::string &message() const { return message_; }

private:
  std::string message_;
};

/// A value or an error. Check with `if (!e)` before dereferencing.
template <typename T> class Expected {
public:
  Expected(T value) : storage_(std::move(value)) {}
  Expected(Error error) : storage_(std::move(error)) {}

  explicit operator bool() const { return storage_.index() == 0; }
  T &operator*() { return std::get<0>(storage_); }
  const T &operator*() const { return std::get<0>(storage_); }
  T *operator->() { return &std::get<0>(storage_); }
  const T *operator->() const { return &std::get<0>(storage_); }
  const Error &error() const { return std::get<1>(storage_); }
  T take() { return std::move(std::get<0>(storage_)); }

private:
  std::variant<T, Error> storage_;
};

/// Success or an error, for functions with no value to return.
class Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error.message())), failed_(true) {}
  static Status ok() { return Status(); }
  explicit operator bool() const { return !failed_; }
  const std::string &message() const { return error_; }

private:
  std::string error_;
  bool failed_ = false;
};

} // namespace tfm::rt

#endif // TFM_RUNTIME_STATUS_H
