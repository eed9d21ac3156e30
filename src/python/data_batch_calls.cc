// The batch calls of _ctxstore.Client and AsyncCore (call.h): one round
// trip for many keys, a result per key. match_prefix and release_lease
// live here too: a prefix lookup is a batch of the chain's keys.
#include <pybind11/stl.h>

#include <memory>
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

py::str Name(StatusCode code) {
  const std::string_view name = StatusCodeName(code);
  return py::str(name.data(), name.size());
}

// keys and buffers of one batch: as many of each, buffers held for the call.
std::vector<BufferView> Views(const std::vector<std::string>& keys, const py::sequence& buffers,
                              bool writable, const char* what) {
  if (keys.size() != py::len(buffers)) {
    Throw(Status::Invalid(std::string(what) + ": " + std::to_string(keys.size()) + " keys but " +
                          std::to_string(py::len(buffers)) + " buffers"));
  }
  std::vector<BufferView> views;
  views.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) views.emplace_back(buffers[i], writable, what);
  return views;
}

class BatchPutCall final : public Call {
 public:
  BatchPutCall(std::shared_ptr<Client> client, py::handle keys, py::sequence buffers,
               bool overwrite, bool sync, uint64_t ttl_ms, std::string group, std::string parent,
               py::object meta, bool chain)
      : client_(std::move(client)),
        keys_(KeysFrom(keys)),
        views_(Views(keys_, buffers, /*writable=*/false, "batch_put's buffers")),
        opts_(PutOpts(overwrite, sync, ttl_ms, std::move(group), std::move(parent), meta, chain)) {}

 private:
  void Run() override {
    std::vector<PutItem> items;
    items.reserve(keys_.size());
    for (size_t i = 0; i < keys_.size(); ++i) items.push_back({keys_[i], views_[i].bytes()});
    codes_ = client_->BatchPut(items, opts_);
  }
  py::object Finish() override {
    py::list out;
    for (StatusCode c : Unwrap(std::move(codes_))) out.append(Name(c));
    return out;
  }

  std::shared_ptr<Client> client_;
  std::vector<std::string> keys_;
  std::vector<BufferView> views_;
  PutOptions opts_;
  Result<std::vector<StatusCode>> codes_ = Status::Internal("not run");
};

class BatchGetCall final : public Call {
 public:
  BatchGetCall(std::shared_ptr<Client> client, py::handle keys)
      : client_(std::move(client)), keys_(KeysFrom(keys)) {}

 private:
  void Run() override { items_ = client_->BatchGet(keys_); }
  py::object Finish() override {
    py::list out;
    for (const GetItem& item : Unwrap(std::move(items_))) {
      out.append(py::make_tuple(Name(item.code), item.code == StatusCode::kOk
                                                     ? py::object(BytesOf(item.value))
                                                     : py::object(py::none())));
    }
    return out;
  }

  std::shared_ptr<Client> client_;
  std::vector<std::string> keys_;
  Result<std::vector<GetItem>> items_ = Status::Internal("not run");
};

class BatchGetIntoCall final : public Call {
 public:
  BatchGetIntoCall(std::shared_ptr<Client> client, py::handle keys, py::sequence buffers)
      : client_(std::move(client)),
        keys_(KeysFrom(keys)),
        views_(Views(keys_, buffers, /*writable=*/true, "batch_get_into's buffers")) {}

 private:
  void Run() override {
    std::vector<GetIntoItem> items;
    items.reserve(keys_.size());
    for (size_t i = 0; i < keys_.size(); ++i) {
      items.push_back({keys_[i], views_[i].writable_bytes()});
    }
    results_ = client_->BatchGetInto(items);
  }
  py::object Finish() override {
    py::list out;
    for (const GetIntoResult& r : Unwrap(std::move(results_))) {
      out.append(py::make_tuple(Name(r.code), r.length));
    }
    return out;
  }

  std::shared_ptr<Client> client_;
  std::vector<std::string> keys_;
  std::vector<BufferView> views_;
  Result<std::vector<GetIntoResult>> results_ = Status::Internal("not run");
};

class BatchExistsCall final : public Call {
 public:
  BatchExistsCall(std::shared_ptr<Client> client, py::handle keys)
      : client_(std::move(client)), keys_(KeysFrom(keys)) {}

 private:
  void Run() override { found_ = client_->BatchExists(keys_); }
  py::object Finish() override { return py::cast(Unwrap(std::move(found_))); }

  std::shared_ptr<Client> client_;
  std::vector<std::string> keys_;
  Result<std::vector<bool>> found_ = Status::Internal("not run");
};

// (matched, lease id): the lease id is 0 when lease_ms is 0 (none asked)
// or nothing matched.
class MatchPrefixCall final : public Call {
 public:
  MatchPrefixCall(std::shared_ptr<Client> client, py::handle keys, uint64_t lease_ms)
      : client_(std::move(client)), keys_(KeysFrom(keys)), lease_ms_(lease_ms) {}

 private:
  void Run() override {
    if (lease_ms_ == 0) {
      Result<uint32_t> n = client_->MatchPrefix(keys_);
      match_ = n.ok() ? Result<MatchResult>(MatchResult{n.value(), 0}) : n.status();
    } else {
      match_ = client_->MatchPrefixLease(keys_, lease_ms_);
    }
  }
  py::object Finish() override {
    const MatchResult m = Unwrap(std::move(match_));
    return py::make_tuple(m.matched, m.lease_id);
  }

  std::shared_ptr<Client> client_;
  std::vector<std::string> keys_;
  uint64_t lease_ms_;
  Result<MatchResult> match_ = Status::Internal("not run");
};

class ReleaseLeaseCall final : public Call {
 public:
  ReleaseLeaseCall(std::shared_ptr<Client> client, uint64_t lease_id)
      : client_(std::move(client)), lease_id_(lease_id) {}

 private:
  void Run() override { status_ = client_->ReleaseLease(lease_id_); }
  py::object Finish() override { return py::bool_(Found(status_)); }

  std::shared_ptr<Client> client_;
  uint64_t lease_id_;
  Status status_;
};

}  // namespace

void BindBatchCalls(py::class_<NativeClient>& sync_cls, py::class_<AsyncCore>& async_cls) {
  DefCall<BatchPutCall, py::handle, py::sequence, bool, bool, uint64_t, std::string, std::string,
          py::object, bool>(sync_cls, async_cls, "batch_put", py::arg("keys"), py::arg("buffers"),
                            py::arg("overwrite"), py::arg("sync"), py::arg("ttl_ms"),
                            py::arg("group"), py::arg("parent"), py::arg("meta"), py::arg("chain"));
  DefCall<BatchGetCall, py::handle>(sync_cls, async_cls, "batch_get");
  DefCall<BatchGetIntoCall, py::handle, py::sequence>(sync_cls, async_cls, "batch_get_into");
  DefCall<BatchExistsCall, py::handle>(sync_cls, async_cls, "batch_exists");
  DefCall<MatchPrefixCall, py::handle, uint64_t>(sync_cls, async_cls, "match_prefix");
  DefCall<ReleaseLeaseCall, uint64_t>(sync_cls, async_cls, "release_lease");
}

}  // namespace ctxstore::python
