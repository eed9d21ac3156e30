// Reads every front end (Redis, lm://) does on its Stream the same way: a
// value received into its arena block a piece at a time, each piece hashed
// while it is still in the core's cache (hashing 4 MiB after the fact reads
// it back from L3 or DRAM at about half the speed), and bytes read only to
// be dropped. The native connection reads through its read-ahead instead
// (connection_io.cc).
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <span>
#include <system_error>

#include "server/stream.h"

namespace ctxstore::server {

// Completion condition for asio::async_read/async_write: asio's default
// (transfer_all) caps every read_some/write_some at 64 KiB, so a 4 MiB value
// took 64 system calls and as many reactor round trips. This one lets each
// call move as much as the kernel takes.
struct TransferAll {
  size_t operator()(const std::error_code& ec, size_t /*transferred*/) const {
    return ec ? 0 : kMaxBytesPerCall;
  }
  static constexpr size_t kMaxBytesPerCall = size_t{1} << 30;
};

// Fills dst[filled_bytes..] from the stream (dst[0..filled_bytes) already
// holds bytes that arrived earlier) and returns the XXH3 of all of dst.
asio::awaitable<uint64_t> ReceiveHashed(Stream& stream, std::span<uint8_t> dst,
                                        uint64_t filled_bytes);
// Reads n bytes and drops them (a refused value: framing is kept).
asio::awaitable<void> Discard(Stream& stream, uint64_t n);

}  // namespace ctxstore::server
