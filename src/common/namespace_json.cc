#include "common/namespace_json.h"

#include <algorithm>
#include <string>
#include <type_traits>

#include "common/limits.h"

namespace ctxstore {
namespace {

Status Invalid(std::string_view member, std::string_view must) {
  // Appended piece by piece: g++ 12 reports a false -Wrestrict for
  // "literal" + std::string at -O3.
  std::string message = "\"";
  message.append(member).append("\" must be ").append(must);
  return Status::Invalid(std::move(message));
}

// No negatives, no fractions.
Result<uint64_t> ReadUnsigned(const nlohmann::json& value, std::string_view member) {
  if (!value.is_number_unsigned()) return Invalid(member, "a non-negative integer");
  return value.get<uint64_t>();
}

// One member into its setting; the error names the member.
template <typename T>
Status ReadSetting(const NamespaceField& field, const nlohmann::json& value,
                   std::optional<T>* out) {
  using K = NamespaceFieldKind;
  if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) return Invalid(field.name, "true or false");
    *out = value.get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxKeyNameBytes) {
      return Invalid(field.name, "a key name (a string of at most " +
                                     std::to_string(kMaxKeyNameBytes) + " bytes)");
    }
    *out = value.get<std::string>();
  } else {
    auto n = ReadUnsigned(value, field.name);
    if (!n.ok()) return n.status();
    if (field.kind == K::kPriority && *n >= kPriorityLevels) {
      return Invalid(field.name, "0.." + std::to_string(kPriorityLevels - 1));
    }
    *out = static_cast<T>(*n);
  }
  return Status::Ok();
}

}  // namespace

Status ParseNamespaceSpec(const nlohmann::json& j, OtherMembers others,
                          std::initializer_list<std::string_view> not_settings,
                          NamespaceSpec* spec) {
  if (!j.is_object()) return Status::Invalid("body is not a JSON object");
  for (const auto& item : j.items()) {
    // Named references, not structured bindings: clang 14 (the fuzz and
    // sanitizer builds) cannot capture those in the lambda below.
    const std::string& member = item.key();
    const nlohmann::json& value = item.value();
    if (std::find(not_settings.begin(), not_settings.end(), member) != not_settings.end()) {
      continue;
    }
    bool known = false;
    Status st;
    VisitNamespaceFields([&](const NamespaceField& field, auto /*config*/, auto spec_member) {
      if (known || field.name != member) return;
      known = true;
      st = ReadSetting(field, value, &(spec->*spec_member));
    });
    CTX_RETURN_IF_ERROR(st);
    if (!known && others == OtherMembers::kRefuse) {
      return Status::Invalid("unknown field \"" + member + "\"");
    }
  }
  return Status::Ok();
}

void ApplyNamespaceSpec(const NamespaceSpec& spec, NamespaceConfig* config) {
  VisitNamespaceFields([&](const NamespaceField& /*field*/, auto config_member, auto spec_member) {
    if (const auto& value = spec.*spec_member) config->*config_member = *value;
  });
}

Result<NamespaceInfo> ParseNamespaceInfo(const nlohmann::json& entry) {
  NamespaceInfo info;
  if (!entry.is_object()) return Status::Invalid("not a JSON object");
  auto name = entry.find("name");
  if (name == entry.end() || !name->is_string()) return Invalid("name", "a string");
  info.name = name->get<std::string>();
  NamespaceSpec spec;
  CTX_RETURN_IF_ERROR(ParseNamespaceSpec(entry, OtherMembers::kIgnore, {"id", "name"}, &spec));
  ApplyNamespaceSpec(spec, &info.config);
  for (auto [member, out] : {std::pair{"objects", &info.objects}, std::pair{"bytes", &info.bytes},
                             std::pair{"evictions", &info.evictions}}) {
    auto it = entry.find(member);
    if (it == entry.end()) continue;
    auto n = ReadUnsigned(*it, member);
    if (!n.ok()) return n.status();
    *out = *n;
  }
  if (auto id = entry.find("id"); id != entry.end()) {
    auto n = ReadUnsigned(*id, "id");
    if (!n.ok() || *n > UINT32_MAX) return Invalid("id", "a namespace id");
    info.id = static_cast<uint32_t>(*n);
  }
  return info;
}

}  // namespace ctxstore
