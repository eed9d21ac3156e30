// How a failed Status reaches Python: the bindings throw StatusError, and
// the translator BindErrors registers turns it into the class of
// ctxstore/errors.py that names its code (NotFound, Unauthorized, ...),
// carrying the server's message and the code's wire name.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <string>
#include <utility>

#include "ctxstore/status.h"

namespace ctxstore::python {

class StatusError : public std::exception {
 public:
  explicit StatusError(Status status) : status_(std::move(status)), what_(status_.ToString()) {}
  const char* what() const noexcept override { return what_.c_str(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
  std::string what_;
};

[[noreturn]] inline void Throw(Status status) {
  throw StatusError(std::move(status));
}

inline void Check(const Status& status) {
  if (!status.ok()) Throw(status);
}

// For calls whose miss is an answer, not an error (delete, unpin, revoke):
// true when it succeeded, false for kNotFound; any other error is thrown.
inline bool Found(const Status& status) {
  if (status.code() == StatusCode::kNotFound) return false;
  Check(status);
  return true;
}

template <typename T>
T Unwrap(Result<T> result) {
  if (!result.ok()) Throw(result.status());
  return std::move(result).value();
}

// The exception instance (of ctxstore.errors) that `status` becomes, not
// raised: for results handed to asyncio futures.
pybind11::object ErrorObject(const Status& status);

// Registers the translator; ctxstore.errors must be importable (the
// package imports it before the native module).
void BindErrors(pybind11::module_& m);

}  // namespace ctxstore::python
