// Errors as values: every SDK call that can fail returns a Status or a Result<T>.
// Nothing in the SDK throws on purpose; the core catches whatever a plugin throws.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace natomedia {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,     // the thing asked for does not exist (an authoritative miss)
    kInvalid,      // the caller's input is wrong
    kConflict,     // a uniqueness or compare-and-swap conflict
    kUnavailable,  // a backend (SQL, memcached, SMTP) could not be reached: try later
    kInternal,     // a bug or an unexpected state
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
  static Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace natomedia
