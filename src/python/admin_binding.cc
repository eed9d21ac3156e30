// _ctxstore.Client: what is stored (stat, list), pins, flush, statistics,
// and the admin calls (namespaces, tokens). Objects, namespaces and tokens
// come back as dicts; ctxstore/types.py turns them into dataclasses.
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <type_traits>

#include "ctxstore/namespace.h"
#include "python/errors.h"
#include "python/gil.h"
#include "python/native_client.h"

namespace py = pybind11;

namespace ctxstore::python {
namespace {

py::dict ObjectDict(const ObjectInfo& o) {
  py::dict d;
  d["key"] = BytesOf(o.key);
  d["value_len"] = o.value_len;
  d["value_xxh3"] = o.value_xxh3;
  d["created_ms"] = o.created_ms;
  d["expires_ms"] = o.expires_ms;
  d["in_dram"] = o.in_dram;
  d["on_flash"] = o.on_flash;
  d["durable"] = o.durable;
  d["sealed"] = o.sealed;
  d["pinned"] = o.pinned;
  d["pin_dram"] = o.pin_dram;
  d["pin_expires_ms"] = o.pin_expires_ms;
  d["leases"] = o.leases;
  d["lease_expires_ms"] = o.lease_expires_ms;
  d["orphan"] = o.orphan;
  d["group"] = BytesOf(o.group);
  d["parent"] = BytesOf(o.parent);
  d["writer"] = o.writer;
  d["meta"] = BytesOf(o.meta);
  return d;
}

// Settings by their wire names (include/ctxstore/namespace.h), one loop
// over VisitNamespaceFields each way.
NamespaceSpec SpecFrom(const py::dict& settings) {
  NamespaceSpec spec;
  size_t used = 0;
  std::string names;
  VisitNamespaceFields([&](const NamespaceField& f, auto, auto member) {
    names += (names.empty() ? "" : ", ") + std::string(f.name);
    const py::str name(f.name.data(), f.name.size());
    if (!settings.contains(name)) return;
    ++used;
    using T = typename std::remove_reference_t<decltype(spec.*member)>::value_type;
    try {
      spec.*member = settings[name].cast<T>();
    } catch (const py::cast_error&) {
      Throw(Status::Invalid("namespace setting " + std::string(f.name) + " has the wrong type"));
    }
  });
  if (used != settings.size()) {
    Throw(Status::Invalid("unknown namespace setting; the settings are: " + names));
  }
  return spec;
}

py::dict NamespaceDict(const NamespaceInfo& n) {
  py::dict d;
  d["id"] = n.id;
  d["name"] = n.name;
  d["objects"] = n.objects;
  d["bytes"] = n.bytes;
  d["evictions"] = n.evictions;
  py::dict settings;
  VisitNamespaceFields([&](const NamespaceField& f, auto config_member, auto) {
    settings[py::str(f.name.data(), f.name.size())] = n.config.*config_member;
  });
  d["settings"] = settings;
  return d;
}

py::dict TokenDict(const TokenInfo& t) {
  py::dict d;
  d["id"] = t.id;
  d["role"] = t.role;
  d["namespace"] = t.namespace_name;
  d["label"] = t.label;
  d["created_ms"] = t.created_ms;
  return d;
}

void BindObjects(py::class_<NativeClient>& cls) {
  cls.def("stat", [](NativeClient& self, py::handle key) -> std::optional<py::dict> {
    const std::string k = KeyFrom(key);
    auto client = self.get();
    Result<ObjectInfo> info = Unlocked([&] { return client->Stat(k); });
    if (info.status().code() == StatusCode::kNotFound) return std::nullopt;
    return ObjectDict(Unwrap(std::move(info)));
  });
  cls.def("list_page", [](NativeClient& self, py::handle prefix, py::handle group,
                          const std::string& cursor, uint32_t limit) {
    ListOptions o{
        .prefix = KeyFrom(prefix), .group = KeyFrom(group), .cursor = cursor, .limit = limit};
    auto client = self.get();
    const ListPage page = Unwrap(Unlocked([&] { return client->List(o); }));
    py::list items;
    for (const ObjectInfo& info : page.items) items.append(ObjectDict(info));
    return py::make_tuple(items, page.next_cursor);
  });
  cls.def("pin",
          [](NativeClient& self, py::handle name, bool by_group, uint64_t ttl_ms, bool dram) {
            const std::string n = KeyFrom(name);
            const PinOptions o{.by_group = by_group, .ttl_ms = ttl_ms, .dram = dram};
            auto client = self.get();
            return Unwrap(Unlocked([&] { return client->Pin(n, o); }));
          });
  cls.def("unpin", [](NativeClient& self, py::handle name, bool by_group) {
    const std::string n = KeyFrom(name);
    auto client = self.get();
    return Found(Unlocked([&] { return client->Unpin(n, by_group); }));
  });
  cls.def("delete_group", [](NativeClient& self, py::handle group) {
    const std::string g = KeyFrom(group);
    auto client = self.get();
    return Unwrap(Unlocked([&] { return client->DeleteGroup(g); }));
  });
  cls.def("flush", [](NativeClient& self) {
    auto client = self.get();
    Check(Unlocked([&] { return client->Flush(); }));
  });
  cls.def("stats_json", [](NativeClient& self) {
    auto client = self.get();
    return Unwrap(Unlocked([&] { return client->StatsJson(); }));
  });
}

void BindNamespacesAndTokens(py::class_<NativeClient>& cls) {
  cls.def("create_namespace", [](NativeClient& self, const std::string& name, py::dict settings) {
    const NamespaceSpec spec = SpecFrom(settings);
    auto client = self.get();
    Check(Unlocked([&] { return client->CreateNamespace(name, spec); }));
  });
  cls.def("set_namespace", [](NativeClient& self, const std::string& name, py::dict settings) {
    const NamespaceSpec spec = SpecFrom(settings);
    auto client = self.get();
    Check(Unlocked([&] { return client->SetNamespace(name, spec); }));
  });
  cls.def("list_namespaces", [](NativeClient& self) {
    auto client = self.get();
    const auto all = Unwrap(Unlocked([&] { return client->ListNamespaces(); }));
    py::list out;
    for (const NamespaceInfo& n : all) out.append(NamespaceDict(n));
    return out;
  });
  cls.def("delete_namespace", [](NativeClient& self, const std::string& name) {
    auto client = self.get();
    Check(Unlocked([&] { return client->DeleteNamespace(name); }));
  });
  cls.def("create_token", [](NativeClient& self, const std::string& role,
                             const std::string& namespace_name, const std::string& label) {
    auto client = self.get();
    const CreatedToken t =
        Unwrap(Unlocked([&] { return client->CreateToken(role, namespace_name, label); }));
    return py::make_tuple(TokenDict(t.info), t.token);
  });
  cls.def("list_tokens", [](NativeClient& self) {
    auto client = self.get();
    const auto all = Unwrap(Unlocked([&] { return client->ListTokens(); }));
    py::list out;
    for (const TokenInfo& t : all) out.append(TokenDict(t));
    return out;
  });
  cls.def("revoke_token", [](NativeClient& self, const std::string& id) {
    auto client = self.get();
    return Found(Unlocked([&] { return client->RevokeToken(id); }));
  });
}

}  // namespace

void BindAdmin(py::class_<NativeClient>& cls) {
  BindObjects(cls);
  BindNamespacesAndTokens(cls);
}

}  // namespace ctxstore::python
