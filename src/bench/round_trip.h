// The floor under every small-op latency: one request in flight over a
// connected pair of sockets, echoed by a thread that blocks in read and
// write, with nothing else done. The small section reports its ops next to
// it, per transport (TCP loopback, Unix socket), so that a figure like
// "EXISTS 37 µs" reads against what the machine's own wake-ups cost.
#pragma once

#include "bench/harness.h"
#include "bench/loadgen.h"

namespace ctxstore::bench {

// 40-byte requests (about an EXISTS frame) echoed over TCP loopback (Nagle
// off on both ends) or a Unix socketpair, for ctx.cell_duration_ms.
LoadResult MeasureBareRoundTrip(const BenchContext& ctx, bool over_unix);

}  // namespace ctxstore::bench
