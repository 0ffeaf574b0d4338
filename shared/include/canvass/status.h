// Status and Result<T>: how every recoverable error in Canvass travels.
//
// A Status is either OK or one of a few codes with a message a person can act on. Result<T> holds
// a value or a non-OK Status. Both are plain values: no exceptions cross a module boundary, and the
// same types work natively and in wasm. Typical use:
//
//   Result<Survey> survey = LoadSurvey(json);
//   if (!survey.ok()) return survey.status();
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace canvass {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,  // the caller's input is wrong; the message says which field and why
  kNotFound,
  kCorruption,       // stored or received bytes do not decode or do not verify
  kUnauthenticated,  // a signature, certificate or token was refused
  kConflict,         // the request contradicts stored state (e.g. a forked device log)
  kUnavailable,      // try again later (store full, network down)
  kIoError,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status Unauthenticated(std::string msg) {
    return Status(StatusCode::kUnauthenticated, std::move(msg));
  }
  static Status Conflict(std::string msg) { return Status(StatusCode::kConflict, std::move(msg)); }
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status IoError(std::string msg) { return Status(StatusCode::kIoError, std::move(msg)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corruption: record 7: signature does not verify", or "ok".
  std::string ToString() const;
  // The same status with "context: " put before the message (no-op on OK). Keeps reason().
  Status WithContext(const std::string& context) const;
  // A finer kind of error within the code, set where the error is made, for callers that count
  // errors by kind instead of reading messages (a report's refused lines count by survey.h's
  // Refusal). 0 = none given.
  int reason() const { return reason_; }
  Status WithReason(int reason) const {
    Status s = *this;
    if (!s.ok()) s.reason_ = reason;
    return s;
  }

 private:
  Status(StatusCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  StatusCode code_ = StatusCode::kOk;
  int reason_ = 0;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "Result needs a value or an error");
    if (status_.ok()) status_ = Status::InvalidArgument("Result built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace canvass
