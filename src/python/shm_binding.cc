// _ctxstore.SharedMemory and alloc_shared: memory shared with a server on
// this machine (ctxstore/shared_memory.h), exported through the buffer
// protocol so that numpy.frombuffer and torch.frombuffer view it in place;
// and Client.register / unregister, which make calls on bytes inside it
// take the shared-memory path.
#include <pybind11/pybind11.h>

#include <memory>

#include "python/errors.h"
#include "python/native_client.h"

namespace py = pybind11;

namespace ctxstore::python {

void BindSharedMemory(py::module_& m, py::class_<NativeClient>& client) {
  py::class_<SharedMemory, std::shared_ptr<SharedMemory>>(m, "SharedMemory", py::buffer_protocol())
      .def_buffer([](SharedMemory& memory) {
        const std::span<uint8_t> bytes = memory.bytes();
        return py::buffer_info(bytes.data(), 1, py::format_descriptor<uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(bytes.size())}, {py::ssize_t{1}},
                               /*readonly=*/false);
      })
      .def_property_readonly("nbytes",
                             [](const SharedMemory& memory) { return memory.bytes().size(); })
      .def_property_readonly("address", [](const SharedMemory& memory) {
        return reinterpret_cast<uintptr_t>(memory.bytes().data());
      });
  m.def(
      "alloc_shared",
      [](size_t nbytes) {
        Result<std::shared_ptr<SharedMemory>> memory = SharedMemory::Create(nbytes);
        return Unwrap(std::move(memory));
      },
      py::arg("nbytes"));
  client.def("register", [](NativeClient& self, std::shared_ptr<SharedMemory> memory) {
    Check(self.get()->Register(std::move(memory)));
  });
  client.def("unregister", [](NativeClient& self, const SharedMemory& memory) {
    self.get()->Unregister(memory);
  });
}

}  // namespace ctxstore::python
