#include "protocol/namespace_bodies.h"

#include <nlohmann/json.hpp>

#include "common/namespace_json.h"

namespace ctxstore::protocol {

std::string EncodeNamespaceRequest(std::string_view name, const NamespaceSpec& spec) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = std::string(name);
  AddNamespaceSpecJson(spec, &j);
  // Names that are not UTF-8 are sent with replacement characters; the
  // server refuses them as invalid names anyway.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<NamespaceRequest> DecodeNamespaceRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  NamespaceRequest req;
  CTX_RETURN_IF_ERROR(ParseNamespaceSpec(j, OtherMembers::kRefuse, {"name"}, &req.spec));
  auto name = j.find("name");
  if (name == j.end()) return Status::Invalid("missing \"name\"");
  if (!name->is_string()) return Status::Invalid("\"name\" must be a string");
  req.name = name->get<std::string>();
  return req;
}

std::string EncodeNamespaceList(std::span<const NamespaceInfo> namespaces) {
  nlohmann::json list = nlohmann::json::array();
  for (const NamespaceInfo& ns : namespaces) list.push_back(NamespaceInfoJson<nlohmann::json>(ns));
  return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<NamespaceInfo>> DecodeNamespaceList(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array())
    return Status::Invalid("NS_LIST reply is not a JSON array");
  std::vector<NamespaceInfo> out;
  out.reserve(j.size());
  for (const nlohmann::json& entry : j) {
    auto info = ParseNamespaceInfo(entry);
    if (!info.ok()) {
      return Status::Invalid("NS_LIST reply has a malformed entry: " +
                             entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    out.push_back(std::move(*info));
  }
  return out;
}

}  // namespace ctxstore::protocol
