// The FaultDevice's names (name_journal.h): a create, rename or remove is
// durable only once its directory is synced; a power cut undoes pending
// ones, newest first (an oldest part may survive), and never leaves a
// name that was not there before or after.
#include <gtest/gtest.h>

#include <string>

#include "testing/fault_device.h"
#include "testing/mem_device.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kSeeds = 64;

// Creates path with data and fdatasyncs it: its bytes are durable, its
// name only once the directory is synced.
void CreateSynced(Device& dev, const std::string& path, std::string_view data) {
  OpenOptions opts;
  opts.create = true;
  opts.truncate = true;
  auto file = dev.Open(path, opts);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  iovec v{const_cast<char*>(data.data()), data.size()};
  ASSERT_TRUE((*file)->WriteV(0, std::span<const iovec>(&v, 1)).ok());
  ASSERT_TRUE((*file)->Sync().ok());
}

std::string Content(MemDevice& mem, const std::string& path) {
  if (!mem.FileExists(path)) return "(none)";
  auto data = mem.ReadFile(path);
  return data.ok() ? *data : "(unreadable)";
}

TEST(FaultDeviceNamesTest, ACreateIsDurableOnlyOnceItsDirectoryIsSynced) {
  uint64_t vanished = 0, kept = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    MemDevice mem;
    FaultDevice dev(&mem, seed);
    CreateSynced(dev, "/d/old", "old");
    ASSERT_TRUE(dev.SyncDir("/d").ok());
    CreateSynced(dev, "/d/a", "aaaa");
    CreateSynced(dev, "/d/b", "bbbb");
    dev.Crash(CrashTail::kAny);
    EXPECT_EQ(Content(mem, "/d/old"), "old") << "seed " << seed;
    const std::string a = Content(mem, "/d/a"), b = Content(mem, "/d/b");
    EXPECT_TRUE(a == "aaaa" || a == "(none)") << "seed " << seed << ": " << a;
    EXPECT_TRUE(b == "bbbb" || b == "(none)") << "seed " << seed << ": " << b;
    // Undone newest first: b survives only with a.
    EXPECT_FALSE(b == "bbbb" && a == "(none)") << "seed " << seed;
    vanished += b == "(none)";
    kept += b == "bbbb";
  }
  EXPECT_GT(vanished, 0u) << "a create without a directory sync always survived";
  EXPECT_GT(kept, 0u) << "a create without a directory sync never survived";
}

TEST(FaultDeviceNamesTest, ARenameIsUndoneWithWhatItReplacedUntilTheDirectoryIsSynced) {
  uint64_t undone = 0, kept = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    MemDevice mem;
    mem.SetFile("/d/CP", "old");  // durable before the device
    FaultDevice dev(&mem, seed);
    CreateSynced(dev, "/d/CP.tmp", "new");
    ASSERT_TRUE(dev.Rename("/d/CP.tmp", "/d/CP").ok());
    dev.Crash(CrashTail::kAny);
    const std::string cp = Content(mem, "/d/CP"), tmp = Content(mem, "/d/CP.tmp");
    if (cp == "old") {
      ++undone;
      EXPECT_TRUE(tmp == "new" || tmp == "(none)") << "seed " << seed << ": " << tmp;
    } else {
      ++kept;
      EXPECT_EQ(cp, "new") << "seed " << seed;
      EXPECT_EQ(tmp, "(none)") << "seed " << seed;
    }
  }
  EXPECT_GT(undone, 0u);
  EXPECT_GT(kept, 0u);
  // WriteFileAtomic syncs the directory: the new file always survives.
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    MemDevice mem;
    mem.SetFile("/d/CP", "old");
    FaultDevice dev(&mem, seed);
    ASSERT_TRUE(dev.WriteFileAtomic("/d/CP", "new").ok());
    dev.Crash(CrashTail::kAny);
    EXPECT_EQ(Content(mem, "/d/CP"), "new") << "seed " << seed;
    EXPECT_EQ(Content(mem, "/d/CP.tmp"), "(none)") << "seed " << seed;
  }
}

TEST(FaultDeviceNamesTest, ARemoveIsUndoneUntilTheDirectoryIsSynced) {
  uint64_t back = 0, gone = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    MemDevice mem;
    mem.SetFile("/d/x", "xxxx");
    mem.SetFile("/d/y", "yyyy");
    FaultDevice dev(&mem, seed);
    ASSERT_TRUE(dev.Remove("/d/x").ok());
    ASSERT_TRUE(dev.SyncDir("/d").ok());
    ASSERT_TRUE(dev.Remove("/d/y").ok());
    dev.Crash(CrashTail::kAny);
    EXPECT_EQ(Content(mem, "/d/x"), "(none)") << "seed " << seed << ": synced, it stays removed";
    const std::string y = Content(mem, "/d/y");
    EXPECT_TRUE(y == "yyyy" || y == "(none)") << "seed " << seed << ": " << y;
    back += y == "yyyy";
    gone += y == "(none)";
    EXPECT_EQ(dev.fault_counts().names_undone, y == "yyyy" ? 1u : 0u) << "seed " << seed;
  }
  EXPECT_GT(back, 0u);
  EXPECT_GT(gone, 0u);
}

}  // namespace
}  // namespace ctxstore::engine
