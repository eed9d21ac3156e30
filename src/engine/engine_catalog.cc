// Engine's namespace and access-token methods (engine.h): each a catalog
// change under catalog_mu_ and mu_ (ChangeCatalog) or a read under mu_. Apart
// from engine.cc only to keep that file within the size limit.
#include "engine/engine.h"

#include <spdlog/spdlog.h>

namespace ctxstore::engine {

Result<uint32_t> Engine::CreateNamespace(std::string_view name, const NamespaceConfig& config) {
  CTX_RETURN_IF_ERROR(Catalog::ValidateName(name));
  CTX_RETURN_IF_ERROR(Catalog::ValidateConfig(config));
  CTX_RETURN_IF_ERROR(CheckEncryptionKeyName(config));
  auto id =
      ChangeCatalog([&]() REQUIRES(mu_) { return catalog_.CreateNamespace(name, config, &mu_); });
  if (id.ok()) spdlog::info("namespace '{}' created (id {})", name, *id);
  return id;
}

Status Engine::SetNamespace(std::string_view name, const NamespaceConfig& config) {
  CTX_RETURN_IF_ERROR(Catalog::ValidateConfig(config));
  return ChangeCatalog([&]() REQUIRES(mu_) {
    const Namespace* ns = catalog_.Find(name);
    if (ns == nullptr) return Catalog::NoSuchNamespace(name);
    // Only a new key name must be loaded: a namespace whose key is missing
    // can still have its quota or TTLs changed.
    if (config.encryption_key != ns->config.encryption_key) {
      CTX_RETURN_IF_ERROR(catalog_.CheckKeyName(config));
    }
    const uint32_t id = ns->id;
    CTX_RETURN_IF_ERROR(catalog_.SetNamespace(id, config, &mu_));
    // A smaller quota applies at once.
    Status room = objects_.MakeRoom(*catalog_.Find(id), 0, nullptr);
    if (!room.ok()) {
      spdlog::warn("namespace '{}' stays over its new quota: {}", name, room.message());
    }
    return Status::Ok();
  });
}

Status Engine::CheckEncryptionKeyName(const NamespaceConfig& config) const {
  MutexLock lock(&mu_);
  return catalog_.CheckKeyName(config);
}

Status Engine::DeleteNamespace(std::string_view name) {
  if (name == kDefaultNamespaceName) {
    return Status::Invalid("the default namespace cannot be deleted");
  }
  return ChangeCatalog([&]() REQUIRES(mu_) {
    const Namespace* ns = catalog_.Find(name);
    if (ns == nullptr) return Catalog::NoSuchNamespace(name);
    const uint32_t id = ns->id;
    CTX_RETURN_IF_ERROR(catalog_.DeleteNamespace(id, &mu_));
    // Its tokens are revoked with it: connections holding one see the new
    // epoch on their next request.
    access_epoch_.fetch_add(1, std::memory_order_acq_rel);
    // Its records stay on flash until reclaimed; recovery skips them because
    // the catalog no longer names their namespace.
    objects_.EraseNamespace(id);
    catalog_.Drop(id);
    spdlog::info("namespace '{}' deleted", name);
    return Status::Ok();
  });
}

Result<NamespaceInfo> Engine::GetNamespace(std::string_view name) const {
  MutexLock lock(&mu_);
  const Namespace* ns = catalog_.Find(name);
  if (ns == nullptr) return Catalog::NoSuchNamespace(name);
  return ns->Info();
}

Result<uint32_t> Engine::ResolveNamespace(std::string_view name) const {
  auto info = GetNamespace(name.empty() ? kDefaultNamespaceName : name);
  if (!info.ok()) return info.status();
  return info->id;
}

std::vector<NamespaceInfo> Engine::ListNamespaces() const {
  MutexLock lock(&mu_);
  return catalog_.List();
}

Status Engine::AddToken(const AccessToken& token) {
  CTX_RETURN_IF_ERROR(Catalog::ValidateToken(token));
  return ChangeCatalog([&]() REQUIRES(mu_) { return catalog_.AddToken(token, &mu_); });
}

Status Engine::RevokeToken(std::string_view id) {
  return ChangeCatalog([&]() REQUIRES(mu_) {
    CTX_RETURN_IF_ERROR(catalog_.RevokeToken(id, &mu_));
    access_epoch_.fetch_add(1, std::memory_order_acq_rel);
    return Status::Ok();
  });
}

std::optional<AccessToken> Engine::FindToken(std::string_view id) const {
  MutexLock lock(&mu_);
  const AccessToken* token = catalog_.FindToken(id);
  if (token == nullptr) return std::nullopt;
  return *token;
}

std::vector<AccessToken> Engine::ListTokens() const {
  MutexLock lock(&mu_);
  return catalog_.Tokens();
}

}  // namespace ctxstore::engine
