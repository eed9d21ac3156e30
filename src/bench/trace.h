// Request traces for the offline simulator (bench/cache_sim.h): one JSON
// object per line, as in the Mooncake FAST'25 traces:
//   {"timestamp": ms, "input_length": N, "output_length": M, "hash_ids": [...]}
// Each hash id names one 512-token block of the input together with every
// block before it (prefix-chained), so block i's parent is hash_ids[i-1].
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::bench {

// Tokens per block of a trace's hash ids.
inline constexpr uint64_t kBlockTokens = 512;

struct TraceRequest {
  uint64_t timestamp_ms = 0;
  uint64_t input_length = 0;   // tokens
  uint64_t output_length = 0;  // tokens
  size_t first_block = 0;      // index of its first id in Trace::blocks
  size_t block_count = 0;
};

// A parsed trace. Block ids of all requests are stored back to back, in
// request order: `blocks` is also the sequence of block references that the
// simulator replays.
struct Trace {
  std::string name;
  std::vector<TraceRequest> requests;
  std::vector<uint64_t> blocks;

  std::span<const uint64_t> BlocksOf(const TraceRequest& r) const {
    return std::span<const uint64_t>(blocks).subspan(r.first_block, r.block_count);
  }
};

// Reads at most max_requests requests (0 = all); blank lines are skipped.
// `name` labels error messages ("NAME:LINE: ...") and results.
Result<Trace> ParseTrace(std::istream& in, std::string_view name, size_t max_requests = 0);

// ParseTrace on a file: errors name the path, and the trace is named after
// the file's base name.
Result<Trace> LoadTrace(const std::string& path, size_t max_requests = 0);

}  // namespace ctxstore::bench
