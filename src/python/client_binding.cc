// _ctxstore.Client: connecting and the data calls. Every call that waits
// on the network runs with the GIL released (Unlocked below); buffers are
// acquired before and released after, with the GIL.
#include <pybind11/stl.h>

#include <optional>
#include <utility>

#include "python/buffers.h"
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

PutOptions PutOpts(bool overwrite, bool sync, uint64_t ttl_ms, std::string group,
                   std::string parent, py::object meta, bool chain) {
  PutOptions o;
  o.overwrite = overwrite;
  o.sync = sync;
  o.ttl_ms = ttl_ms;
  o.group = std::move(group);
  o.parent = std::move(parent);
  o.chain = chain;
  if (!meta.is_none()) o.meta = KeyFrom(meta);  // str or bytes, as keys are
  return o;
}

void BindData(py::class_<NativeClient>& cls) {
  cls.def(
      "put",
      [](NativeClient& self, py::handle key, py::handle data, bool overwrite, bool sync,
         uint64_t ttl_ms, std::string group, std::string parent, py::object meta) {
        const std::string k = KeyFrom(key);
        const PutOptions opts = PutOpts(overwrite, sync, ttl_ms, std::move(group),
                                        std::move(parent), std::move(meta), false);
        BufferView value(data, /*writable=*/false, "put's data");
        auto client = self.get();
        const Status st = Unlocked([&] { return client->Put(k, value.bytes(), opts); });
        if (st.code() == StatusCode::kExists) return false;
        Check(st);
        return true;
      },
      py::arg("key"), py::arg("data"), py::arg("overwrite"), py::arg("sync"), py::arg("ttl_ms"),
      py::arg("group"), py::arg("parent"), py::arg("meta"));
  cls.def("get", [](NativeClient& self, py::handle key) -> std::optional<py::bytes> {
    const std::string k = KeyFrom(key);
    auto client = self.get();
    // The value is received straight into the bytes object returned: it is
    // allocated (with the GIL, briefly) once the length is known.
    py::object bytes;
    Result<size_t> got = Unlocked([&] {
      return client->GetInto(k, [&bytes](uint64_t value_len) -> Result<std::span<uint8_t>> {
        py::gil_scoped_acquire gil;
        PyObject* raw = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(value_len));
        if (raw == nullptr) {
          PyErr_Clear();
          return Status::NoSpace("cannot allocate " + std::to_string(value_len) +
                                 " bytes for the value");
        }
        bytes = py::reinterpret_steal<py::object>(raw);
        return std::span<uint8_t>(reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(raw)), value_len);
      });
    });
    if (got.status().code() == StatusCode::kNotFound) return std::nullopt;
    Check(got.status());
    return py::reinterpret_steal<py::bytes>(bytes.release());
  });
  cls.def("get_into", [](NativeClient& self, py::handle key, py::handle buffer) {
    const std::string k = KeyFrom(key);
    BufferView into(buffer, /*writable=*/true, "get_into's buffer");
    auto client = self.get();
    const size_t n = Unwrap(Unlocked([&] { return client->GetInto(k, into.writable_bytes()); }));
    if (n % into.itemsize() != 0) {
      Throw(Status::Invalid("value of " + std::to_string(n) + " bytes is not a whole number of " +
                            std::to_string(into.itemsize()) + "-byte elements of the buffer"));
    }
    return n;
  });
  cls.def("exists", [](NativeClient& self, py::handle key) -> std::optional<uint64_t> {
    const std::string k = KeyFrom(key);
    auto client = self.get();
    Result<uint64_t> len = Unlocked([&] { return client->Exists(k); });
    if (len.status().code() == StatusCode::kNotFound) return std::nullopt;
    return Unwrap(std::move(len));
  });
  cls.def("delete", [](NativeClient& self, py::handle key, bool sync) {
    const std::string k = KeyFrom(key);
    auto client = self.get();
    return Found(Unlocked([&] { return client->Delete(k, sync); }));
  });
}

// Item i of a batch result: its code's wire name.
py::list CodeNames(const std::vector<StatusCode>& codes) {
  py::list out;
  for (StatusCode c : codes) {
    const std::string_view name = StatusCodeName(c);
    out.append(py::str(name.data(), name.size()));
  }
  return out;
}

// batch_get into new bytes objects, batch_get_into the caller's buffers.
void BindBatchReads(py::class_<NativeClient>& cls) {
  cls.def("batch_get", [](NativeClient& self, py::handle keys) {
    const std::vector<std::string> ks = KeysFrom(keys);
    auto client = self.get();
    std::vector<GetItem> items = Unwrap(Unlocked([&] { return client->BatchGet(ks); }));
    py::list out;
    for (const GetItem& item : items) {
      const std::string_view name = StatusCodeName(item.code);
      out.append(py::make_tuple(
          py::str(name.data(), name.size()),
          item.code == StatusCode::kOk ? py::object(BytesOf(item.value)) : py::object(py::none())));
    }
    return out;
  });
  cls.def("batch_get_into", [](NativeClient& self, py::handle keys, py::sequence buffers) {
    const std::vector<std::string> ks = KeysFrom(keys);
    if (ks.size() != py::len(buffers)) {
      Throw(Status::Invalid("batch_get_into: " + std::to_string(ks.size()) + " keys but " +
                            std::to_string(py::len(buffers)) + " buffers"));
    }
    std::vector<BufferView> views;
    std::vector<GetIntoItem> items;
    views.reserve(ks.size());
    for (size_t i = 0; i < ks.size(); ++i) {
      views.emplace_back(buffers[i], /*writable=*/true, "batch_get_into's buffers");
      items.push_back({ks[i], views.back().writable_bytes()});
    }
    auto client = self.get();
    std::vector<GetIntoResult> results =
        Unwrap(Unlocked([&] { return client->BatchGetInto(items); }));
    py::list out;
    for (const GetIntoResult& r : results) {
      const std::string_view name = StatusCodeName(r.code);
      out.append(py::make_tuple(py::str(name.data(), name.size()), r.length));
    }
    return out;
  });
}

void BindBatches(py::class_<NativeClient>& cls) {
  cls.def(
      "batch_put",
      [](NativeClient& self, py::handle keys, py::sequence buffers, bool overwrite, bool sync,
         uint64_t ttl_ms, std::string group, std::string parent, py::object meta, bool chain) {
        const std::vector<std::string> ks = KeysFrom(keys);
        if (ks.size() != py::len(buffers)) {
          Throw(Status::Invalid("batch_put: " + std::to_string(ks.size()) + " keys but " +
                                std::to_string(py::len(buffers)) + " buffers"));
        }
        const PutOptions opts = PutOpts(overwrite, sync, ttl_ms, std::move(group),
                                        std::move(parent), std::move(meta), chain);
        std::vector<BufferView> views;
        std::vector<PutItem> items;
        views.reserve(ks.size());
        for (size_t i = 0; i < ks.size(); ++i) {
          views.emplace_back(buffers[i], /*writable=*/false, "batch_put's buffers");
          items.push_back({ks[i], views.back().bytes()});
        }
        auto client = self.get();
        return CodeNames(Unwrap(Unlocked([&] { return client->BatchPut(items, opts); })));
      },
      py::arg("keys"), py::arg("buffers"), py::arg("overwrite"), py::arg("sync"), py::arg("ttl_ms"),
      py::arg("group"), py::arg("parent"), py::arg("meta"), py::arg("chain"));
  cls.def("batch_exists", [](NativeClient& self, py::handle keys) {
    const std::vector<std::string> ks = KeysFrom(keys);
    auto client = self.get();
    return Unwrap(Unlocked([&] { return client->BatchExists(ks); }));
  });
  cls.def("match_prefix", [](NativeClient& self, py::handle keys, uint64_t lease_ms) {
    const std::vector<std::string> ks = KeysFrom(keys);
    auto client = self.get();
    if (lease_ms == 0) {
      const uint32_t n = Unwrap(Unlocked([&] { return client->MatchPrefix(ks); }));
      return py::make_tuple(n, 0);
    }
    const MatchResult m = Unwrap(Unlocked([&] { return client->MatchPrefixLease(ks, lease_ms); }));
    return py::make_tuple(m.matched, m.lease_id);
  });
  cls.def("release_lease", [](NativeClient& self, uint64_t lease_id) {
    auto client = self.get();
    return Found(Unlocked([&] { return client->ReleaseLease(lease_id); }));
  });
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
  BindData(cls);
  BindBatches(cls);
  BindBatchReads(cls);
  BindAdmin(cls);
  BindSharedMemory(m, cls);
}

}  // namespace ctxstore::python
