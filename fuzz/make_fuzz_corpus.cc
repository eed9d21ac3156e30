// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from
// the real encoders and the real engine, so that every seed is a valid input
// the fuzzer mutates from:
//   make_fuzz_corpus fuzz/corpus
// The output is deterministic (fixed clock, ids and values, and engines
// without a flusher thread, so that records batch into segments the same
// way every run: running it on a clean checkout changes no file); the seeds are
// committed, and this is run again when a format changes.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "engine/engine.h"
#include "engine/flash/checkpoint.h"
#include "engine/flash/record.h"
#include "engine/flash/segment.h"
#include "fuzz/fuzz_key.h"
#include "fuzz/fuzz_tokens.h"
#include "protocol/admin_bodies.h"
#include "protocol/frame.h"
#include "protocol/shm_bodies.h"
#include "protocol/messages.h"
#include "protocol/namespace_bodies.h"
#include "protocol/put_body.h"
#include "protocol/read_ops.h"
#include "testing/manual_env.h"

namespace ctxstore {
namespace {

namespace fs = std::filesystem;

// Must match fuzz/recovery_fuzzer.cc.
constexpr uint64_t kStoreId = 0x5eed5eed5eed5eedull;
constexpr uint64_t kSegmentId = 1;
constexpr uint64_t kNowMs = 1'700'000'000'000ull;

void WriteSeed(const fs::path& dir, const std::string& name, std::string_view bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

// The generator's engine calls must succeed: a seed of a failed write is no seed.
void Must(const Status& st) {
  if (!st.ok()) {
    std::fprintf(stderr, "make_fuzz_corpus: %s\n", st.ToString().c_str());
    std::exit(1);
  }
}

// ---- frame_fuzzer: selector byte, then a frame or the bytes of one decoder.

std::string Frame(uint8_t selector, protocol::Opcode op, uint16_t flags, std::string_view body) {
  protocol::FrameHeader h;
  h.opcode = op;
  h.flags = flags;
  h.request_id = 7;
  h.body_len = body.size();
  protocol::HeaderBytes header = protocol::EncodeHeader(h);
  std::string out(1, static_cast<char>(selector));
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  out.append(body);
  return out;
}

ObjectInfo SampleInfo(std::string key) {
  ObjectInfo info;
  info.key = std::move(key);
  info.value_len = 4096;
  info.value_xxh3 = 0x1234;
  info.created_ms = kNowMs;
  info.in_dram = true;
  info.on_flash = true;
  info.group = "session-1";
  info.parent = "prefix/0";
  info.writer = "client-a";
  info.meta = "{\"dtype\":\"fp16\"}";
  return info;
}

// kPutPrefix / kBatchPutBody: a u16 of request flags, then a body.
std::string ParserSeed(uint8_t selector, uint16_t flags, std::string_view body) {
  std::string out(1, static_cast<char>(selector));
  out.append(reinterpret_cast<const char*>(&flags), sizeof(flags));
  out.append(body);
  return out;
}

void WriteParserSeeds(const fs::path& dir, const protocol::PutOptionsBlock& options) {
  using namespace protocol;
  constexpr uint8_t kPutPrefix = 5, kBatchPutBody = 6, kGetReplyHead = 7;
  const uint16_t all = kFlagChecksum | kFlagExt;
  WriteSeed(dir, "put-prefix",
            ParserSeed(kPutPrefix, 0, EncodePutPrefix("prefix/1", std::nullopt, nullptr) + "v"));
  WriteSeed(dir, "put-prefix-checksum-ext",
            ParserSeed(kPutPrefix, all, EncodePutPrefix("prefix/1", 0x1234, &options) + "value"));
  std::string batch = EncodeBatchPutHead(2, &options);
  AppendBatchPutItemHeader(&batch, "prefix/0", 3, 0x11);
  batch += "abc";
  AppendBatchPutItemHeader(&batch, "prefix/1", 0, 0x22);
  WriteSeed(dir, "batch-put-body-checksum-ext", ParserSeed(kBatchPutBody, all, batch));
  std::string plain = EncodeBatchPutHead(1, nullptr);
  AppendBatchPutItemHeader(&plain, "k", 2, std::nullopt);
  plain += "xy";
  WriteSeed(dir, "batch-put-body", ParserSeed(kBatchPutBody, 0, plain));
  GetReplyHead head{0xabcdef, 5};
  GetReplyHeadBytes head_bytes = EncodeGetReplyHead(head, /*ext=*/true);
  WriteSeed(dir, "get-reply-head-ext",
            std::string(1, kGetReplyHead) + std::string(1, 1) +
                std::string(reinterpret_cast<const char*>(head_bytes.data()), head_bytes.size()) +
                "meta!value");
}

// The shared-memory ops' requests and replies (protocol/shm_bodies.h).
void WriteShmSeeds(const fs::path& dir, const protocol::PutOptionsBlock& options) {
  using namespace protocol;
  constexpr uint8_t kRequest = 0, kReply = 1;
  WriteSeed(dir, "request-shm-register", Frame(kRequest, Opcode::kShmRegister, 0,
                                               EncodeShmRegister(4 << 20)));
  WriteSeed(dir, "request-shm-unregister",
            Frame(kRequest, Opcode::kShmUnregister, 0, EncodeRegionId(1)));
  WriteSeed(dir, "request-shm-get",
            Frame(kRequest, Opcode::kShmGet, 0, EncodeShmGet("prefix/1", {1, 4096, 1 << 20})));
  WriteSeed(dir, "request-shm-put-ext",
            Frame(kRequest, Opcode::kShmPut, kFlagExt | kFlagSync,
                  EncodeShmPut("prefix/1", {1, 0, 1 << 20}, &options)));
  WriteSeed(dir, "reply-shm-register", Frame(kReply, Opcode::kShmRegister, 0, EncodeRegionId(7)));
  WriteSeed(dir, "reply-shm-get",
            Frame(kReply, Opcode::kShmGet, 0, EncodeShmGetReply({1 << 20, 0xabcdef})));
}

// The ops whose bodies had no seeds: TOKEN_*, NS_CREATE, NS_SET, and the
// replies of GET, BATCH_EXISTS, MATCH_PREFIX, STATS and NS_LIST.
void WriteNewOpSeeds(const fs::path& dir) {
  using namespace protocol;
  constexpr uint8_t kRequest = 0, kReply = 1;
  TokenCreateRequest create{"write", "tenant", "ci"};
  WriteSeed(dir, "request-token-create",
            Frame(kRequest, Opcode::kTokenCreate, 0, EncodeTokenCreateRequest(create)));
  WriteSeed(dir, "request-token-list", Frame(kRequest, Opcode::kTokenList, 0, ""));
  WriteSeed(dir, "request-token-revoke",
            Frame(kRequest, Opcode::kTokenRevoke, 0, EncodeString("00000000000000aa")));
  TokenInfoWire info{"00000000000000aa", "write", "tenant", "ci", kNowMs};
  TokenCreateReply created{info, "ctx_00000000000000aa_" + std::string(64, 'b')};
  WriteSeed(dir, "reply-token-create",
            Frame(kReply, Opcode::kTokenCreate, 0, EncodeTokenCreateReply(created)));
  std::vector<TokenInfoWire> tokens = {info, {"00000000000000bb", "admin", "*", "", kNowMs}};
  WriteSeed(dir, "reply-token-list", Frame(kReply, Opcode::kTokenList, 0, EncodeTokenList(tokens)));
  GetReplyHeadBytes head = EncodeGetReplyHead({Xxh3("value", 5), 4}, /*ext=*/true);
  std::string get(reinterpret_cast<const char*>(head.data()), GetReplyHeadSize(true));
  WriteSeed(dir, "reply-get-ext", Frame(kReply, Opcode::kGet, kFlagExt, get + "metavalue"));
  WriteSeed(dir, "reply-batch-exists",
            Frame(kReply, Opcode::kBatchExists, 0, EncodeBatchExistsReply({true, false, true})));
  WriteSeed(dir, "reply-match-prefix-lease",
            Frame(kReply, Opcode::kMatchPrefix, kFlagExt, EncodeMatchPrefixReply({2, 77}, true)));
  std::vector<StatsField> stats = {{"objects", 3}, {"recovered_from_checkpoint", 1, true}};
  WriteSeed(dir, "reply-stats", Frame(kReply, Opcode::kStats, 0, EncodeStatsReply(stats)));
  NamespaceSpec spec;
  spec.quota_bytes = 1 << 30;
  spec.priority = 2;
  spec.require_model_fingerprint = true;
  WriteSeed(dir, "request-ns-create",
            Frame(kRequest, Opcode::kNsCreate, 0, EncodeNamespaceRequest("tenant", spec)));
  NamespaceSpec key;
  key.encryption_key = "k1";
  WriteSeed(dir, "request-ns-set",
            Frame(kRequest, Opcode::kNsSet, 0, EncodeNamespaceRequest("tenant", key)));
  std::vector<NamespaceInfo> namespaces(2);
  namespaces[0].name = "default";
  namespaces[1] = {1, "tenant", {}, 10, 4096, 2};
  namespaces[1].config.max_pins = 5;
  WriteSeed(dir, "reply-ns-list",
            Frame(kReply, Opcode::kNsList, 0, EncodeNamespaceList(namespaces)));
}

void WriteFrameSeeds(const fs::path& dir) {
  using namespace protocol;
  constexpr uint8_t kRequest = 0, kReply = 1, kPutOptions = 2, kInfoStream = 3, kItemHeader = 4;

  WriteSeed(
      dir, "request-hello",
      Frame(kRequest, Opcode::kHello, 0, EncodeHelloRequest({kVersion, "fuzz-client", "tenant"})));
  std::string put = EncodeKey("prefix/1") + "value";
  WriteSeed(dir, "request-put", Frame(kRequest, Opcode::kPut, kFlagSync, put));
  PutOptionsBlock options{60'000, kPutFlagChain, "session-1", "prefix/0", "meta"};
  std::string put_ext = EncodeKey("prefix/1") + EncodePutOptions(options) + "value";
  WriteSeed(dir, "request-put-ext", Frame(kRequest, Opcode::kPut, kFlagExt, put_ext));
  WriteSeed(dir, "request-get", Frame(kRequest, Opcode::kGet, 0, EncodeKey("prefix/1")));
  WriteSeed(dir, "request-exists", Frame(kRequest, Opcode::kExists, 0, EncodeKey("k")));
  WriteSeed(dir, "request-delete", Frame(kRequest, Opcode::kDelete, kFlagSync, EncodeKey("k")));
  std::string batch_put;
  ByteWriter(&batch_put).Put(uint32_t{2});
  batch_put += EncodeBatchPutItemHeader("a", 3) + "abc" + EncodeBatchPutItemHeader("b", 0);
  WriteSeed(dir, "request-batch-put", Frame(kRequest, Opcode::kBatchPut, 0, batch_put));
  std::string batch_put_ext;
  ByteWriter(&batch_put_ext).Put(uint32_t{1});
  batch_put_ext += EncodePutOptions(options) + EncodeBatchPutItemHeader("a", 2) + "xy";
  WriteSeed(dir, "request-batch-put-ext",
            Frame(kRequest, Opcode::kBatchPut, kFlagExt, batch_put_ext));
  std::vector<std::string> keys = {"prefix/0", "prefix/1", "prefix/2"};
  WriteSeed(dir, "request-batch-get", Frame(kRequest, Opcode::kBatchGet, 0, EncodeKeyList(keys)));
  WriteSeed(dir, "request-batch-exists",
            Frame(kRequest, Opcode::kBatchExists, 0, EncodeKeyList(keys)));
  WriteSeed(dir, "request-match-prefix",
            Frame(kRequest, Opcode::kMatchPrefix, 0, EncodeKeyList(keys)));
  WriteSeed(
      dir, "request-match-prefix-lease",
      Frame(kRequest, Opcode::kMatchPrefix, kFlagExt, EncodeMatchPrefixRequest(keys, true, 5000)));
  WriteSeed(dir, "request-flush", Frame(kRequest, Opcode::kFlush, 0, ""));
  WriteSeed(dir, "request-stats", Frame(kRequest, Opcode::kStats, 0, ""));
  WriteSeed(dir, "request-release", Frame(kRequest, Opcode::kRelease, 0, EncodeU64(42)));
  WriteSeed(dir, "request-stat", Frame(kRequest, Opcode::kStat, 0, EncodeKey("prefix/1")));
  WriteSeed(dir, "request-list",
            Frame(kRequest, Opcode::kList, 0, EncodeListRequest({"prefix/", "session-1", "", 10})));
  WriteSeed(dir, "request-pin",
            Frame(kRequest, Opcode::kPin, 0, EncodePinRequest({true, "session-1", 1000, true})));
  WriteSeed(dir, "request-unpin",
            Frame(kRequest, Opcode::kUnpin, 0, EncodeUnpinRequest(false, "prefix/1")));
  WriteSeed(dir, "request-delete-group",
            Frame(kRequest, Opcode::kDeleteGroup, 0, EncodeString("session-1")));
  WriteSeed(dir, "request-ns-delete", Frame(kRequest, Opcode::kNsDelete, 0, EncodeString("t")));
  // A header alone with an oversized body length (CheckBodyLength).
  protocol::FrameHeader big;
  big.opcode = Opcode::kPut;
  big.body_len = 1ull << 40;
  HeaderBytes big_header = EncodeHeader(big);
  WriteSeed(dir, "request-put-too-large",
            std::string(1, kRequest) +
                std::string(reinterpret_cast<const char*>(big_header.data()), big_header.size()));

  WriteSeed(
      dir, "reply-hello",
      Frame(kReply, Opcode::kHello, 0, EncodeHelloReply({kVersion, 1 << 20, 64, 1 << 24, "0.1"})));
  std::vector<StatusCode> codes = {StatusCode::kOk, StatusCode::kExists};
  WriteSeed(dir, "reply-batch-put", Frame(kReply, Opcode::kBatchPut, 0, EncodeStatusList(codes)));
  std::string info;
  EncodeObjectInfo(SampleInfo("prefix/1"), &info);
  WriteSeed(dir, "reply-stat", Frame(kReply, Opcode::kStat, 0, info));
  ListPage list;
  list.items = {SampleInfo("prefix/1"), SampleInfo("prefix/2")};
  list.next_cursor = "prefix/2";
  WriteSeed(dir, "reply-list", Frame(kReply, Opcode::kList, 0, EncodeListReply(list)));
  WriteSeed(dir, "reply-exists", Frame(kReply, Opcode::kExists, 0, EncodeU64(4096)));
  std::string batch_get;
  ByteWriter(&batch_get).Put(uint32_t{2});
  batch_get += EncodeBatchGetItemHeader(StatusCode::kOk, 3, Xxh3("abc", 3)) + "abc";
  batch_get += EncodeBatchGetItemHeader(StatusCode::kNotFound, 0, 0);
  WriteSeed(dir, "reply-batch-get", Frame(kReply, Opcode::kBatchGet, 0, batch_get));

  WriteSeed(dir, "put-options", std::string(1, kPutOptions) + EncodePutOptions(options));
  std::string infos;
  EncodeObjectInfo(SampleInfo("a"), &infos);
  EncodeObjectInfo(SampleInfo("b"), &infos);
  WriteSeed(dir, "object-info-stream", std::string(1, kInfoStream) + infos);
  WriteSeed(dir, "batch-get-item-header",
            std::string(1, kItemHeader) + EncodeBatchGetItemHeader(StatusCode::kOk, 10, 99));
  WriteParserSeeds(dir, options);
  WriteNewOpSeeds(dir);
  WriteShmSeeds(dir, options);
}

// ---- record_fuzzer: control byte (parser, kKeepChecksums = 4), then bytes.

std::string RecordBytes(uint16_t flags, std::string_view key, const engine::ObjectMeta* meta,
                        std::string_view value, uint16_t version = engine::kRecordFormatVersion) {
  using namespace engine;
  std::string ext = version >= 2 ? EncodeRecordAttrs(meta) : "";
  RecordHeader h = MakeRecordHeader(flags, 9, kNowMs, 0, 0, key, ext, value.size(),
                                    Xxh3(value.data(), value.size()), version);
  RecordLayout layout = ComputeLayout(key.size() + ext.size(), value.size(), version);
  std::vector<uint8_t> head(layout.head_len());
  auto value_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()),
                                              layout.packed ? value.size() : 0);
  EncodeRecordHead(h, key, ext, value_bytes, head);
  std::string out(reinterpret_cast<const char*>(head.data()), head.size());
  if (!layout.packed) {
    out.resize(layout.value_offset, '\0');
    out.append(value);
    out.resize(layout.record_len, '\0');
  }
  return out;
}

void WriteRecordSeeds(const fs::path& dir) {
  using namespace engine;
  constexpr char kRecord = 0, kSegmentHeader = 1, kSuperblock = 2, kExt = 3;
  ObjectMeta meta{"session-1", "prefix/0", "client-a", "{\"dtype\":\"fp16\"}"};
  WriteSeed(dir, "record-packed", kRecord + RecordBytes(0, "prefix/1", nullptr, "small value"));
  WriteSeed(dir, "record-packed-ext", kRecord + RecordBytes(0, "prefix/1", &meta, "value"));
  WriteSeed(dir, "record-tombstone",
            kRecord + RecordBytes(kRecordFlagTombstone, "prefix/1", nullptr, ""));
  // Formats 1 and 2 round records up to 4 KiB; the parser needs the head only.
  WriteSeed(dir, "record-format1", kRecord + RecordBytes(0, "k", nullptr, "v1", 1).substr(0, 128));
  WriteSeed(dir, "record-format2", kRecord + RecordBytes(0, "k", &meta, "v2", 2).substr(0, 256));
  // A large record's head: the value is 4 KiB-aligned after it. Only the
  // head is kept (the parser reads no further), and a variant whose header
  // checksum the fuzzer leaves as it is.
  std::string large = RecordBytes(0, "large", &meta, std::string(80 * 1024, 'x'));
  WriteSeed(dir, "record-large-head", kRecord + large.substr(0, 1024));
  WriteSeed(dir, "record-large-head-keep", char(kRecord | 4) + large.substr(0, 1024));
  SegmentHeader sh = MakeSegmentHeader(kSegmentId, kNowMs, kStoreId);
  WriteSeed(dir, "segment-header",
            kSegmentHeader + std::string(reinterpret_cast<const char*>(&sh), sizeof(sh)));
  WriteSeed(dir, "superblock", kSuperblock + EncodeSuperblock(kStoreId, kNowMs));
  WriteSeed(dir, "ext", kExt + EncodeRecordAttrs(&meta));

  // Regressions: inputs that broke a parser's invariants before its fix.
  // An ext of four empty strings (the read path would misplace the value).
  WriteSeed(dir, "regress-ext-empty-fields", kExt + std::string(8, '\0'));
  // value_len 2^64-1: the layout arithmetic wrapped into a small packed record.
  std::string huge = RecordBytes(0, "prefix/1", nullptr, "small value");
  const uint64_t huge_len = UINT64_MAX;
  std::memcpy(huge.data() + offsetof(RecordHeader, value_len), &huge_len, sizeof(huge_len));
  WriteSeed(dir, "regress-value-len-overflow", kRecord + huge);
}

// ---- recovery_fuzzer: control byte, then a segment file the engine wrote.

std::string ValueOf(int i, size_t len) {
  std::string v(len, '\0');
  for (size_t j = 0; j < len; ++j) v[j] = static_cast<char>('a' + (i * 7 + j) % 26);
  return v;
}

// Runs `fill` on a fresh engine, closes it and returns its (only) segment
// file, its header rewritten to the fuzzer's store and segment id; and in
// *checkpoint (when given) the CHECKPOINT its close wrote, rewritten so too.
template <typename Fill>
std::string MakeSegment(Fill fill, std::string* checkpoint = nullptr, bool sealed = false) {
  using namespace engine;
  char tmpl[] = "/tmp/ctxstore-fuzz-corpus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::exit(1);
  const std::string dir = std::string(tmpl) + "/data";
  EngineOptions o;
  o.data_dir = dir;
  o.memory_bytes = 4 << 20;
  o.disk_bytes = 64 << 20;
  static ManualEnv env(kNowMs);
  o.env = &env;
  o.keyring = FuzzKeyring();
  o.flusher_thread = false;  // records batch into segments the same way every run
  {
    auto engine = Engine::Open(o);
    if (!engine.ok()) {
      std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
      std::exit(1);
    }
    if (sealed) {
      NamespaceConfig c;
      c.encryption_key = kFuzzKeyName;
      Must((*engine)->SetNamespace(kDefaultNamespaceName, c));
    }
    fill(**engine);
    Must((*engine)->Close());
  }
  std::string segment;
  for (const auto& entry : fs::directory_iterator(dir)) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(entry.path().filename().string(), &id)) continue;
    if (!segment.empty()) {
      std::fprintf(stderr, "more than one segment\n");
      std::exit(1);
    }
    std::ifstream in(entry.path(), std::ios::binary);
    segment.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (checkpoint != nullptr) {
    std::ifstream in(dir + "/" + kCheckpointFileName, std::ios::binary);
    checkpoint->assign(std::istreambuf_iterator<char>(in), {});
    if (checkpoint->size() < sizeof(CheckpointHeader) + 8) {
      std::fprintf(stderr, "no checkpoint\n");
      std::exit(1);
    }
    std::memcpy(checkpoint->data() + offsetof(CheckpointHeader, store_id), &kStoreId, 8);
    uint64_t sum = Xxh3(checkpoint->data(), checkpoint->size() - 8);
    std::memcpy(checkpoint->data() + checkpoint->size() - 8, &sum, 8);
  }
  fs::remove_all(tmpl);
  SegmentHeader h = MakeSegmentHeader(kSegmentId, kNowMs, kStoreId);
  std::memcpy(segment.data(), &h, sizeof(h));
  return segment;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A store of several small segments: its segment files in id order (their
// headers rewritten to the fuzzer's store id) and its CHECKPOINT, rewritten
// so too.
std::vector<std::string> MakeSegments(std::string* checkpoint) {
  using namespace engine;
  char tmpl[] = "/tmp/ctxstore-fuzz-corpus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::exit(1);
  const std::string dir = std::string(tmpl) + "/data";
  EngineOptions o;
  o.data_dir = dir;
  o.memory_bytes = 4 << 20;
  o.disk_bytes = 8 << 20;
  o.segment_bytes = 8 << 10;  // the ten values fill three or more
  ManualEnv env(kNowMs);
  o.env = &env;
  o.flusher_thread = false;  // records batch into segments the same way every run
  {
    auto engine = Engine::Open(o);
    if (!engine.ok()) std::exit(1);
    for (int i = 0; i < 10; ++i) {
      WriteOptions w;
      w.group = i % 3 == 0 ? "session-1" : "";
      Must((*engine)->Put("multi/" + std::to_string(i), Bytes(ValueOf(i, 900 + 300 * i)), w));
    }
    WriteOptions overwrite;
    overwrite.overwrite = true;
    Must((*engine)->Put("multi/1", Bytes(ValueOf(11, 40)), overwrite));
    Must((*engine)->Delete(kDefaultNamespaceId, "multi/2", /*sync=*/true));
    Must((*engine)->Close());
  }
  std::map<uint64_t, std::string> by_id;
  for (const auto& entry : fs::directory_iterator(dir)) {
    uint64_t id = 0;
    if (!ParseSegmentFileName(entry.path().filename().string(), &id)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    SegmentHeader h = MakeSegmentHeader(id, kNowMs, kStoreId);
    std::memcpy(bytes.data(), &h, sizeof(h));
    by_id[id] = std::move(bytes);
  }
  std::ifstream in(dir + "/" + kCheckpointFileName, std::ios::binary);
  checkpoint->assign(std::istreambuf_iterator<char>(in), {});
  std::memcpy(checkpoint->data() + offsetof(CheckpointHeader, store_id), &kStoreId, 8);
  uint64_t sum = Xxh3(checkpoint->data(), checkpoint->size() - 8);
  std::memcpy(checkpoint->data() + checkpoint->size() - 8, &sum, 8);
  fs::remove_all(tmpl);
  if (by_id.size() < 3 || by_id.begin()->first != 1) {
    std::fprintf(stderr, "expected segments 1, 2, 3...; got %zu, the first %llu\n", by_id.size(),
                 by_id.empty() ? 0ull : static_cast<unsigned long long>(by_id.begin()->first));
    std::exit(1);
  }
  std::vector<std::string> segments;
  for (auto& [id, bytes] : by_id) segments.push_back(std::move(bytes));
  return segments;
}

// kSeveralSegments inputs: segments 1, 2, 3... (step 0), the last one with
// step last_step; with a checkpoint when one is given.
std::string SeveralSegments(const std::vector<std::string>& segments, const std::string* checkpoint,
                            uint8_t last_step = 0) {
  std::string out(1, static_cast<char>(1 << 7 | (checkpoint ? 1 << 5 : 0)));
  if (checkpoint) {
    const uint16_t len = static_cast<uint16_t>(checkpoint->size());
    out.append(reinterpret_cast<const char*>(&len), 2);
    out += *checkpoint;
  }
  for (size_t i = 0; i < segments.size(); ++i) {
    out.push_back(static_cast<char>(i + 1 == segments.size() ? last_step : 0));
    const uint32_t len = static_cast<uint32_t>(segments[i].size());
    out.append(reinterpret_cast<const char*>(&len), 4);
    out += segments[i];
  }
  return out;
}

void WriteSeveralSegmentSeeds(const fs::path& dir) {
  std::string checkpoint;
  std::vector<std::string> segments = MakeSegments(&checkpoint);
  WriteSeed(dir, "segments-several", SeveralSegments(segments, nullptr));
  WriteSeed(dir, "segments-several-checkpoint", SeveralSegments(segments, &checkpoint));
  // The last segment two ids on: one in between was reclaimed.
  WriteSeed(dir, "segments-several-gap", SeveralSegments(segments, &checkpoint, 1));
}

void WriteRecoverySeeds(const fs::path& dir) {
  using namespace engine;
  std::string checkpoint;
  std::string small = MakeSegment(
      [](Engine& e) {
        for (int i = 0; i < 6; ++i) {
          char key[32];
          std::snprintf(key, sizeof(key), "prefix/%d", i);
          WriteOptions w;
          if (i % 2 == 0) {
            w.group = "session-1";
            w.writer = "client-a";
            w.meta = "{\"dtype\":\"fp16\"}";
          }
          if (i > 0) w.parent = "prefix/0";
          Must(e.Put(key, Bytes(ValueOf(i, 20 + 60 * i)), w));
        }
        WriteOptions overwrite;
        overwrite.overwrite = true;
        Must(e.Put("prefix/1", Bytes(ValueOf(9, 50)), overwrite));
        Must(e.Delete(kDefaultNamespaceId, "prefix/2", /*sync=*/true));
        WriteOptions ttl;
        ttl.ttl_ms = 3'600'000;
        Must(e.Put("with-ttl", Bytes(ValueOf(3, 10)), ttl));
      },
      &checkpoint);
  WriteSeed(dir, "segment-small-values", '\0' + small);
  // The same store opened from its checkpoint (control: kWithCheckpoint,
  // then a u16 length and the checkpoint before the segment), the segment
  // cut after its first block of records: entries past it are skipped.
  const uint16_t checkpoint_len = static_cast<uint16_t>(checkpoint.size());
  WriteSeed(dir, "checkpoint-small-values",
            char(1 << 5) + std::string(reinterpret_cast<const char*>(&checkpoint_len), 2) +
                checkpoint + small.substr(0, kSegmentHeaderBytes + kBlockSize));

  // The smallest value that is not packed: its record starts on a block.
  std::string large = MakeSegment(
      [](Engine& e) { Must(e.Put("large", Bytes(ValueOf(2, kPackedRecordMaxBytes)), {})); });
  WriteSeed(dir, "segment-large-value", '\0' + large);

  // Sealed records (the default namespace encrypted with the fuzzer's key):
  // packed ones, one with an ext, and a large one.
  std::string sealed = MakeSegment(
      [](Engine& e) {
        WriteOptions w;
        Must(e.Put("sealed/0", Bytes(ValueOf(4, 100)), w));
        w.group = "session-2";
        Must(e.Put("sealed/1", Bytes(ValueOf(5, 3000)), w));
        Must(e.Put("sealed/large", Bytes(ValueOf(6, kPackedRecordMaxBytes)), {}));
      },
      nullptr, /*sealed=*/true);
  WriteSeed(dir, "segment-sealed-values", '\0' + sealed);

  // Regressions: inputs that crashed recovery before its fix.
  // A checkpoint whose replay segment id is past the last one (no segment
  // could be written after it), and an entry whose value checksum is off:
  // its read fails, and its tombstone could not be written at close.
  std::string bad_checkpoint = checkpoint;
  const uint64_t far_replay = uint64_t{1} << 40, wrong_xxh3 = 1;
  std::memcpy(bad_checkpoint.data() + offsetof(CheckpointHeader, replay_segment_id), &far_replay,
              8);
  std::memcpy(
      bad_checkpoint.data() + sizeof(CheckpointHeader) + offsetof(CheckpointEntryFixed, value_xxh3),
      &wrong_xxh3, 8);
  uint64_t sum = Xxh3(bad_checkpoint.data(), bad_checkpoint.size() - 8);
  std::memcpy(bad_checkpoint.data() + bad_checkpoint.size() - 8, &sum, 8);
  WriteSeed(dir, "regress-checkpoint-replay-segment-id",
            char(1 << 5) + std::string(reinterpret_cast<const char*>(&checkpoint_len), 2) +
                bad_checkpoint + small.substr(0, kSegmentHeaderBytes + kBlockSize));
  // The records of a segment named with id 0 (control: kSegmentIds[1]).
  WriteSeed(dir, "regress-segment-id-0",
            char(1 << 3) + small.substr(0, kSegmentHeaderBytes + kBlockSize));
  // A large record 64 bytes into a block, the value read with O_DIRECT.
  std::string off_block = large.substr(0, kSegmentHeaderBytes) + std::string(64, '\0') +
                          large.substr(kSegmentHeaderBytes);
  off_block.resize(RoundUpToBlock(off_block.size()), '\0');
  WriteSeed(dir, "regress-large-record-off-block", '\0' + off_block);
  WriteSeveralSegmentSeeds(dir);
}

// ---- service_fuzzer: control byte, then one session's frames.

class SessionSeed {
 public:
  explicit SessionSeed(uint8_t control) : bytes_(1, static_cast<char>(control)) {}
  SessionSeed& Add(protocol::Opcode op, uint16_t flags, std::string_view body) {
    protocol::FrameHeader h;
    h.opcode = op;
    h.flags = flags;
    h.request_id = next_id_++;
    h.body_len = body.size();
    protocol::HeaderBytes header = protocol::EncodeHeader(h);
    bytes_.append(reinterpret_cast<const char*>(header.data()), header.size());
    bytes_.append(body);
    return *this;
  }
  SessionSeed& Hello(std::string token, std::string ns = "") {
    protocol::HelloRequest hello;
    hello.client_name = "seed";
    hello.namespace_name = std::move(ns);
    hello.token = std::move(token);
    return Add(protocol::Opcode::kHello, 0, protocol::EncodeHelloRequest(hello));
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
  uint64_t next_id_ = 1;
};

void WriteServiceSeeds(const fs::path& dir) {
  using namespace protocol;
  using fuzz::kServiceAuth;
  using fuzz::kServiceStepFlusher;
  using fuzz::kServiceTick;
  PutOptionsBlock options;
  options.ttl_ms = 5000;
  options.group = "g";
  options.parent = "k";
  options.meta = "{\"m\":1}";
  std::string batch = EncodeBatchPutHead(2, &options);
  AppendBatchPutItemHeader(&batch, "b/1", 3, Xxh3("one", 3));
  batch += "one";
  AppendBatchPutItemHeader(&batch, "b/2", 3, Xxh3("two", 3));
  batch += "two";
  const std::vector<std::string> keys = {"k", "prefix/1", "b/1", "missing"};
  SessionSeed writer(kServiceAuth | kServiceStepFlusher);
  writer.Hello(fuzz::WriteToken())
      .Add(Opcode::kPut, kFlagSync, EncodePutPrefix("new", std::nullopt, nullptr) + "value")
      .Add(Opcode::kPut, kFlagExt | kFlagChecksum | kFlagOverwrite,
           EncodePutPrefix("k", Xxh3("v2", 2), &options) + "v2")
      .Add(Opcode::kGet, kFlagExt, EncodeKey("k"))
      .Add(Opcode::kGet, 0, EncodeKey("prefix/1"))
      .Add(Opcode::kBatchPut, kFlagExt | kFlagChecksum | kFlagSync, batch)
      .Add(Opcode::kBatchGet, 0, EncodeKeyList(keys))
      .Add(Opcode::kBatchExists, 0, EncodeKeyList(keys))
      .Add(Opcode::kExists, 0, EncodeKey("new"))
      .Add(Opcode::kMatchPrefix, kFlagExt, EncodeMatchPrefixRequest(keys, true, 1000))
      .Add(Opcode::kRelease, 0, EncodeU64(1))
      .Add(Opcode::kStat, 0, EncodeKey("k"))
      .Add(Opcode::kList, 0, EncodeListRequest({"", "", "", 10}))
      .Add(Opcode::kPin, 0, EncodePinRequest({true, "g", 1000, true}))
      .Add(Opcode::kUnpin, 0, EncodeUnpinRequest(true, "g"))
      .Add(Opcode::kDeleteGroup, 0, EncodeString("g"))
      .Add(Opcode::kDelete, kFlagSync, EncodeKey("new"))
      .Add(Opcode::kFlush, 0, "")
      .Add(Opcode::kStats, 0, "");  // denied: admin only
  WriteSeed(dir, "writer-session", writer.bytes());

  NamespaceSpec spec;
  spec.quota_bytes = 1 << 20;
  spec.max_ttl_ms = 60'000;
  SessionSeed admin(kServiceAuth | kServiceTick);
  admin.Hello(fuzz::AdminToken())
      .Add(Opcode::kNsCreate, 0, EncodeNamespaceRequest("second", spec))
      .Add(Opcode::kNsSet, 0, EncodeNamespaceRequest(fuzz::kTenantNamespace, spec))
      .Add(Opcode::kNsList, 0, "")
      .Add(Opcode::kTokenCreate, 0, EncodeTokenCreateRequest({"write", "second", "seed"}))
      .Add(Opcode::kTokenList, 0, "")
      .Add(Opcode::kTokenRevoke, 0, EncodeString(fuzz::ReadToken().substr(4, 16)))
      .Add(Opcode::kStats, 0, "")
      .Add(Opcode::kNsDelete, 0, EncodeString("second"))
      .Hello(fuzz::AdminToken(), fuzz::kTenantNamespace)
      .Add(Opcode::kGet, 0, EncodeKey("k"));
  WriteSeed(dir, "admin-session", admin.bytes());

  SessionSeed reader(kServiceAuth);
  reader.Hello(fuzz::ReadToken())
      .Add(Opcode::kGet, 0, EncodeKey("k"))
      .Add(Opcode::kPut, 0, EncodePutPrefix("x", std::nullopt, nullptr) + "denied")
      .Hello(fuzz::WriteToken(), "default");  // another namespace: refused
  WriteSeed(dir, "reader-session", reader.bytes());

  SessionSeed no_auth(0);
  no_auth.Hello("")
      .Add(Opcode::kPut, 0, EncodePutPrefix("a", std::nullopt, nullptr) + std::string(3000, 'a'))
      .Add(Opcode::kGet, 0, EncodeKey("a"))
      .Add(Opcode::kNsList, 0, "");
  WriteSeed(dir, "no-auth-session", no_auth.bytes());
}

// ---- reply_fuzzer: op byte (bit 7: EXT), item count, a reply header and body.

std::string ReplySeed(protocol::Opcode op, bool ext, uint8_t items, StatusCode status,
                      std::string_view body) {
  protocol::FrameHeader h;
  h.opcode = op;
  h.request_id = 7;
  h.status = status;
  h.body_len = body.size();
  protocol::HeaderBytes header = protocol::EncodeHeader(h);
  std::string out;
  out.push_back(static_cast<char>((static_cast<uint8_t>(op) - 1) | (ext ? 0x80 : 0)));
  out.push_back(static_cast<char>(items));
  out.append(reinterpret_cast<const char*>(header.data()), header.size());
  out.append(body);
  return out;
}

void WriteReplySeeds(const fs::path& dir) {
  using namespace protocol;
  WriteSeed(dir, "hello", ReplySeed(Opcode::kHello, false, 0, StatusCode::kOk,
                                    EncodeHelloReply({kVersion, 1 << 20, 64, 1 << 24, "0.1"})));
  WriteSeed(dir, "error-not-found",
            ReplySeed(Opcode::kGet, false, 0, StatusCode::kNotFound, "no such key"));
  WriteSeed(dir, "error-unknown-status",
            ReplySeed(Opcode::kPut, false, 0, static_cast<StatusCode>(99), "later"));
  const GetReplyHeadBytes head = EncodeGetReplyHead({Xxh3("value", 5), 3}, true);
  WriteSeed(dir, "get-ext",
            ReplySeed(Opcode::kGet, true, 0, StatusCode::kOk,
                      std::string(reinterpret_cast<const char*>(head.data()), 10) + "metvalue"));
  std::string batch_get;
  AppendCount(&batch_get, 2);
  AppendBatchGetItemHeader(&batch_get, StatusCode::kOk, 3, Xxh3("abc", 3));
  batch_get += "abc";
  AppendBatchGetItemHeader(&batch_get, StatusCode::kNotFound, 0, 0);
  WriteSeed(dir, "batch-get", ReplySeed(Opcode::kBatchGet, false, 2, StatusCode::kOk, batch_get));
  std::vector<StatusCode> codes = {StatusCode::kOk, StatusCode::kExists};
  WriteSeed(dir, "batch-put",
            ReplySeed(Opcode::kBatchPut, false, 2, StatusCode::kOk, EncodeStatusList(codes)));
  WriteSeed(dir, "match-prefix-lease",
            ReplySeed(Opcode::kMatchPrefix, true, 3, StatusCode::kOk,
                      EncodeMatchPrefixReply({2, 99}, true)));
  WriteSeed(dir, "exists", ReplySeed(Opcode::kExists, false, 0, StatusCode::kOk, EncodeU64(5)));
}

// ---- catalog_fuzzer: a CATALOG file the engine wrote.

void WriteCatalogSeeds(const fs::path& dir) {
  using namespace engine;
  char tmpl[] = "/tmp/ctxstore-fuzz-corpus-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::exit(1);
  EngineOptions o;
  o.data_dir = std::string(tmpl) + "/data";
  o.memory_bytes = 1 << 20;
  o.disk_bytes = 8 << 20;
  ManualEnv env(kNowMs);
  o.env = &env;
  o.keyring = FuzzKeyring();
  {
    auto engine = Engine::Open(o);
    if (!engine.ok()) std::exit(1);
    Engine& e = **engine;
    NamespaceConfig c;
    c.quota_bytes = 1 << 20;
    c.max_ttl_ms = 60'000;
    c.encryption_key = kFuzzKeyName;
    auto tenant = e.CreateNamespace("tenant", c);
    if (!tenant.ok()) std::exit(1);
    Must(e.CreateNamespace("gone", {}).status());
    Must(e.DeleteNamespace("gone"));
    AccessToken t;
    t.id = std::string(16, 'a');
    t.secret_hash = std::string(64, 'b');
    t.role = TokenRole::kWrite;
    t.namespace_id = *tenant;
    t.label = "seed";
    Must(e.AddToken(t));
    Must(e.Put("k", Bytes(std::string("v")), {}));
    PinOptions pin;
    Must(e.Pin(kDefaultNamespaceId, "k", pin).status());
    pin.group = true;
    pin.ttl_ms = 1000;
    Must(e.Pin(kDefaultNamespaceId, "g", pin).status());
    Must(e.Close());
  }
  std::ifstream in(o.data_dir + "/CATALOG", std::ios::binary);
  std::string catalog(std::istreambuf_iterator<char>(in), {});
  fs::remove_all(tmpl);
  WriteSeed(dir, "catalog", catalog);
  WriteSeed(dir, "catalog-default-only",
            R"({"version": 1, "next_namespace_id": 1, "pins": [], "namespaces": [{"id": 0, "name": "default"}]})");
  // Regressions: catalogs the engine once accepted (catalog_test.cc).
  WriteSeed(dir, "regress-repeated-id",
            R"({"version": 1, "next_namespace_id": 3, "pins": [], "namespaces": [{"id": 0, "name": "default"}, {"id": 1, "name": "a"}, {"id": 1, "name": "b"}]})");
  WriteSeed(dir, "regress-last-id",
            R"({"version": 1, "next_namespace_id": 4294967295, "pins": [], "namespaces": [{"id": 0, "name": "default"}]})");
}

// ---- resp_fuzzer: selector byte, then (kRequest) an options byte (bit 0:
// authenticated) and a byte stream; (kInline) a line; (kGlob) a pattern
// length byte, the pattern and the text. Requests shaped as redis-cli,
// redis-py and redis-benchmark send them.
std::string RespCommand(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

void WriteRespSeeds(const fs::path& dir) {
  constexpr char kRequest = 0, kInline = 1, kGlob = 2;
  auto request = [](char options, const std::string& stream) {
    return std::string(1, kRequest) + std::string(1, options) + stream;
  };
  WriteSeed(dir, "request-auth-hello",
            request(0, RespCommand({"AUTH", "tenant", "token"}) + RespCommand({"HELLO", "3"})));
  WriteSeed(dir, "request-set-get",
            request(1, RespCommand({"SET", "key:1", "value", "EX", "60"}) +
                           RespCommand({"GET", "key:1"}) + RespCommand({"DEL", "key:1"})));
  WriteSeed(dir, "request-mset-mget",
            request(3, RespCommand({"MSET", "a", "1", "b", "2"}) + RespCommand({"MGET", "a", "b"}) +
                           RespCommand({"EXISTS", "a", "b"})));
  std::string binary("v\r\n\0\r\n$3\r\n*1\r\n", 14);
  binary += std::string(200, 'x');  // past the fuzzer's large-argument threshold
  WriteSeed(dir, "request-binary-value", request(5, RespCommand({"SET", "bin", binary})));
  WriteSeed(dir, "request-inline-ping",
            request(1, "PING\r\n" + RespCommand({"PING"}) + "set k \"a b\\x41\"\n\r\n*0\r\n"));
  WriteSeed(dir, "request-benchmark",
            request(7, RespCommand({"CONFIG", "GET", "save"}) +
                           RespCommand({"CONFIG", "GET", "appendonly"}) +
                           RespCommand({"SCAN", "0", "MATCH", "user:*", "COUNT", "100"})));
  WriteSeed(dir, "inline-quoted",
            std::string(1, kInline) + "SET 'it\\'s' \"\\x00\\n\\\"\" plain\xffsecond");
  WriteSeed(dir, "glob-class", std::string(1, kGlob) + "\x0d" + "h[a-e]?l*[^x]" + "hello world");
  WriteSeed(dir, "glob-escape", std::string(1, kGlob) + "\x07" + "\\**a*b?" + "*xxaxxbz");
}

}  // namespace
}  // namespace ctxstore

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::path root = argv[1];
  ctxstore::WriteFrameSeeds(root / "frame_fuzzer");
  ctxstore::WriteRecordSeeds(root / "record_fuzzer");
  ctxstore::WriteRecoverySeeds(root / "recovery_fuzzer");
  ctxstore::WriteServiceSeeds(root / "service_fuzzer");
  ctxstore::WriteReplySeeds(root / "reply_fuzzer");
  ctxstore::WriteCatalogSeeds(root / "catalog_fuzzer");
  ctxstore::WriteRespSeeds(root / "resp_fuzzer");
  return 0;
}
