// _ctxstore.Client: connecting, keys, server_info. Its data calls are in
// data_calls.cc (shared with AsyncCore), its admin calls in
// admin_binding.cc. Every call that waits on the network runs with the GIL
// released (Unlocked); buffers are acquired before and released after,
// with the GIL.
#include <pybind11/stl.h>

#include <optional>
#include <utility>

#include "python/async_core.h"
#include "python/errors.h"
#include "python/gil.h"
#include "python/native_client.h"

namespace py = pybind11;

namespace ctxstore::python {
namespace {

ClientOptions Options(const std::string& address, const std::string& token,
                      const std::string& namespace_name, const std::string& tls_ca,
                      const std::string& tls_cert, const std::string& tls_key, double timeout_s,
                      uint32_t max_connections, bool verify_checksums,
                      const std::string& client_name) {
  if (!(timeout_s > 0) || timeout_s > 86400) {
    Throw(Status::Invalid("timeout_s must be between 0 and 86400 seconds"));
  }
  ClientOptions o;
  Check(ParseServerAddress(address, &o));
  o.token = token;
  o.namespace_name = namespace_name;
  o.tls_ca_file = tls_ca;
  o.tls_cert_file = tls_cert;
  o.tls_key_file = tls_key;
  o.io_timeout_ms = static_cast<uint32_t>(timeout_s * 1000);
  o.connect_timeout_ms = std::min<uint32_t>(o.io_timeout_ms, 5000);
  o.max_idle_connections = max_connections;
  o.verify_checksums = verify_checksums;
  o.client_name = client_name;
  return o;
}

}  // namespace

NativeClient::NativeClient(const ClientOptions& options) {
  Result<std::unique_ptr<Client>> c = Unlocked([&] { return Client::Connect(options); });
  client_ = Unwrap(std::move(c));
}

std::shared_ptr<Client> NativeClient::get() const {
  if (!client_) Throw(Status::Unavailable("client is closed"));
  return client_;
}

std::string KeyFrom(py::handle key) {
  if (py::isinstance<py::bytes>(key)) return std::string(py::reinterpret_borrow<py::bytes>(key));
  if (py::isinstance<py::str>(key)) {
    Py_ssize_t len = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(key.ptr(), &len);
    if (utf8 == nullptr) throw py::error_already_set();
    return std::string(utf8, static_cast<size_t>(len));
  }
  throw py::type_error("a key must be str or bytes, not " +
                       std::string(py::str(py::type::of(key).attr("__name__"))));
}

std::vector<std::string> KeysFrom(py::handle keys) {
  if (py::isinstance<py::str>(keys) || py::isinstance<py::bytes>(keys)) {
    throw py::type_error("expected a sequence of keys, got a single key");
  }
  std::vector<std::string> out;
  for (py::handle k : py::iter(keys)) out.push_back(KeyFrom(k));
  return out;
}

void BindClient(py::module_& m) {
  m.def(
      "parse_address",
      [](const std::string& address) {
        ClientOptions o;
        Check(ParseServerAddress(address, &o));
        return py::make_tuple(o.unix_path.empty() ? o.host : "",
                              o.unix_path.empty() ? o.port : 0, o.tls, o.unix_path);
      },
      py::arg("address"));
  py::class_<NativeClient> cls(m, "Client");
  cls.def(
      py::init([](const std::string& address, const std::string& token,
                  const std::string& namespace_name, const std::string& tls_ca,
                  const std::string& tls_cert, const std::string& tls_key, double timeout_s,
                  uint32_t max_connections, bool verify_checksums, const std::string& client_name) {
        return std::make_unique<NativeClient>(Options(address, token, namespace_name, tls_ca,
                                                      tls_cert, tls_key, timeout_s, max_connections,
                                                      verify_checksums, client_name));
      }),
      py::arg("address"), py::arg("token"), py::arg("namespace"), py::arg("tls_ca"),
      py::arg("tls_cert"), py::arg("tls_key"), py::arg("timeout_s"), py::arg("max_connections"),
      py::arg("verify_checksums"), py::arg("client_name"));
  cls.def("close", &NativeClient::close);
  cls.def_property_readonly("closed", &NativeClient::closed);
  cls.def("server_info", [](NativeClient& self) {
    const ServerInfo& s = self.get()->server_info();
    py::dict d;
    d["protocol_version"] = s.protocol_version;
    d["max_value_bytes"] = s.max_value_bytes;
    d["max_batch_keys"] = s.max_batch_keys;
    d["max_batch_bytes"] = s.max_batch_bytes;
    d["server_version"] = s.server_version;
    return d;
  });
  BindAsyncCore(m, cls);  // and the data calls, on both classes
  BindAdmin(cls);
  BindSharedMemory(m, cls);
}

}  // namespace ctxstore::python
