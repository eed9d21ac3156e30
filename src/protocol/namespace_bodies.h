// The JSON bodies of the namespace ops (docs/protocol.md, "Namespaces"):
// NS_CREATE and NS_SET requests, and the NS_LIST reply. Every setting is
// read and written through the one field table of include/ctxstore/
// namespace.h (by common/namespace_json.h, which the engine's catalog file
// shares), so a new setting needs no change here.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ctxstore/namespace.h"
#include "ctxstore/status.h"

namespace ctxstore::protocol {

// NS_CREATE / NS_SET request: {"name": ..., and the settings it names}.
struct NamespaceRequest {
  std::string name;
  NamespaceSpec spec;  // NS_CREATE: the rest get defaults; NS_SET: the rest stay
};
std::string EncodeNamespaceRequest(std::string_view name, const NamespaceSpec& spec);
// Every member is checked (type, range, unknown names) before anything is
// applied, so that a bad NS_SET changes nothing.
Result<NamespaceRequest> DecodeNamespaceRequest(std::string_view body);

// NS_LIST reply: a JSON array, one object per namespace with its id, name,
// settings and usage. Settings an older server leaves out stay at their
// defaults; members a newer one adds are ignored.
std::string EncodeNamespaceList(std::span<const NamespaceInfo> namespaces);
Result<std::vector<NamespaceInfo>> DecodeNamespaceList(std::string_view body);

}  // namespace ctxstore::protocol
