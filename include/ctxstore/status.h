// Errors as values: a small set of codes that tell the caller what to do.
// Shared by the engine, the server and the client library; the numeric values
// are also the status codes of the wire protocol (docs/protocol.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ctxstore {

enum class StatusCode : uint16_t {
  kOk = 0,
  kNotFound = 1,       // no such key
  kExists = 2,         // put-if-absent found the key present; nothing changed
  kInvalid = 3,        // malformed request or argument; fix the caller
  kTooLarge = 4,       // a length over a configured limit
  kNoSpace = 5,        // the store cannot take more data now
  kIoError = 6,        // the device failed; a sync write is applied but not yet durable
  kCorrupt = 7,        // stored bytes failed their checksum; never served
  kBusy = 8,           // transient overload; retry later
  kUnsupported = 9,    // unknown op or protocol version
  kUnauthorized = 10,  // no valid token, or the token may not do this
  kInternal = 11,      // a bug or an unexpected state
  kUnavailable = 12,   // connection refused, closed or timed out (client side)
  // The object or namespace is encrypted with a key the server has not
  // loaded (or with another key under the same name); the object is kept.
  kKeyUnavailable = 13,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status NotFound(std::string m = {}) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Exists(std::string m = {}) { return {StatusCode::kExists, std::move(m)}; }
  static Status Invalid(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
  static Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status NoSpace(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status KeyUnavailable(std::string m) { return {StatusCode::kKeyUnavailable, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not_found: key abc" style, for logs and CLI messages.
  std::string ToString() const;

  bool operator==(StatusCode code) const { return code_ == code; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or an error. Minimal stand-in for std::expected (C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  // The error; Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ctxstore

// Propagates a non-OK Status from an expression that yields a Status.
#define CTX_RETURN_IF_ERROR(expr)    \
  do {                               \
    ::ctxstore::Status _st = (expr); \
    if (!_st.ok()) return _st;       \
  } while (0)
