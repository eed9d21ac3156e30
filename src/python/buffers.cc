#include "python/buffers.h"

#include <string>

#include "python/errors.h"

namespace py = pybind11;

namespace ctxstore::python {

BufferView::BufferView(py::handle obj, bool writable, const char* what) {
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw py::type_error(std::string(what) +
                         ": expected a bytes-like object, numpy array or CPU tensor, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  // Strides and format are asked for so that a non-contiguous array can be
  // told apart (with our message) from an object without a buffer.
  Py_buffer& view = held_.view;
  if (PyObject_GetBuffer(obj.ptr(), &view, PyBUF_STRIDES | PyBUF_FORMAT) != 0) {
    throw py::error_already_set();
  }
  held_.held = true;
  if (view.format != nullptr && std::string(view.format).find('O') != std::string::npos) {
    // An array of Python objects holds pointers: bytes written into it
    // would corrupt the interpreter, and bytes read from it mean nothing.
    throw py::type_error(std::string(what) + ": an array of Python objects has no value bytes");
  }
  if (!PyBuffer_IsContiguous(&view, 'C')) {
    Throw(Status::Invalid(std::string(what) + " must be C-contiguous (copy it first, e.g. "
                                              "numpy.ascontiguousarray or tensor.contiguous())"));
  }
  if (writable && view.readonly) {
    Throw(Status::Invalid(std::string(what) + " must be writable: this buffer is read-only"));
  }
}

}  // namespace ctxstore::python
