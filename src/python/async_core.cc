#include "python/async_core.h"

#include <exception>
#include <string>
#include <utility>

#include "python/data_calls.h"
#include "python/errors.h"

namespace py = pybind11;

namespace ctxstore::python {

AsyncCore::AsyncCore(const NativeClient& client, unsigned workers) : client_(client.get()) {
  if (workers == 0 || workers > kMaxWorkers) {
    Throw(Status::Invalid("workers must be between 1 and " + std::to_string(kMaxWorkers) +
                          ", not " + std::to_string(workers)));
  }
  pool_ = Unwrap(CompletionPool::Create(workers, "ctxstore-aio"));
}

AsyncCore::~AsyncCore() {
  pool_->Close();
  Unlocked([this] { pool_->Join(); });
  client_.reset();
  calls_.clear();  // with the GIL: their buffers are released
}

std::shared_ptr<Client> AsyncCore::client() const {
  if (!client_) Throw(Status::Unavailable("client is closed"));
  return client_;
}

uint64_t AsyncCore::Submit(std::unique_ptr<Call> call) {
  if (!client_) Throw(Status::Unavailable("client is closed"));
  const uint64_t id = next_id_++;
  Call* running = call.get();
  calls_.emplace(id, std::move(call));
  // The call stays in calls_ (so `running` stays valid) until Drain sees
  // the pool report it finished.
  if (!pool_->Submit(id, [running] { running->Execute(); })) {
    calls_.erase(id);
    Throw(Status::Unavailable("client is closed"));
  }
  return id;
}

py::list AsyncCore::Drain() {
  py::list out;
  for (uint64_t id : pool_->TakeCompleted()) {
    auto node = calls_.extract(id);
    if (node.empty()) continue;  // cannot happen: every id reported was submitted here
    try {
      out.append(py::make_tuple(id, true, node.mapped()->Complete()));
    } catch (const StatusError& e) {
      out.append(py::make_tuple(id, false, ErrorObject(e.status())));
    } catch (py::error_already_set& e) {
      out.append(py::make_tuple(id, false, e.value()));
    }
  }
  return out;
}

void AsyncCore::Close() {
  client_.reset();
  pool_->Close();
}

void BindAsyncCore(py::module_& m, py::class_<NativeClient>& client) {
  py::class_<AsyncCore> core(m, "AsyncCore");
  core.def(py::init<const NativeClient&, unsigned>(), py::arg("client"), py::arg("workers"));
  core.def("event_fd", &AsyncCore::event_fd);
  core.def("drain", &AsyncCore::Drain);
  core.def("close", &AsyncCore::Close);
  core.def_property_readonly("outstanding", &AsyncCore::outstanding);
  BindDataCalls(client, core);
}

}  // namespace ctxstore::python
