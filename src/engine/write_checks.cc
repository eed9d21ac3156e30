#include "engine/write_checks.h"

#include <nlohmann/json.hpp>

#include <string>

#include "common/limits.h"
#include "common/units.h"
#include "engine/index/entry.h"

namespace ctxstore::engine {
namespace {

bool HasModelFingerprint(std::string_view meta) {
  if (meta.empty() || meta.front() != '{') return false;
  nlohmann::json j = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto it = j.find("model_fingerprint");
  return it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

}  // namespace

Status CheckWrite(std::string_view key, uint64_t value_len, const WriteOptions& opts,
                  uint64_t max_value_bytes) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  if (value_len > max_value_bytes) {
    return Status::TooLarge("value of " + std::to_string(value_len) +
                            " bytes exceeds the limit of " + std::to_string(max_value_bytes));
  }
  if (opts.group.size() > kMaxGroupBytes) {
    return Status::TooLarge("group name over " + std::to_string(kMaxGroupBytes) + " bytes");
  }
  if (opts.parent.size() > kMaxParentBytes) {
    return Status::TooLarge("parent key over " + std::to_string(kMaxParentBytes) + " bytes");
  }
  if (opts.meta.size() > kMaxMetaBytes) {
    return Status::TooLarge("metadata of " + std::to_string(opts.meta.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxMetaBytes));
  }
  return Status::Ok();
}

Status CheckWriteInto(const Catalog& catalog, const Namespace& ns, const WriteOptions& opts,
                      uint64_t value_len) {
  if (ns.config.require_model_fingerprint && !HasModelFingerprint(opts.meta)) {
    return Status::Invalid("namespace '" + ns.name +
                           "' accepts only PUTs whose metadata is a JSON object with a "
                           "\"model_fingerprint\" string");
  }
  if (auto seal_key = catalog.SealKey(ns); !seal_key.ok()) return seal_key.status();
  if (ns.config.quota_bytes != 0 && value_len > ns.config.quota_bytes) {
    return Status::TooLarge("value of " + FormatSize(value_len) + " exceeds the quota of " +
                            FormatSize(ns.config.quota_bytes) + " of namespace '" + ns.name + "'");
  }
  return Status::Ok();
}

}  // namespace ctxstore::engine
