// C++ client for ctxstore's native protocol (docs/protocol.md).
//
// A Client is safe to use from many threads: each call borrows a connection
// from an internal pool (opening one when none is idle) and returns it after
// the reply, so concurrent calls run on separate connections. Errors are
// values: every call returns a Status or a Result. A Client survives fork():
// the child's first call drops the pooled connections it inherited (they
// stay the parent's) and opens its own; a call must not be in flight in the
// forking thread.
//
// A Client works inside one namespace (ClientOptions::namespace_name), named
// at HELLO on every pooled connection: keys, groups, pins and leases of other
// namespaces are invisible to it. The namespace admin calls
// (CreateNamespace ... DeleteNamespace) are not scoped that way.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/namespace.h"
#include "ctxstore/objects.h"
#include "ctxstore/shared_memory.h"
#include "ctxstore/status.h"

namespace ctxstore {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  // A Unix-domain socket: when set, every connection goes to this path (a
  // server on this machine started with --unix PATH) and host and port are
  // not used. TLS is not offered there: the socket file's mode and the
  // token protect it.
  std::string unix_path;
  std::string client_name = "ctxstore-cpp";
  uint32_t connect_timeout_ms = 5000;
  uint32_t io_timeout_ms = 60000;      // per send/receive; the call fails with kUnavailable
  uint32_t max_idle_connections = 16;  // kept open in the pool for reuse
  bool verify_checksums = true;        // check each GET's XXH3 before returning bytes
  // Send each PUT's XXH3 with it; the server stores only a value that
  // matches (kCorrupt otherwise: damaged in transit, nothing stored).
  bool send_checksums = true;
  // Every key op runs in this namespace. One the server does not know makes
  // Connect fail with kNotFound (kUnauthorized for a token of another
  // namespace, whether it exists or not). Empty: the token's namespace, or
  // "default" for an admin token.
  std::string namespace_name;
  // Access token ("ctx_..."), sent at HELLO. Empty: none, which only a
  // server started with --no-auth accepts. A bad or revoked token fails
  // calls with kUnauthorized.
  std::string token;
  // TLS: set tls_ca_file (PEM) to connect over TLS 1.2+ and verify that the
  // server's certificate, signed by that CA, names `host`. A client
  // certificate and key (PEM) are for servers that require one (mutual
  // TLS). A failed handshake fails Connect with kUnavailable.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // TLS verified against the system's CA store (a ctxstores:// address);
  // tls_ca_file, when set, replaces the store and turns TLS on by itself.
  bool tls = false;
};

// Sets options->host, port, unix_path and tls from an address as users
// write it:
//   HOST:PORT, [IPv6]:PORT, HOST (port 7070)   plaintext TCP
//   ctxstore://HOST[:PORT]                      the same
//   ctxstores://HOST[:PORT]                     TLS (tls = true)
//   unix:///PATH                                a Unix-domain socket
// kInvalid, naming the address, for anything else; options unchanged then.
Status ParseServerAddress(std::string_view address, ClientOptions* options);
// The address back in the form above ("unix:///run/ctx.sock", "h:7070").
std::string FormatServerAddress(const ClientOptions& options);

struct PutOptions {
  bool sync = false;       // return only once the value is on flash and fdatasync'ed
  bool overwrite = false;  // replace an existing value instead of answering kExists
  // 0: the namespace's default TTL. Capped by the namespace's maximum.
  uint64_t ttl_ms = 0;
  std::string group;   // session tag for LIST, PIN and DeleteGroup ("" = none)
  std::string parent;  // key of the previous chunk of the same prefix ("" = none)
  std::string meta;    // opaque blob returned by GetWithMeta and Stat, <= 4096 bytes
  // BatchPut only: item i's parent is item i-1 (item 0's is `parent`).
  bool chain = false;
};

struct PutItem {
  std::string_view key;
  std::span<const uint8_t> value;
};

struct GetItem {
  StatusCode code = StatusCode::kOk;  // kOk, kNotFound, kCorrupt, kIoError
  std::string value;                  // set when code is kOk
};

// BatchGetInto: where item i's value goes.
struct GetIntoItem {
  std::string_view key;
  std::span<uint8_t> buffer;
};

struct GetIntoResult {
  // kOk; kNotFound; kTooLarge when the value does not fit in the buffer
  // (nothing is written then); kCorrupt (the buffer holds the damaged
  // bytes); kIoError.
  StatusCode code = StatusCode::kOk;
  uint64_t length = 0;  // the value's length: bytes written, or with kTooLarge the size needed
};

// GetInto's second form: called once the value's length is known; returns
// where to receive it (at least value_len bytes), or an error that fails
// the call (the value is drained, the connection kept).
using BufferProvider = std::function<Result<std::span<uint8_t>>(uint64_t value_len)>;

struct GetWithMetaResult {
  std::string value;
  std::string meta;  // as given to Put ("" when none)
};

struct PinOptions {
  bool by_group = false;  // the name is a group: pins its objects, present and future
  uint64_t ttl_ms = 0;    // the pin lapses by itself after this; 0 = never
  bool dram = false;      // keep (or load) the objects in DRAM
};

// An access token as TOKEN_LIST shows it (never the secret).
struct TokenInfo {
  std::string id;              // 16 hex digits: also the writer of the objects it stores
  std::string role;            // "read", "write" or "admin"
  std::string namespace_name;  // "*" for admin tokens
  std::string label;
  uint64_t created_ms = 0;
};

struct CreatedToken {
  TokenInfo info;
  std::string token;  // the secret; the server keeps only its hash
};

struct ServerInfo {
  uint16_t protocol_version = 0;
  uint64_t max_value_bytes = 0;
  uint32_t max_batch_keys = 0;
  uint64_t max_batch_bytes = 0;
  std::string server_version;
};

class Client {
 public:
  // Connects (HELLO included) so that a bad address fails here, not later.
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ServerInfo& server_info() const;

  // kExists when present and !overwrite. kNoSpace with a message starting
  // "no space: pinned" when the namespace's quota is held by pinned data.
  Status Put(std::string_view key, std::span<const uint8_t> value, const PutOptions& opts = {});
  Status Put(std::string_view key, std::string_view value, const PutOptions& opts = {});

  // The whole value, or kNotFound.
  Result<std::string> Get(std::string_view key);
  // Receives the value straight into buffer and returns its length. A value
  // larger than the buffer yields kTooLarge (message names the size needed).
  Result<size_t> GetInto(std::string_view key, std::span<uint8_t> buffer);
  // Receives the value into the memory provide(value_len) returns: for a
  // caller that allocates its own object of the right size (the Python
  // package's bytes), so the value is copied once, from the socket.
  Result<size_t> GetInto(std::string_view key, const BufferProvider& provide);
  // The value and the metadata blob stored with it.
  Result<GetWithMetaResult> GetWithMeta(std::string_view key);

  // The value's length, or kNotFound.
  Result<uint64_t> Exists(std::string_view key);
  Status Delete(std::string_view key, bool sync = false);

  // Per-item statuses in request order.
  Result<std::vector<StatusCode>> BatchPut(std::span<const PutItem> items,
                                           const PutOptions& opts = {});
  Result<std::vector<GetItem>> BatchGet(std::span<const std::string> keys);
  // BatchGet in one round trip with every value received straight into its
  // item's buffer (no copy, no allocation per value). Results in order.
  Result<std::vector<GetIntoResult>> BatchGetInto(std::span<const GetIntoItem> items);

  // ---- shared memory (connected with unix_path, to a server on this machine) ----

  // Makes memory eligible for the shared-memory path: from then on Put,
  // GetInto and BatchGetInto on bytes that lie inside it move no value bytes
  // over the socket; the server copies between its DRAM tier and the memory
  // (docs/protocol.md, "Shared memory"). Each pooled connection registers
  // it with the server on first use. kUnsupported unless connected over a
  // Unix socket. Registering the same memory twice is a no-op.
  Status Register(std::shared_ptr<SharedMemory> memory);
  // Calls stop using it at once; the server keeps its mapping until the
  // connections that registered it close.
  void Unregister(const SharedMemory& memory);
  Result<std::vector<bool>> BatchExists(std::span<const std::string> keys);
  // Number of leading keys present (longest stored prefix).
  Result<uint32_t> MatchPrefix(std::span<const std::string> keys);
  // MatchPrefix that also leases the matched objects for lease_ms: neither
  // eviction nor expiry removes them until ReleaseLease or the lease's end
  // (explicit deletes still do).
  //
  // A lease belongs to the pooled connection that took it, and the server
  // ends it when that connection closes: when the pool drops the connection
  // (more than max_idle_connections idle, a transport error, the server's
  // idle timeout) or the Client is destroyed. Leases are therefore a hint
  // for the time between a match and the reads that follow it, not a lock
  // to hold for long. ReleaseLease may run on any connection of the same
  // namespace, so it needs no particular one.
  Result<MatchResult> MatchPrefixLease(std::span<const std::string> keys, uint64_t lease_ms);
  // kNotFound when the lease is unknown or has already ended.
  Status ReleaseLease(uint64_t lease_id);

  Result<ObjectInfo> Stat(std::string_view key);
  // One page; follow next_cursor for the rest.
  Result<ListPage> List(const ListOptions& opts);

  // Pins a key (kNotFound when absent) or a group (its present and future
  // objects): pinned objects are not removed to make room (namespace quota,
  // flash reclaim), and with opts.dram they also stay in DRAM. Their TTL
  // still applies. Pins survive restarts. Returns the number of objects
  // pinned now.
  Result<uint64_t> Pin(std::string_view name, const PinOptions& opts = {});
  // kNotFound when there is no such pin.
  Status Unpin(std::string_view name, bool by_group = false);
  // Deletes every object of the group; the number deleted.
  Result<uint64_t> DeleteGroup(std::string_view group);

  // Namespace admin. Names are 1..64 bytes of [A-Za-z0-9._-]; "default"
  // always exists and cannot be deleted. Deleting a namespace deletes its
  // objects and pins.
  Status CreateNamespace(std::string_view name, const NamespaceSpec& spec = {});
  Status SetNamespace(std::string_view name, const NamespaceSpec& spec);
  Result<std::vector<NamespaceInfo>> ListNamespaces();
  Status DeleteNamespace(std::string_view name);

  // Token admin (an admin token only). role is "read" or "write" with a
  // namespace, or "admin" with none ("" or "*"). Revoking a token ends
  // the connections that use it at their next request.
  Result<CreatedToken> CreateToken(std::string_view role, std::string_view namespace_name,
                                   std::string_view label = {});
  Result<std::vector<TokenInfo>> ListTokens();
  Status RevokeToken(std::string_view id);

  // Returns once everything acknowledged before it is on flash and synced.
  Status Flush();
  // Server statistics as a JSON object (see docs/protocol.md).
  Result<std::string> StatsJson();

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxstore
