// PUT and BATCH_PUT bodies (docs/protocol.md): encoders for the client and
// incremental parsers for the server, which receives the values straight
// into their arena blocks and so must parse what comes before each value
// without reading into it.
//
//   PUT:       key, [CHECKSUM: u64 xxh3], [EXT: put-options block], value
//   BATCH_PUT: u32 count, [EXT: put-options block],
//              count x (key, u64 value_len, [CHECKSUM: u64 xxh3], value)
//
// A parser answers, step by step, "read N more bytes into Space()", "an
// item is parsed: take its value", or "done". Every length is checked
// against its limit, and against what is left of the body, before the bytes
// it covers are asked for: a parser never asks for more than
// 2 + kMaxKeyBytes + 8 + kMaxPutOptionsBytes bytes at once, and never for a
// value's bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "protocol/messages.h"
#include "protocol/prefix_buffer.h"

namespace ctxstore::protocol {

// PUT prefix: key, [xxh3], [options]; the value follows it.
std::string EncodePutPrefix(std::string_view key, std::optional<uint64_t> xxh3,
                            const PutOptionsBlock* options);
// BATCH_PUT head: u32 count, [options]; the items follow it.
std::string EncodeBatchPutHead(uint32_t count, const PutOptionsBlock* options);
// BATCH_PUT item header: key, u64 value_len, [xxh3]; the value follows it.
void AppendBatchPutItemHeader(std::string* out, std::string_view key, uint64_t value_len,
                              std::optional<uint64_t> xxh3);

enum class ParseStep : uint8_t {
  kRead,  // read Space().size() more bytes of the body into Space(), then call Next again
  kItem,  // BATCH_PUT: item() is parsed; take its value_len bytes, then call Next again
  kDone,  // PUT: the prefix is parsed, the value is the remaining() bytes.
          // BATCH_PUT: every item was parsed and the body is used up.
};

// Parses a put-options block field by field (part of the parsers below).
class PutOptionsParser {
 public:
  // The block starts at the buffer's current end.
  void Begin(const PrefixBuffer& buf);
  // kRead (asked in buf) or kDone (*out holds the block).
  Result<ParseStep> Next(PrefixBuffer& buf, PutOptionsBlock* out);

 private:
  size_t start_ = 0;
  int field_ = 0;  // 0: nothing asked; 1..3: the length of group, parent, meta is in
};

class PutPrefixParser {
 public:
  PutPrefixParser(uint16_t flags, uint64_t body_len);

  // On an error (kInvalid for a body too short or a bad length, kTooLarge
  // for a field over its limit), remaining() bytes of the body are unread:
  // skip them and the connection stays usable.
  Result<ParseStep> Next();
  std::span<uint8_t> Space() { return buf_.Space(); }

  // Once Next answered kDone:
  std::string_view key() const { return buf_.bytes(2, key_len_); }
  std::optional<uint64_t> xxh3() const { return xxh3_; }
  const std::optional<PutOptionsBlock>& options() const { return options_; }
  uint64_t remaining() const { return buf_.remaining(); }

 private:
  enum class Stage : uint8_t { kStart, kKeyLength, kKey, kOptions, kDone };
  Result<ParseStep> AfterKeyLength();

  const uint16_t flags_;
  PrefixBuffer buf_;
  Stage stage_ = Stage::kStart;
  uint16_t key_len_ = 0;
  std::optional<uint64_t> xxh3_;
  std::optional<PutOptionsBlock> options_;
  PutOptionsParser options_parser_;
};

struct BatchPutItem {
  std::string_view key;  // into the parser: valid until the next Next()
  uint64_t value_len = 0;
  std::optional<uint64_t> xxh3;
};

class BatchPutParser {
 public:
  BatchPutParser(uint16_t flags, uint64_t body_len, uint32_t max_items);

  // On an error, remaining() bytes of the body are unread: skip them,
  // unless fatal() (a count over the limit: the connection closes without
  // reading the rest). Items before the bad one have been handed out.
  Result<ParseStep> Next();
  std::span<uint8_t> Space() { return buf_.Space(); }
  bool fatal() const { return fatal_; }

  // Once the head is parsed (the first kItem or kDone):
  uint32_t count() const { return count_; }
  const std::optional<PutOptionsBlock>& options() const { return options_; }
  // Once Next answered kItem: the item, and its place in the batch.
  const BatchPutItem& item() const { return item_; }
  uint32_t index() const { return index_; }
  uint64_t remaining() const { return buf_.remaining(); }

 private:
  enum class Stage : uint8_t {
    kStart,
    kCount,
    kOptions,
    kItemStart,
    kItemKeyLength,
    kItemKey,
    kValue,
    kDone
  };
  Result<ParseStep> ParseCount();
  Result<ParseStep> StartItem();
  Result<ParseStep> ParseItemKeyLength();
  Result<ParseStep> ParseItemHeader();
  Status MalformedItem() const;

  const uint16_t flags_;
  const uint32_t max_items_;
  PrefixBuffer buf_;
  Stage stage_ = Stage::kStart;
  bool fatal_ = false;
  uint32_t count_ = 0;
  uint32_t index_ = 0;
  uint16_t key_len_ = 0;
  std::optional<PutOptionsBlock> options_;
  PutOptionsParser options_parser_;
  BatchPutItem item_;
};

}  // namespace ctxstore::protocol
