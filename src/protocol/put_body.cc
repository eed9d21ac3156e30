#include "protocol/put_body.h"

#include <iterator>

#include "common/byte_io.h"
#include "protocol/frame.h"

namespace ctxstore::protocol {
namespace {

constexpr size_t kKeyLengthSize = 2;
constexpr size_t kU64Size = 8;
// The options block's fixed part: u64 ttl_ms, u8 put_flags, then the
// group's u16 length.
constexpr size_t kOptionsFixedSize = 8 + 1 + 2;

Status OptionsTooShort() {
  return Status::Invalid("body too short for put options");
}

}  // namespace

// ---- encoders ----

std::string EncodePutPrefix(std::string_view key, std::optional<uint64_t> xxh3,
                            const PutOptionsBlock* options) {
  std::string out = EncodeKey(key);
  if (xxh3) ByteWriter(&out).Put(*xxh3);
  if (options != nullptr) out += EncodePutOptions(*options);
  return out;
}

std::string EncodeBatchPutHead(uint32_t count, const PutOptionsBlock* options) {
  std::string out;
  ByteWriter(&out).Put(count);
  if (options != nullptr) out += EncodePutOptions(*options);
  return out;
}

void AppendBatchPutItemHeader(std::string* out, std::string_view key, uint64_t value_len,
                              std::optional<uint64_t> xxh3) {
  ByteWriter w(out);
  w.PutShortString(key);
  w.Put(value_len);
  if (xxh3) w.Put(*xxh3);
}

// ---- put-options block ----

void PutOptionsParser::Begin(const PrefixBuffer& buf) {
  start_ = buf.size();
  field_ = 0;
}

Result<ParseStep> PutOptionsParser::Next(PrefixBuffer& buf, PutOptionsBlock* out) {
  struct Field {
    const char* name;
    size_t max;
  };
  // The three u16-length strings after the fixed part.
  static constexpr Field kFields[] = {
      {"group", kMaxGroupBytes}, {"parent", kMaxParentBytes}, {"meta", kMaxMetaBytes}};
  constexpr int kFieldCount = static_cast<int>(std::size(kFields));
  if (field_ == 0) {
    if (!buf.Ask(kOptionsFixedSize)) return OptionsTooShort();
    field_ = 1;
    return ParseStep::kRead;
  }
  while (field_ <= kFieldCount) {
    // The length of field field_-1 ends the bytes asked so far.
    const Field& f = kFields[field_ - 1];
    const uint16_t len = buf.Load<uint16_t>(buf.size() - 2);
    if (len > f.max) {
      return Status::TooLarge(std::string(f.name) + " of " + std::to_string(len) +
                              " bytes exceeds the limit of " + std::to_string(f.max));
    }
    // The field, then the next field's length (none after the last).
    const size_t next = len + (field_ < kFieldCount ? kKeyLengthSize : 0);
    if (!buf.Ask(next)) return OptionsTooShort();
    ++field_;
    if (next > 0) return ParseStep::kRead;
    // An empty last field: nothing to read, the block is complete.
  }
  size_t consumed = 0;
  std::string_view block = buf.bytes(start_, buf.size() - start_);
  auto decoded = DecodePutOptions(block, &consumed);
  if (!decoded.ok()) return decoded.status();
  *out = std::move(*decoded);
  return ParseStep::kDone;
}

// ---- PUT ----

PutPrefixParser::PutPrefixParser(uint16_t flags, uint64_t body_len)
    : flags_(flags), buf_(body_len) {}

Result<ParseStep> PutPrefixParser::Next() {
  switch (stage_) {
    case Stage::kStart:
      if (!buf_.Ask(kKeyLengthSize)) return Status::Invalid("body too short for a key");
      stage_ = Stage::kKeyLength;
      return ParseStep::kRead;
    case Stage::kKeyLength:
      return AfterKeyLength();
    case Stage::kKey:
      if ((flags_ & kFlagChecksum) != 0) xxh3_ = buf_.Load<uint64_t>(kKeyLengthSize + key_len_);
      if ((flags_ & kFlagExt) == 0) {
        stage_ = Stage::kDone;
        return ParseStep::kDone;
      }
      options_.emplace();
      options_parser_.Begin(buf_);
      stage_ = Stage::kOptions;
      [[fallthrough]];
    case Stage::kOptions: {
      auto step = options_parser_.Next(buf_, &*options_);
      if (step.ok() && *step == ParseStep::kDone) stage_ = Stage::kDone;
      return step;
    }
    case Stage::kDone:
      break;
  }
  return ParseStep::kDone;
}

Result<ParseStep> PutPrefixParser::AfterKeyLength() {
  key_len_ = buf_.Load<uint16_t>(0);
  if (key_len_ == 0 || key_len_ > kMaxKeyBytes || key_len_ > buf_.remaining()) {
    return Status::Invalid("bad key length " + std::to_string(key_len_));
  }
  // The key and the checksum after it in one read; both sizes are known.
  size_t need = key_len_;
  if ((flags_ & kFlagChecksum) != 0) {
    if (buf_.remaining() - key_len_ < kU64Size) {
      return Status::Invalid("PUT body too short for its checksum");
    }
    need += kU64Size;
  }
  buf_.Ask(need);  // cannot fail: checked above
  stage_ = Stage::kKey;
  return ParseStep::kRead;
}

// ---- BATCH_PUT ----

BatchPutParser::BatchPutParser(uint16_t flags, uint64_t body_len, uint32_t max_items)
    : flags_(flags), max_items_(max_items), buf_(body_len) {}

Result<ParseStep> BatchPutParser::Next() {
  for (;;) {
    switch (stage_) {
      case Stage::kStart:
        if (!buf_.Ask(kBatchPutCountSize)) return Status::Invalid("BATCH_PUT body too short");
        stage_ = Stage::kCount;
        return ParseStep::kRead;
      case Stage::kCount:
        return ParseCount();
      case Stage::kOptions: {
        auto step = options_parser_.Next(buf_, &*options_);
        if (!step.ok() || *step == ParseStep::kRead) return step;
        stage_ = Stage::kItemStart;
        continue;
      }
      case Stage::kValue:
        // The caller has taken the last item's value.
        buf_.Take(item_.value_len);
        ++index_;
        stage_ = Stage::kItemStart;
        continue;
      case Stage::kItemStart:
        return StartItem();
      case Stage::kItemKeyLength:
        return ParseItemKeyLength();
      case Stage::kItemKey:
        return ParseItemHeader();
      case Stage::kDone:
        return ParseStep::kDone;
    }
  }
}

Result<ParseStep> BatchPutParser::ParseCount() {
  count_ = buf_.Load<uint32_t>(0);
  if (count_ > max_items_) {
    fatal_ = true;
    return Status::TooLarge("batch of " + std::to_string(count_) + " items exceeds " +
                            std::to_string(max_items_));
  }
  if ((flags_ & kFlagExt) != 0) {
    // One block for every item.
    options_.emplace();
    options_parser_.Begin(buf_);
    stage_ = Stage::kOptions;
  } else {
    stage_ = Stage::kItemStart;
  }
  return Next();
}

Result<ParseStep> BatchPutParser::StartItem() {
  if (index_ == count_) {
    if (buf_.remaining() != 0) return Status::Invalid("trailing bytes after BATCH_PUT items");
    stage_ = Stage::kDone;
    return ParseStep::kDone;
  }
  buf_.Clear();  // the options block was decoded into options_
  if (!buf_.Ask(kKeyLengthSize)) return MalformedItem();
  stage_ = Stage::kItemKeyLength;
  return ParseStep::kRead;
}

Result<ParseStep> BatchPutParser::ParseItemKeyLength() {
  key_len_ = buf_.Load<uint16_t>(0);
  if (key_len_ == 0 || key_len_ > kMaxKeyBytes) return MalformedItem();
  // Key, value length and (CHECKSUM) the value's checksum in one read.
  const size_t need = key_len_ + kU64Size + ((flags_ & kFlagChecksum) != 0 ? kU64Size : 0);
  if (!buf_.Ask(need)) return MalformedItem();
  stage_ = Stage::kItemKey;
  return ParseStep::kRead;
}

Result<ParseStep> BatchPutParser::ParseItemHeader() {
  item_.key = buf_.bytes(kKeyLengthSize, key_len_);
  item_.value_len = buf_.Load<uint64_t>(kKeyLengthSize + key_len_);
  item_.xxh3.reset();
  if ((flags_ & kFlagChecksum) != 0) {
    item_.xxh3 = buf_.Load<uint64_t>(kKeyLengthSize + key_len_ + kU64Size);
  }
  if (item_.value_len > buf_.remaining()) return MalformedItem();
  stage_ = Stage::kValue;
  return ParseStep::kItem;
}

Status BatchPutParser::MalformedItem() const {
  return Status::Invalid("malformed BATCH_PUT item " + std::to_string(index_));
}

}  // namespace ctxstore::protocol
