// _ctxstore: the native half of the Python package (python/ctxstore).
// ctxstore/__init__.py imports ctxstore.errors before this module, whose
// initialisation looks the exception classes up there.
#include <pybind11/pybind11.h>

#include "python/errors.h"
#include "python/native_client.h"

PYBIND11_MODULE(_ctxstore, m) {
  m.doc() = "ctxstore's C++ client, bound for Python (use the ctxstore package, not this module)";
  m.attr("__version__") = CTXSTORE_VERSION;
  ctxstore::python::BindErrors(m);
  ctxstore::python::BindClient(m);
}
