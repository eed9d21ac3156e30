#include "server/stream_io.h"

#include <algorithm>
#include <array>

#include "common/hash.h"

namespace ctxstore::server {
namespace {

constexpr uint64_t kHashPieceBytes = 256 << 10;
constexpr size_t kDiscardChunkBytes = 64 << 10;

}  // namespace

asio::awaitable<uint64_t> ReceiveHashed(Stream& stream, std::span<uint8_t> dst,
                                        uint64_t filled_bytes) {
  Xxh3Stream hash;
  hash.Update(dst.data(), filled_bytes);
  for (uint64_t done = filled_bytes; done < dst.size();) {
    const uint64_t n = std::min<uint64_t>(kHashPieceBytes, dst.size() - done);
    co_await asio::async_read(stream, asio::buffer(dst.data() + done, n), TransferAll(),
                              asio::use_awaitable);
    hash.Update(dst.data() + done, n);
    done += n;
  }
  co_return hash.Digest();
}

asio::awaitable<void> Discard(Stream& stream, uint64_t n) {
  // Dropped bytes: one scratch buffer per worker thread is enough.
  thread_local std::array<uint8_t, kDiscardChunkBytes> scratch;
  while (n > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n, scratch.size()));
    co_await asio::async_read(stream, asio::buffer(scratch.data(), k), TransferAll(),
                              asio::use_awaitable);
    n -= k;
  }
}

}  // namespace ctxstore::server
