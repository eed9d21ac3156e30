#include "protocol/admin_bodies.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace ctxstore::protocol {
namespace {

using nlohmann::json;

// Whatever the strings hold, the body is valid UTF-8: bytes that are not
// are replaced (only a client's own bad input can carry them).
std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json TokenJson(const TokenInfoWire& t) {
  return {{"id", t.id},
          {"role", t.role},
          {"namespace", t.namespace_name},
          {"label", t.label},
          {"created_ms", t.created_ms}};
}

bool ReadString(const json& j, const char* field, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

Result<TokenInfoWire> ParseTokenInfo(const json& j) {
  TokenInfoWire info;
  auto created = j.is_object() ? j.find("created_ms") : j.end();
  if (!j.is_object() || !ReadString(j, "id", &info.id) || !ReadString(j, "role", &info.role) ||
      !ReadString(j, "namespace", &info.namespace_name) || !ReadString(j, "label", &info.label) ||
      created == j.end() || !created->is_number_unsigned()) {
    return Status::Invalid("malformed token entry: " + Dump(j));
  }
  info.created_ms = created->get<uint64_t>();
  return info;
}

// Checks one member of a TOKEN_CREATE request and stores it.
Status ReadTokenField(const std::string& field, const json& value, TokenCreateRequest* req,
                      bool* has_role) {
  if (!value.is_string()) return Status::Invalid("\"" + field + "\" must be a string");
  const std::string& text = value.get_ref<const std::string&>();
  if (field == "role") {
    if (std::find(kTokenRoleNames.begin(), kTokenRoleNames.end(), text) == kTokenRoleNames.end()) {
      return Status::Invalid("role must be read, write or admin");
    }
    req->role = text;
    *has_role = true;
  } else if (field == "namespace") {
    req->namespace_name = text;
  } else if (field == "label") {
    if (text.size() > kMaxTokenLabelBytes) {
      return Status::Invalid("labels are at most " + std::to_string(kMaxTokenLabelBytes) +
                             " bytes");
    }
    req->label = text;
  } else {
    return Status::Invalid("unknown field \"" + field + "\"");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeStatsReply(std::span<const StatsField> fields) {
  json j = json::object();
  for (const StatsField& f : fields) {
    if (f.is_bool) {
      j[std::string(f.name)] = f.value != 0;
    } else {
      j[std::string(f.name)] = f.value;
    }
  }
  return j.dump();
}

Result<std::vector<StatsCounter>> DecodeStatsReply(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::Invalid("STATS reply is not a JSON object");
  std::vector<StatsCounter> counters;
  counters.reserve(j.size());
  for (const auto& [name, value] : j.items()) {
    if (value.is_boolean()) {
      counters.push_back({name, value.get<bool>() ? 1u : 0u});
    } else if (value.is_number_unsigned()) {
      counters.push_back({name, value.get<uint64_t>()});
    } else {
      return Status::Invalid("STATS counter \"" + name + "\" is not a non-negative integer");
    }
  }
  return counters;
}

std::string EncodeTokenCreateRequest(const TokenCreateRequest& req) {
  json j = {{"role", req.role}};
  if (!req.namespace_name.empty()) j["namespace"] = req.namespace_name;
  if (!req.label.empty()) j["label"] = req.label;
  return Dump(j);
}

Result<TokenCreateRequest> DecodeTokenCreateRequest(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  TokenCreateRequest req;
  bool has_role = false;
  for (const auto& [field, value] : j.items()) {
    CTX_RETURN_IF_ERROR(ReadTokenField(field, value, &req, &has_role));
  }
  if (!has_role) return Status::Invalid("missing \"role\"");
  const bool any_namespace = req.namespace_name.empty() || req.namespace_name == kAllNamespacesName;
  if (req.role == kAdminRoleName) {
    if (!any_namespace) {
      return Status::Invalid("admin tokens are valid in every namespace: give no namespace");
    }
  } else if (any_namespace) {
    return Status::Invalid("read and write tokens need a namespace");
  }
  return req;
}

std::string EncodeTokenCreateReply(const TokenCreateReply& reply) {
  json j = TokenJson(reply.info);
  j["token"] = reply.token;
  return Dump(j);
}

Result<TokenCreateReply> DecodeTokenCreateReply(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  auto info = ParseTokenInfo(j);
  if (!info.ok()) return info.status();
  TokenCreateReply reply{std::move(*info), {}};
  if (!ReadString(j, "token", &reply.token)) return Status::Invalid("TOKEN_CREATE without a token");
  return reply;
}

std::string EncodeTokenList(std::span<const TokenInfoWire> tokens) {
  json list = json::array();
  for (const TokenInfoWire& t : tokens) list.push_back(TokenJson(t));
  return Dump(list);
}

Result<std::vector<TokenInfoWire>> DecodeTokenList(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return Status::Invalid("TOKEN_LIST reply is not an array");
  std::vector<TokenInfoWire> out;
  out.reserve(j.size());
  for (const json& entry : j) {
    auto info = ParseTokenInfo(entry);
    if (!info.ok()) return info.status();
    out.push_back(std::move(*info));
  }
  return out;
}

}  // namespace ctxstore::protocol
