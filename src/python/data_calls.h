// The data calls (put, get, get_into, exists, delete, the batches,
// match_prefix, release_lease), bound on both _ctxstore.Client and
// _ctxstore.AsyncCore (data_calls.cc, data_batch_calls.cc).
#pragma once

#include <pybind11/pybind11.h>

#include "python/async_core.h"
#include "python/native_client.h"

namespace ctxstore::python {

void BindDataCalls(pybind11::class_<NativeClient>& sync_cls,
                   pybind11::class_<AsyncCore>& async_cls);
void BindBatchCalls(pybind11::class_<NativeClient>& sync_cls,
                    pybind11::class_<AsyncCore>& async_cls);

}  // namespace ctxstore::python
