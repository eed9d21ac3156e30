#include "python/errors.h"

#include <string_view>
#include <utility>

namespace py = pybind11;

namespace ctxstore::python {
namespace {

// ctxstore.errors._BY_CODE (each code's wire name to its class) and
// ctxstore.errors.Error. Set once at import and never freed: translators
// run until interpreter shutdown, after module objects may be gone. (A
// translator is a plain function, so it cannot capture them.)
py::object* by_code = nullptr;
py::object* fallback = nullptr;

// The class for status's code and the instance, message and wire name set.
std::pair<py::object, py::object> ClassAndError(const Status& st) {
  const std::string_view name = StatusCodeName(st.code());
  py::str key(name.data(), name.size());
  py::object cls = by_code->contains(key) ? (*by_code)[key] : *fallback;
  const std::string& message = st.message().empty() ? std::string(name) : st.message();
  return {cls, cls(message, key)};
}

}  // namespace

py::object ErrorObject(const Status& status) {
  return ClassAndError(status).second;
}

void BindErrors(py::module_& m) {
  py::module_ errors = py::module_::import("ctxstore.errors");
  by_code = new py::object(errors.attr("_BY_CODE"));
  fallback = new py::object(errors.attr("Error"));
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      auto [cls, error] = ClassAndError(e.status());
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
