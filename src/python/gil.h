// Running C++ without Python's global interpreter lock: every call that
// waits on the network does, so that the caller's other threads run Python
// (and make their own calls) meanwhile. Nothing inside may touch a Python
// object.
#pragma once

#include <pybind11/pybind11.h>

namespace ctxstore::python {

// f() with the GIL released; the GIL is held again when it returns or throws.
template <typename F>
auto Unlocked(F&& f) {
  pybind11::gil_scoped_release no_gil;
  return f();
}

}  // namespace ctxstore::python
