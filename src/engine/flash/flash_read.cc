#include "engine/flash/flash_read.h"

#include "common/hash.h"

namespace ctxstore::engine {

FlashRead FlashRead::Of(const Entry& e, std::shared_ptr<Segment> segment) {
  FlashRead read;
  read.segment = std::move(segment);
  read.record_offset = e.record_offset;
  read.header.key_len = e.key_len;
  read.header.attrs_len = static_cast<uint32_t>(RecordAttrsLen(e.meta.get()));
  read.header.value_len = e.value_len();
  read.value_xxh3 = e.value_xxh3;
  if (e.sealed) {
    read.header.flags = kRecordFlagSealed;
    read.aad = RecordAad(e.namespace_id, e.seq, e.user_key(), EncodeRecordAttrs(e.meta.get()));
  }
  return read;
}

Status FlashRead::ReadInto(uint8_t* dst, const Keyring* keyring, bool* retried) const {
  auto once = [&] { return segment->ReadValue(record_offset, header, dst, keyring, aad); };
  Status st = once();
  *retried = st.code() == StatusCode::kIoError;
  if (*retried) st = once();
  if (st.ok() && Xxh3(dst, header.value_len) != value_xxh3) {
    st = Status::Corrupt("checksum mismatch in " + segment->path());
  }
  return st;
}

}  // namespace ctxstore::engine
