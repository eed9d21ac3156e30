// Fuzzes the server's request handling below the socket: frames decoded and
// checked as the native front end does (src/server/connection*.cc), then
// served by the real service layer (src/service: Admit, the op table's
// handlers, the PUT/GET paths of put_ops.h and key_ops.h) over a real
// Engine on an in-memory device, with no thread: the flusher is stepped
// here (flusher_thread = false) and the clocks move only when told.
//
// Input: one control byte (fuzz_tokens.h: authentication on, a flusher step
// and a clock tick after each request), then frames, each a 32-byte header
// and body_len bytes, served one after another in one session, as from one
// connection: a HELLO (with a token of fuzz_tokens.h when authentication is
// on) and then ops. The session ends where the server would close the
// connection, or where the input ends (mid-frame: the peer went away).
//
// The store each input starts from has namespaces "default" and "tenant",
// the three tokens of fuzz_tokens.h and two objects in each namespace.
//
// Invariants: nothing crashes; every reply's header decodes, with the
// client's decoder (client/reply.h), as the answer to its request; an error
// reply carries a status the client knows and never kInternal (the service
// answering bad input with "a bug or an unexpected state"); an OK reply's
// body decodes as the client would decode it for that op (client_decode.h),
// with as many items as the request asked for, and every value served
// matches the XXH3 sent with it; a sync write or FLUSH reports durability
// once the flusher has run.
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/reply.h"
#include "engine/engine.h"
#include "fuzz/client_decode.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_tokens.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"
#include "service/key_ops.h"
#include "service/op_table.h"
#include "service/put_ops.h"
#include "service/service.h"
#include "service/session.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::fuzz {
namespace {

using engine::Engine;
using protocol::FrameHeader;
using protocol::Opcode;
using protocol::ParseStep;

constexpr uint64_t kNowMs = 1'700'000'000'000ull;
const char* const kDataDir = "/fuzz/data";

engine::EngineOptions StoreOptions(engine::Device* device, Env* env) {
  engine::EngineOptions o;
  o.data_dir = kDataDir;
  o.memory_bytes = 256 << 10;  // small: DRAM fills, and the arena costs little to map
  o.disk_bytes = 4 << 20;
  o.segment_bytes = 64 << 10;
  o.max_value_bytes = 64 << 10;
  o.sync_interval_ms = 10;
  o.device = device;
  o.env = env;
  o.flusher_thread = false;
  o.populate_dram = false;
  return o;
}

// ---- the store every input starts from, made once ----

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  FUZZ_CHECK(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kDigits[digest[i] >> 4]);
    out.push_back(kDigits[digest[i] & 15]);
  }
  return out;
}

void AddToken(Engine& engine, const std::string& token, engine::TokenRole role, uint32_t ns) {
  engine::AccessToken t;
  t.id = token.substr(4, engine::kTokenIdBytes);
  t.secret_hash = Sha256Hex(token);
  t.role = role;
  t.namespace_id = ns;
  t.label = "fuzz";
  t.created_ms = kNowMs;
  FUZZ_CHECK(engine.AddToken(t).ok());
}

void PutValue(Engine& engine, uint32_t ns, std::string_view key, std::string_view value,
              std::string group) {
  engine::WriteOptions w;
  w.namespace_id = ns;
  w.group = std::move(group);
  w.meta = "{\"fuzz\":1}";
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  FUZZ_CHECK(engine.Put(key, bytes, w).ok());
}

// The store's files after it was set up and closed.
std::map<std::string, std::string> MakeStore() {
  engine::MemDevice device;
  ManualEnv env(kNowMs);
  auto engine = Engine::Open(StoreOptions(&device, &env));
  FUZZ_CHECK(engine.ok());
  Engine& e = **engine;
  auto tenant = e.CreateNamespace(kTenantNamespace, {});
  FUZZ_CHECK(tenant.ok());
  AddToken(e, AdminToken(), engine::TokenRole::kAdmin, engine::kAllNamespaces);
  AddToken(e, WriteToken(), engine::TokenRole::kWrite, *tenant);
  AddToken(e, ReadToken(), engine::TokenRole::kRead, *tenant);
  for (uint32_t ns : {engine::kDefaultNamespaceId, *tenant}) {
    PutValue(e, ns, "k", "value of k", "g");
    PutValue(e, ns, "prefix/1", std::string(5000, 'v'), "");
  }
  FUZZ_CHECK(e.Close().ok());
  std::map<std::string, std::string> files;
  auto names = device.ListDir(kDataDir);
  FUZZ_CHECK(names.ok());
  for (const std::string& name : *names) {
    auto data = device.ReadFile(std::string(kDataDir) + "/" + name);
    FUZZ_CHECK(data.ok());
    files[name] = std::move(*data);
  }
  return files;
}

// ---- one session ----

// A durability report the session waits for by stepping the flusher.
struct Durable {
  bool done = false;
  Status status;
};

engine::DurableCallback CallbackOf(const std::shared_ptr<Durable>& d) {
  return [d](Status st) {
    FUZZ_CHECK(!d->done);  // at most once
    d->done = true;
    d->status = std::move(st);
  };
}

class FuzzDurableWait final : public service::DurableWait {
 public:
  engine::DurableCallback Arm() override {
    FUZZ_CHECK(armed_ == nullptr);  // at most once a request
    armed_ = std::make_shared<Durable>();
    return CallbackOf(armed_);
  }
  const std::shared_ptr<Durable>& armed() const { return armed_; }

 private:
  std::shared_ptr<Durable> armed_;
};

class FuzzSession {
 public:
  FuzzSession(const service::Service& service, Engine& engine, ManualEnv& env, uint8_t control,
              std::string_view input)
      : service_(service),
        engine_(engine),
        env_(env),
        control_(control),
        in_(input),
        session_(service, "fuzz:1") {}

  void Run() {
    while (ServeOne()) {
      if (control_ & kServiceStepFlusher) engine_.RunFlusherOnce();
      if (control_ & kServiceTick) env_.AdvanceMs(1000);
    }
  }

 private:
  // Mirrors Connection::ServeOne: false where the server closes.
  bool ServeOne() {
    if (in_.size() < protocol::kHeaderSize) return false;
    protocol::HeaderBytes raw;
    std::memcpy(raw.data(), in_.data(), raw.size());
    in_.remove_prefix(raw.size());
    protocol::DecodedHeader d = protocol::DecodeHeader(raw);
    req_ = d.header;
    items_ = 0;
    switch (d.error) {
      case protocol::HeaderError::kBadMagic:
      case protocol::HeaderError::kBadVersion:
        ReplyUnchecked(StatusCode::kUnsupported);
        return false;
      case protocol::HeaderError::kUnknownOpcode:
        ReplyUnchecked(StatusCode::kUnsupported);
        return req_.body_len <= service_.limits().max_small_body_bytes && Skip(req_.body_len);
      case protocol::HeaderError::kNone:
        break;
    }
    if (Status st = protocol::CheckBodyLength(req_, service_.limits()); !st.ok()) {
      Reply(st);
      return false;
    }
    if (req_.body_len > in_.size()) return false;  // the peer went away mid-frame
    std::string_view body = in_.substr(0, req_.body_len);
    in_.remove_prefix(req_.body_len);
    if ((req_.flags & ~protocol::kKnownFlags) != 0) {
      Reply(Status::Invalid("unknown flags"));
      return true;
    }
    if (Status access = service_.Admit(session_, req_.opcode); !access.ok()) {
      Reply(access);
      return !session_.closing();
    }
    const service::OpSpec& op = *service::FindOp(req_.opcode);
    switch (op.body) {
      case service::BodyKind::kSmall:
        return ServeSmallBody(op, body);
      case service::BodyKind::kPutValue:
        return ServePut(body);
      case service::BodyKind::kPutValues:
        return ServeBatchPut(body);
      case service::BodyKind::kGetValue:
        return ServeGet(body);
      case service::BodyKind::kGetValues:
        return ServeBatchGet(body);
      case service::BodyKind::kShm:
        // What the front end answers on a connection that is not a Unix
        // socket; the shared-memory handlers have their own tests
        // (tests/integration/shm_test.cc).
        Reply(Status::Invalid("shared memory needs a Unix-socket connection"));
        return true;
    }
    return false;
  }

  bool Skip(uint64_t n) {
    if (n > in_.size()) return false;
    in_.remove_prefix(n);
    return true;
  }

  bool ServeSmallBody(const service::OpSpec& op, std::string_view body) {
    items_ = ItemsOf(body);
    FuzzDurableWait durable;
    service::NativeRequest request;
    request.flags = req_.flags;
    request.body = body;
    request.durable = &durable;
    service::NativeReply reply = op.handler(service_, session_, request);
    if (reply.status.ok() && durable.armed()) reply.status = Wait(durable.armed());
    if (reply.status.ok()) {
      ReplyOk(reply.body);
    } else {
      Reply(reply.status);
    }
    return !session_.closing();
  }

  // The number of keys a batch request carries, for checking its reply.
  size_t ItemsOf(std::string_view body) const {
    const uint32_t max_keys = service_.limits().max_batch_keys;
    if (req_.opcode == Opcode::kBatchExists) {
      auto keys = protocol::DecodeKeyList(body, max_keys);
      return keys.ok() ? keys->size() : 0;
    }
    if (req_.opcode == Opcode::kMatchPrefix) {
      const bool ext = (req_.flags & protocol::kFlagExt) != 0;
      auto m = protocol::DecodeMatchPrefixRequest(body, ext, max_keys);
      return m.ok() ? m->keys.size() : 0;
    }
    return 0;
  }

  // Steps the flusher (and the clocks, for its sync interval) until the
  // report comes; it must come.
  Status Wait(const std::shared_ptr<Durable>& d) {
    for (int i = 0; i < 1000 && !d->done; ++i) {
      if (!engine_.RunFlusherOnce()) env_.AdvanceMs(10);
    }
    FUZZ_CHECK(d->done);
    return d->status;
  }

  // Feeds a parser the body's bytes as it asks for them.
  template <typename Parser>
  Result<ParseStep> Feed(Parser& parser, std::string_view body, size_t* pos) {
    for (;;) {
      auto step = parser.Next();
      if (!step.ok() || *step != ParseStep::kRead) return step;
      std::span<uint8_t> space = parser.Space();
      FUZZ_CHECK(space.size() <= body.size() - *pos);
      std::memcpy(space.data(), body.data() + *pos, space.size());
      *pos += space.size();
    }
  }

  bool ServePut(std::string_view body) {
    protocol::PutPrefixParser parser(req_.flags, req_.body_len);
    size_t pos = 0;
    auto step = Feed(parser, body, &pos);
    if (!step.ok()) {
      Reply(step.status());
      return true;
    }
    engine::WriteOptions opts = service::WriteOptionsFor(session_, req_.flags, parser.options());
    opts.expected_xxh3 = parser.xxh3();
    FUZZ_CHECK(parser.remaining() == body.size() - pos);
    std::vector<std::shared_ptr<Durable>> waiters;
    Status st = ReceiveValue(parser.key(), body.substr(pos), opts, &waiters);
    for (auto& w : waiters) st = Wait(w);
    Reply(st);
    return true;
  }

  bool ServeBatchPut(std::string_view body) {
    protocol::BatchPutParser parser(req_.flags, req_.body_len, service_.limits().max_batch_keys);
    size_t pos = 0;
    std::vector<StatusCode> codes;
    std::vector<std::shared_ptr<Durable>> waiters;
    engine::WriteOptions opts;
    for (;;) {
      auto step = Feed(parser, body, &pos);
      if (!step.ok()) {
        Reply(step.status());
        return !parser.fatal();
      }
      if (*step == ParseStep::kDone) break;
      const protocol::BatchPutItem& item = parser.item();
      if (parser.index() == 0) opts = service::WriteOptionsFor(session_, req_.flags, parser.options());
      opts.expected_xxh3 = item.xxh3;
      FUZZ_CHECK(item.value_len <= body.size() - pos);
      Status st = ReceiveValue(item.key, body.substr(pos, item.value_len), opts, &waiters);
      pos += item.value_len;
      codes.push_back(st.code());
      service::LinkNextItem(parser.options(), item.key, &opts);
    }
    FUZZ_CHECK(pos == body.size() && codes.size() == parser.count());
    size_t w = 0;
    for (StatusCode& code : codes) {
      if (code == StatusCode::kOk && w < waiters.size()) code = Wait(waiters[w++]).code();
    }
    items_ = codes.size();
    ReplyOk(protocol::EncodeStatusList(codes));
    return true;
  }

  Status ReceiveValue(std::string_view key, std::string_view value,
                      const engine::WriteOptions& opts,
                      std::vector<std::shared_ptr<Durable>>* waiters) {
    auto hold = service_.inflight().Reserve(value.size());
    if (!hold.ok()) return hold.status();
    auto r = service::BeginPut(service_, key, value.size(), opts);
    if (!r.ok()) return r.status();
    std::span<uint8_t> dst = r->buffer();
    FUZZ_CHECK(dst.size() == value.size());
    if (!value.empty()) std::memcpy(dst.data(), value.data(), value.size());
    std::shared_ptr<Durable> waiter;
    if (opts.sync) waiter = std::make_shared<Durable>();
    Status st =
        service::CommitPut(service_, std::move(*r), waiter ? CallbackOf(waiter) : nullptr);
    if (st.ok() && waiter) waiters->push_back(std::move(waiter));
    return st;
  }

  Result<engine::ValueRef> GetValue(std::string_view key) {
    auto value = service::Get(service_, session_, key, /*never_block=*/true);
    if (value.status().code() != StatusCode::kBusy) return value;
    return service::ReadFromFlash(service_, session_.namespace_id(), key);
  }

  bool ServeGet(std::string_view body) {
    auto key = protocol::DecodeKey(body);
    if (!key.ok()) {
      Reply(key.status());
      return true;
    }
    auto value = GetValue(*key);
    if (!value.ok()) {
      Reply(value.status());
      return true;
    }
    const bool ext = (req_.flags & protocol::kFlagExt) != 0;
    std::string_view meta;
    if (ext && value->meta) meta = value->meta->meta;
    protocol::GetReplyHead head;
    head.xxh3 = value->xxh3;
    head.meta_len = static_cast<uint16_t>(meta.size());
    const protocol::GetReplyHeadBytes head_bytes = protocol::EncodeGetReplyHead(head, ext);
    std::string reply(reinterpret_cast<const char*>(head_bytes.data()),
                      protocol::GetReplyHeadSize(ext));
    reply.append(meta);
    reply.append(reinterpret_cast<const char*>(value->data), value->size);
    ReplyOk(reply);
    return true;
  }

  bool ServeBatchGet(std::string_view body) {
    auto keys = protocol::DecodeKeyList(body, service_.limits().max_batch_keys);
    if (!keys.ok()) {
      Reply(keys.status());
      return true;
    }
    std::string reply;
    protocol::AppendCount(&reply, static_cast<uint32_t>(keys->size()));
    service::BatchGetBudget budget(service_.limits().max_batch_bytes);
    for (std::string_view key : *keys) {
      StatusCode code = budget.Before(service::Exists(service_, session_, key));
      engine::ValueRef value;
      if (code == StatusCode::kOk) {
        auto v = GetValue(key);
        code = budget.Take(v);
        if (code == StatusCode::kOk) value = std::move(*v);
      }
      protocol::AppendBatchGetItemHeader(&reply, code, value.size, value.xxh3);
      if (value.size > 0) reply.append(reinterpret_cast<const char*>(value.data), value.size);
    }
    items_ = keys->size();
    ReplyOk(reply);
    return true;
  }

  // ---- replies, checked as the client reads them ----

  protocol::HeaderBytes ReplyHeader(StatusCode code, size_t body_len) const {
    FrameHeader h;
    h.opcode = req_.opcode;
    h.request_id = req_.request_id;
    h.status = code;
    h.body_len = body_len;
    return protocol::EncodeHeader(h);
  }

  // A refused header: the reply echoes what could be read of it, which the
  // client (which sent a valid one) never sees.
  void ReplyUnchecked(StatusCode code) { (void)ReplyHeader(code, 0); }

  void Reply(const Status& st) {
    if (st.ok()) return ReplyOk("");
    const std::string& message = st.message();
    auto h = client::DecodeReplyHeader(ReplyHeader(st.code(), message.size()), req_.opcode,
                                       req_.request_id);
    FUZZ_CHECK(h.ok());
    Status decoded = client::DecodeErrorReply(*h, message);
    if (decoded.code() == StatusCode::kInternal) {
      std::fprintf(stderr, "%s answered %s\n", std::string(protocol::OpcodeName(req_.opcode)).c_str(),
                   st.ToString().c_str());
    }
    FUZZ_CHECK(decoded.code() == st.code() && decoded.message() == message);
    FUZZ_CHECK(decoded.code() != StatusCode::kInternal);
  }

  void ReplyOk(std::string_view body) {
    auto h = client::DecodeReplyHeader(ReplyHeader(StatusCode::kOk, body.size()), req_.opcode,
                                       req_.request_id);
    FUZZ_CHECK(h.ok() && h->status == StatusCode::kOk && h->body_len == body.size());
    h->flags = req_.flags;  // the client knows what it asked for (EXT)
    Status decoded = DecodeOkReply(*h, body, items_);
    if (!decoded.ok()) {
      std::fprintf(stderr, "%s reply does not decode: %s\n",
                   std::string(protocol::OpcodeName(req_.opcode)).c_str(),
                   decoded.ToString().c_str());
    }
    FUZZ_CHECK(decoded.ok());
  }

  const service::Service& service_;
  Engine& engine_;
  ManualEnv& env_;
  const uint8_t control_;
  std::string_view in_;
  service::Session session_;
  FrameHeader req_;
  size_t items_ = 0;  // keys or items of the request being served
};

const std::map<std::string, std::string>* store = nullptr;

}  // namespace
}  // namespace ctxstore::fuzz

// ASan keeps freed memory poisoned in a quarantine (256 MiB by default) so
// that a use after free is caught; an input here allocates and frees
// megabytes (an engine opened, read and closed, its buffers and copies of
// the files), so with the default every input's allocations came from fresh
// pages: page faults and ASan's allocator refills were about half of an
// input's time (perf, docs/security.md "Fuzzing"). 16 MiB still holds what
// several inputs freed. ASAN_OPTIONS (scripts/fuzz.sh) adds to this.
extern "C" const char* __asan_default_options() {
  return "quarantine_size_mb=16";
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  ctxstore::fuzz::store = new std::map<std::string, std::string>(ctxstore::fuzz::MakeStore());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore;
  using namespace ctxstore::fuzz;
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  engine::MemDevice device;
  for (const auto& [name, bytes] : *store) device.SetFile(std::string(kDataDir) + "/" + name, bytes);
  ManualEnv env(kNowMs);
  auto engine = engine::Engine::Open(StoreOptions(&device, &env));
  FUZZ_CHECK(engine.ok());
  service::ServiceOptions so;
  so.auth = (control & kServiceAuth) != 0;
  {
    service::Service service(engine->get(), so);
    FuzzSession session(service, **engine, env, control, input);
    session.Run();
  }
  FUZZ_CHECK((*engine)->Close().ok());
  return 0;
}
