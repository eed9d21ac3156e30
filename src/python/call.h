// One call of the C++ client, split where the GIL changes hands:
//
//   constructor (GIL held)   reads the arguments: keys copied, buffers acquired
//   Execute     (no GIL)     sends the request and waits for the reply
//   Complete    (GIL held)   turns the reply into the Python result, or throws
//                            StatusError
//   destructor  (GIL held)   releases the buffers
//
// The synchronous Client runs the steps back to back (RunNow); the
// AsyncCore runs Execute on its worker pool and Complete when the event
// loop drains it (async_core.h). One definition per operation serves both
// (data_calls.cc), so the two clients cannot drift apart.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <string>

#include "ctxstore/status.h"
#include "python/errors.h"
#include "python/gil.h"

namespace ctxstore::python {

class Call {
 public:
  virtual ~Call() = default;

  // Without the GIL, on any thread; touches no Python object.
  void Execute() noexcept {
    try {
      Run();
    } catch (const std::exception& e) {  // std::bad_alloc: the client reports the rest as values
      failure_ = Status::Internal(std::string("client call failed: ") + e.what());
    }
  }
  // With the GIL, once, after Execute.
  pybind11::object Complete() {
    Check(failure_);
    return Finish();
  }

 protected:
  virtual void Run() = 0;
  virtual pybind11::object Finish() = 0;

 private:
  Status failure_;
};

// Runs `call` on this thread: Execute with the GIL released, then Complete.
// The synchronous client's calls live on its stack: no allocation per call.
inline pybind11::object RunNow(Call& call) {
  Unlocked([&] { call.Execute(); });
  return call.Complete();
}

}  // namespace ctxstore::python
