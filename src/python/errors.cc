#include "python/errors.h"

#include <string_view>

namespace py = pybind11;

namespace ctxstore::python {
namespace {

// ctxstore.errors._BY_CODE (each code's wire name to its class) and
// ctxstore.errors.Error. Set once at import and never freed: translators
// run until interpreter shutdown, after module objects may be gone. (A
// translator is a plain function, so it cannot capture them.)
py::object* by_code = nullptr;
py::object* fallback = nullptr;

}  // namespace

void BindErrors(py::module_& m) {
  py::module_ errors = py::module_::import("ctxstore.errors");
  by_code = new py::object(errors.attr("_BY_CODE"));
  fallback = new py::object(errors.attr("Error"));
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const Status& st = e.status();
      const std::string_view name = StatusCodeName(st.code());
      py::str key(name.data(), name.size());
      py::object cls = by_code->contains(key) ? (*by_code)[key] : *fallback;
      const std::string& message = st.message().empty() ? std::string(name) : st.message();
      py::object error = cls(message, key);
      PyErr_SetObject(cls.ptr(), error.ptr());
    }
  });
  m.def(
      "_raise_status",
      [](int code, const std::string& message) {
        Throw(Status(static_cast<StatusCode>(code), message));
      },
      "Raises the exception a server status code becomes (for the tests of the mapping).");
}

}  // namespace ctxstore::python
