// The data calls (put, get, get_into, exists, delete, the batches,
// match_prefix, release_lease), bound on both _ctxstore.Client and
// _ctxstore.AsyncCore (data_calls.cc, data_batch_calls.cc).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "python/async_core.h"
#include "python/native_client.h"

namespace ctxstore::python {

// put's and batch_put's options from their Python arguments (meta: None,
// str or bytes).
PutOptions PutOpts(bool overwrite, bool sync, uint64_t ttl_ms, std::string group,
                   std::string parent, const pybind11::object& meta, bool chain);

void BindDataCalls(pybind11::class_<NativeClient>& sync_cls,
                   pybind11::class_<AsyncCore>& async_cls);
void BindBatchCalls(pybind11::class_<NativeClient>& sync_cls,
                    pybind11::class_<AsyncCore>& async_cls);

}  // namespace ctxstore::python
