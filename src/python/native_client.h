// _ctxstore.Client: the C++ client (include/ctxstore/client.h) as Python
// sees it, before ctxstore/client.py dresses it (addresses, tokens from the
// environment, tensors, result types).
//
// Thread safety: the C++ client is safe from many threads; this wrapper's
// one member, the shared pointer, is read and reset only with the GIL held.
// A call copies the pointer and then releases the GIL for its network
// wait, so close() on another thread never frees a client a call is
// inside: the last call to return frees it.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "ctxstore/client.h"

namespace ctxstore::python {

// A Python bytes object holding a copy of s.
inline pybind11::bytes BytesOf(const std::string& s) {
  return pybind11::bytes(s.data(), s.size());
}

// A key from Python: str (as UTF-8) or bytes.
std::string KeyFrom(pybind11::handle key);
std::vector<std::string> KeysFrom(pybind11::handle keys);

class NativeClient {
 public:
  explicit NativeClient(const ClientOptions& options);

  // The client, or ConnectionError when closed.
  std::shared_ptr<Client> get() const;
  void close() { client_.reset(); }
  bool closed() const { return client_ == nullptr; }

 private:
  std::shared_ptr<Client> client_;
};

// Registers _ctxstore.Client: its constructor and data calls
// (client_binding.cc), its listing, pin and admin calls (admin_binding.cc).
void BindClient(pybind11::module_& m);
// SharedMemory, alloc_shared, Client.register / unregister (shm_binding.cc).
void BindSharedMemory(pybind11::module_& m, pybind11::class_<NativeClient>& client);
void BindAdmin(pybind11::class_<NativeClient>& cls);

}  // namespace ctxstore::python
