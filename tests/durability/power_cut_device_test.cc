// The power-cut device itself, on the real file system: what a cut keeps is
// exactly what was made durable (data by Sync, names by SyncDir), and never
// more than was written.
#include "testing/power_cut_device.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server_process.h"

namespace ctxstore::engine {
namespace {

using ctxstore::testing::TempDir;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class PowerCutDeviceTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return data_ + "/" + name; }

  void Write(File& file, uint64_t offset, const std::string& bytes) {
    iovec v{const_cast<char*>(bytes.data()), bytes.size()};
    ASSERT_TRUE(file.WriteV(offset, {&v, 1}).ok());
  }

  // A file written and synced, its name made durable.
  void MakeDurable(const std::string& name, const std::string& bytes) {
    auto file = device_.Open(Path(name), {.create = true});
    ASSERT_TRUE(file.ok());
    Write(**file, 0, bytes);
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(device_.SyncDir(data_).ok());
  }

  void Cut(CrashTail tail = CrashTail::kDrop) {
    auto report = device_.CutPower(tail, 7);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }

  TempDir root_;
  const std::string data_ = root_.path() + "/data";
  std::unique_ptr<Device> posix_ = NewPosixDevice();
  PowerCutDevice device_{posix_.get(), root_.path() + "/stash"};
  void SetUp() override { std::filesystem::create_directory(data_); }
};

TEST_F(PowerCutDeviceTest, KeepsSyncedBytesDropsTheUnsyncedTail) {
  MakeDurable("f", "synced");
  auto file = device_.Open(Path("f"), {});
  ASSERT_TRUE(file.ok());
  Write(**file, 6, "-tail");
  EXPECT_EQ(device_.counts().unsynced_bytes, 5u);
  Cut();
  EXPECT_EQ(Slurp(Path("f")), "synced");
  EXPECT_FALSE(device_.Open(Path("f"), {}).ok()) << "everything fails after a cut";
}

TEST_F(PowerCutDeviceTest, RestoresOverwrittenSyncedBytes) {
  MakeDurable("f", "0123456789");
  auto file = device_.Open(Path("f"), {});
  ASSERT_TRUE(file.ok());
  Write(**file, 2, "ab");
  Write(**file, 3, "XYZ");
  Cut();
  EXPECT_EQ(Slurp(Path("f")), "0123456789");
}

TEST_F(PowerCutDeviceTest, TruncatedSyncedFileComesBack) {
  MakeDurable("f", "old contents");
  auto file = device_.Open(Path("f"), {.truncate = true});
  ASSERT_TRUE(file.ok());
  Write(**file, 0, "new");
  Cut();
  EXPECT_EQ(Slurp(Path("f")), "old contents");
}

TEST_F(PowerCutDeviceTest, ACreatedFileNeedsItsDirectorySynced) {
  auto a = device_.Open(Path("a"), {.create = true});
  ASSERT_TRUE(a.ok());
  Write(**a, 0, "a");
  ASSERT_TRUE((*a)->Sync().ok());  // its data, not its name
  MakeDurable("b", "b");           // syncs the folder: now a's name is durable too
  auto c = device_.Open(Path("c"), {.create = true});
  ASSERT_TRUE(c.ok());
  Write(**c, 0, "c");
  ASSERT_TRUE((*c)->Sync().ok());
  Cut();
  EXPECT_EQ(Slurp(Path("a")), "a");
  EXPECT_EQ(Slurp(Path("b")), "b");
  EXPECT_FALSE(std::filesystem::exists(Path("c"))) << "its folder was never synced after it";
}

TEST_F(PowerCutDeviceTest, RenameAndRemoveAreUndoneWithoutADirectorySync) {
  MakeDurable("target", "old");
  MakeDurable("victim", "victim");
  MakeDurable("tmp", "new");
  ASSERT_TRUE(device_.Rename(Path("tmp"), Path("target")).ok());
  ASSERT_TRUE(device_.Remove(Path("victim")).ok());
  EXPECT_EQ(Slurp(Path("target")), "new");
  EXPECT_EQ(device_.counts().pending_names, 2u);
  Cut();
  EXPECT_EQ(Slurp(Path("target")), "old");
  EXPECT_EQ(Slurp(Path("tmp")), "new");
  EXPECT_EQ(Slurp(Path("victim")), "victim");
}

TEST_F(PowerCutDeviceTest, WriteFileAtomicIsDurableOnceItReturns) {
  MakeDurable("CATALOG", "v1");
  ASSERT_TRUE(device_.WriteFileAtomic(Path("CATALOG"), "v2").ok());
  EXPECT_EQ(device_.counts().pending_names, 0u);
  Cut();
  EXPECT_EQ(Slurp(Path("CATALOG")), "v2");
  EXPECT_FALSE(std::filesystem::exists(Path("CATALOG.tmp")));
}

TEST_F(PowerCutDeviceTest, ACreatedDirectoryNeedsItsParentSynced) {
  ASSERT_TRUE(device_.CreateDir(Path("sub")).ok());
  auto f = device_.Open(Path("sub/f"), {.create = true});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(device_.SyncDir(Path("sub")).ok());
  Cut();
  EXPECT_FALSE(std::filesystem::exists(Path("sub")));
}

TEST_F(PowerCutDeviceTest, ATornTailKeepsAtMostWhatWasWritten) {
  MakeDurable("f", std::string(4096, 's'));
  std::string tail(64 * 1024, '\0');
  for (size_t i = 0; i < tail.size(); ++i) tail[i] = static_cast<char>('a' + i % 26);
  auto file = device_.Open(Path("f"), {});
  ASSERT_TRUE(file.ok());
  Write(**file, 4096, tail);
  Cut(CrashTail::kTornPrefix);
  const std::string after = Slurp(Path("f"));
  ASSERT_GE(after.size(), 4096u);
  ASSERT_LE(after.size(), 4096u + tail.size());
  EXPECT_EQ(after.size() % 512, 0u);
  EXPECT_EQ(after.substr(0, 4096), std::string(4096, 's'));
  // All but the last kept sector are the written bytes (that one may be garbage).
  const size_t kept = after.size() - 4096;
  if (kept > 512) {
    EXPECT_EQ(after.substr(4096, kept - 512), tail.substr(0, kept - 512));
  }
}

TEST_F(PowerCutDeviceTest, CutAtAnOperationRunsTheCallbackAndFailsIt) {
  MakeDurable("f", "durable");
  const uint64_t ops_before = device_.counts().mutating_ops;
  int calls = 0;
  uint64_t at_op = 0;
  // Runs with the device's lock held: it must not call the device.
  device_.CutPowerAtOp(2, CrashTail::kDrop, 1, [&](const Result<CutReport>& report) {
    ++calls;
    if (report.ok()) at_op = report->at_op;
  });
  auto file = device_.Open(Path("f"), {});
  ASSERT_TRUE(file.ok());
  Write(**file, 7, "-one");  // op 1
  iovec v{const_cast<char*>("-two"), 4};
  EXPECT_FALSE((*file)->WriteV(11, {&v, 1}).ok());  // op 2: the cut
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(at_op, ops_before + 2);
  EXPECT_EQ(Slurp(Path("f")), "durable");
}

TEST_F(PowerCutDeviceTest, InjectedFaultsLastUntilCleared) {
  MakeDurable("seg-1", "x");
  device_.AddFault(DiskOp::kWrite, DiskFault::kNoSpace, "seg-");
  device_.AddFault(DiskOp::kRead, DiskFault::kIoError, "seg-");
  auto file = device_.Open(Path("seg-1"), {});
  ASSERT_TRUE(file.ok());
  iovec v{const_cast<char*>("y"), 1};
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*file)->WriteV(1, {&v, 1}).code(), StatusCode::kNoSpace);
  uint8_t byte = 0;
  EXPECT_EQ((*file)->ReadAt(0, {&byte, 1}).status().code(), StatusCode::kIoError);
  EXPECT_EQ(device_.counts().injected_faults, 4u);
  device_.ClearFaults();
  EXPECT_TRUE((*file)->WriteV(1, {&v, 1}).ok());
  EXPECT_TRUE((*file)->ReadAt(0, {&byte, 1}).ok());
}

}  // namespace
}  // namespace ctxstore::engine
