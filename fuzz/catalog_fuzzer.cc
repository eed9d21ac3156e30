// Fuzzes the CATALOG file (src/engine/context/catalog.cc): the input is the
// file's bytes, loaded as the engine loads it at startup.
//
// Invariants: loading never crashes; a file it refuses gets kCorrupt or
// kUnsupported naming the file; one it accepts holds the default namespace
// (id 0, "default"), valid and distinct names and settings, and valid
// tokens; a namespace created next gets a fresh id, never kAllNamespaces
// (the id admin tokens use for "every namespace"); and the file written for
// that change loads again with the same namespaces, tokens and pins.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "engine/context/catalog.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/fuzz_key.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kNowMs = 1'700'000'000'000ull;
const char* const kDataDir = "/fuzz/data";
const std::string kPath = std::string(kDataDir) + "/CATALOG";

// What a loaded catalog holds, for comparing two loads.
struct Contents {
  std::map<uint32_t, std::string> namespaces;
  std::map<std::string, uint32_t> tokens;  // id -> namespace
  size_t pins = 0;
  bool operator==(const Contents&) const = default;
};

Contents Check(const Catalog& catalog) {
  Contents c;
  const Namespace* def = catalog.Find(kDefaultNamespaceId);
  FUZZ_CHECK(def != nullptr && def->name == kDefaultNamespaceName);
  for (const NamespaceInfo& info : catalog.List()) {
    FUZZ_CHECK(info.id != kAllNamespaces);
    FUZZ_CHECK(Catalog::ValidateName(info.name).ok());
    FUZZ_CHECK(Catalog::ValidateConfig(info.config).ok());
    const Namespace* by_name = catalog.Find(info.name);
    FUZZ_CHECK(by_name != nullptr && by_name->id == info.id);  // names are distinct
    FUZZ_CHECK(catalog.Find(info.id)->policy != nullptr);
    c.namespaces[info.id] = info.name;
  }
  FUZZ_CHECK(c.namespaces.size() == catalog.namespace_count());
  for (const AccessToken& t : catalog.Tokens()) {
    FUZZ_CHECK(Catalog::ValidateToken(t).ok());
    c.tokens[t.id] = t.namespace_id;
  }
  c.pins = catalog.pin_rules();
  return c;
}

MemDevice* device = nullptr;

}  // namespace
}  // namespace ctxstore::engine

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  ctxstore::engine::device = new ctxstore::engine::MemDevice();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore;
  using namespace ctxstore::engine;
  static const std::shared_ptr<const Keyring> keyring = FuzzKeyring();
  device->Clear();
  device->SetFile(kPath, std::string_view(reinterpret_cast<const char*>(data), size));
  Catalog catalog(device, kDataDir, "lru", keyring);
  Status loaded = catalog.Load(kNowMs);
  if (!loaded.ok()) {
    FUZZ_CHECK(loaded.code() == StatusCode::kCorrupt || loaded.code() == StatusCode::kUnsupported);
    FUZZ_CHECK(loaded.message().find(kPath) != std::string::npos);
    return 0;
  }
  Contents before = Check(catalog);

  Mutex mu;
  MutexLock lock(&mu);
  std::string name = "fuzz-new";
  while (catalog.Find(name) != nullptr) name += "x";
  auto id = catalog.CreateNamespace(name, {}, &mu);
  if (!id.ok()) {
    FUZZ_CHECK(id.status().code() == StatusCode::kNoSpace);  // ids used up
    return 0;
  }
  FUZZ_CHECK(*id != kAllNamespaces && !before.namespaces.contains(*id));
  before.namespaces[*id] = name;

  Catalog again(device, kDataDir, "lru", keyring);
  Status reloaded = again.Load(kNowMs);
  if (!reloaded.ok()) std::fprintf(stderr, "reload: %s\n", reloaded.ToString().c_str());
  FUZZ_CHECK(reloaded.ok());
  FUZZ_CHECK(Check(again) == before);
  return 0;
}
