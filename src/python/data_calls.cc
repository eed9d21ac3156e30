// The data calls of _ctxstore.Client and _ctxstore.AsyncCore (call.h):
// put, get, get_into, exists, delete, the batches, match_prefix and
// release_lease. Each is a Call; DefCall binds it twice, as
// Client.<name>(...) (run now) and AsyncCore.submit_<name>(...) (run on
// the pool, result by drain()), with the same arguments and result.
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "python/async_core.h"
#include "python/buffers.h"
#include "python/call.h"
#include "python/data_calls.h"
#include "python/native_client.h"

namespace py = pybind11;

namespace ctxstore::python {
namespace {

class PutCall final : public Call {
 public:
  PutCall(std::shared_ptr<Client> client, py::handle key, py::handle data, bool overwrite,
          bool sync, uint64_t ttl_ms, std::string group, std::string parent, py::object meta)
      : client_(std::move(client)),
        key_(KeyFrom(key)),
        opts_(PutOpts(overwrite, sync, ttl_ms, std::move(group), std::move(parent), meta, false)),
        value_(data, /*writable=*/false, "put's data") {}

 private:
  void Run() override { status_ = client_->Put(key_, value_.bytes(), opts_); }
  py::object Finish() override {
    if (status_.code() == StatusCode::kExists) return py::bool_(false);
    Check(status_);
    return py::bool_(true);
  }

  std::shared_ptr<Client> client_;
  std::string key_;
  PutOptions opts_;
  BufferView value_;
  Status status_;
};

// A value as a new bytes object. Run by the caller's own thread (the
// synchronous Client), the value is received straight into the bytes
// object, allocated with the GIL once its length is known; run on a pool
// worker, which must never take the GIL, it is received into a string
// and copied once more at Finish.
class GetCall final : public Call {
 public:
  GetCall(std::shared_ptr<Client> client, py::handle key, bool on_caller_thread)
      : client_(std::move(client)), key_(KeyFrom(key)), on_caller_thread_(on_caller_thread) {}

 private:
  void Run() override {
    if (!on_caller_thread_) {
      copied_ = client_->Get(key_);
      return;
    }
    got_ = client_->GetInto(key_, [this](uint64_t value_len) -> Result<std::span<uint8_t>> {
      py::gil_scoped_acquire gil;
      PyObject* raw = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(value_len));
      if (raw == nullptr) {
        PyErr_Clear();
        return Status::NoSpace("cannot allocate " + std::to_string(value_len) +
                               " bytes for the value");
      }
      bytes_ = py::reinterpret_steal<py::object>(raw);
      return std::span<uint8_t>(reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(raw)), value_len);
    });
  }
  py::object Finish() override {
    const Status& st = on_caller_thread_ ? got_.status() : copied_.status();
    if (st.code() == StatusCode::kNotFound) return py::none();
    Check(st);
    return on_caller_thread_ ? std::move(bytes_) : BytesOf(copied_.value());
  }

  std::shared_ptr<Client> client_;
  std::string key_;
  bool on_caller_thread_;
  Result<size_t> got_ = Status::Internal("not run");
  Result<std::string> copied_ = Status::Internal("not run");
  py::object bytes_;
};

class GetIntoCall final : public Call {
 public:
  GetIntoCall(std::shared_ptr<Client> client, py::handle key, py::handle buffer)
      : client_(std::move(client)),
        key_(KeyFrom(key)),
        into_(buffer, /*writable=*/true, "get_into's buffer") {}

 private:
  void Run() override { got_ = client_->GetInto(key_, into_.writable_bytes()); }
  py::object Finish() override {
    const size_t n = Unwrap(std::move(got_));
    if (n % into_.itemsize() != 0) {
      Throw(Status::Invalid("value of " + std::to_string(n) + " bytes is not a whole number of " +
                            std::to_string(into_.itemsize()) + "-byte elements of the buffer"));
    }
    return py::int_(n);
  }

  std::shared_ptr<Client> client_;
  std::string key_;
  BufferView into_;
  Result<size_t> got_ = Status::Internal("not run");
};

class ExistsCall final : public Call {
 public:
  ExistsCall(std::shared_ptr<Client> client, py::handle key)
      : client_(std::move(client)), key_(KeyFrom(key)) {}

 private:
  void Run() override { len_ = client_->Exists(key_); }
  py::object Finish() override {
    if (len_.status().code() == StatusCode::kNotFound) return py::none();
    return py::int_(Unwrap(std::move(len_)));
  }

  std::shared_ptr<Client> client_;
  std::string key_;
  Result<uint64_t> len_ = Status::Internal("not run");
};

class DeleteCall final : public Call {
 public:
  DeleteCall(std::shared_ptr<Client> client, py::handle key, bool sync)
      : client_(std::move(client)), key_(KeyFrom(key)), sync_(sync) {}

 private:
  void Run() override { status_ = client_->Delete(key_, sync_); }
  py::object Finish() override { return py::bool_(Found(status_)); }

  std::shared_ptr<Client> client_;
  std::string key_;
  bool sync_;
  Status status_;
};

}  // namespace

PutOptions PutOpts(bool overwrite, bool sync, uint64_t ttl_ms, std::string group,
                   std::string parent, const py::object& meta, bool chain) {
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

void BindDataCalls(py::class_<NativeClient>& sync_cls, py::class_<AsyncCore>& async_cls) {
  DefCall<PutCall, py::handle, py::handle, bool, bool, uint64_t, std::string, std::string,
          py::object>(sync_cls, async_cls, "put", py::arg("key"), py::arg("data"),
                      py::arg("overwrite"), py::arg("sync"), py::arg("ttl_ms"), py::arg("group"),
                      py::arg("parent"), py::arg("meta"));
  sync_cls.def("get", [](NativeClient& self, py::handle key) {
    GetCall call(self.get(), key, /*on_caller_thread=*/true);
    return RunNow(call);
  });
  async_cls.def("submit_get", [](AsyncCore& self, py::handle key) {
    return self.Submit(std::make_unique<GetCall>(self.client(), key, /*on_caller_thread=*/false));
  });
  DefCall<GetIntoCall, py::handle, py::handle>(sync_cls, async_cls, "get_into");
  DefCall<ExistsCall, py::handle>(sync_cls, async_cls, "exists");
  DefCall<DeleteCall, py::handle, bool>(sync_cls, async_cls, "delete");
  BindBatchCalls(sync_cls, async_cls);
}

}  // namespace ctxstore::python
