#include "engine/flash/device.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace ctxstore::engine {
namespace {

// Page-aligned buffer for O_DIRECT.
struct AlignedBuf {
  explicit AlignedBuf(size_t size_bytes)
      : data(static_cast<uint8_t*>(std::aligned_alloc(kDirectIoAlignment, size_bytes))),
        size(size_bytes) {}
  ~AlignedBuf() { std::free(data); }
  AlignedBuf(const AlignedBuf&) = delete;
  AlignedBuf& operator=(const AlignedBuf&) = delete;
  void Fill(uint8_t seed) {
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(seed + i * 31);
  }
  uint8_t* data;
  size_t size;
};

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ctxstore-device-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    dev_ = NewPosixDevice();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::unique_ptr<File> OpenOrDie(const std::string& name, OpenOptions opts) {
    auto f = dev_->Open(Path(name), opts);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }

  static OpenOptions Create(bool direct = false) {
    OpenOptions o;
    o.create = true;
    o.direct = direct;
    return o;
  }

  std::string dir_;
  std::unique_ptr<Device> dev_;
};

Status WriteString(File* f, uint64_t offset, std::string_view s) {
  iovec v{const_cast<char*>(s.data()), s.size()};
  return f->WriteV(offset, std::span<const iovec>(&v, 1));
}

TEST_F(DeviceTest, DirectWriteVReadAtRoundTrip) {
  auto f = OpenOrDie("direct", Create(/*direct=*/true));
  ASSERT_NE(f, nullptr);
  AlignedBuf a(4096), b(8192), c(4096);
  a.Fill(1);
  b.Fill(2);
  c.Fill(3);
  iovec iov[] = {{a.data, a.size}, {b.data, b.size}, {c.data, c.size}};
  ASSERT_TRUE(f->WriteV(4096, iov).ok());
  ASSERT_TRUE(f->Sync().ok());
  EXPECT_EQ(*f->Size(), 4096u + 16384u);

  AlignedBuf back(16384);
  auto n = f->ReadAt(4096, std::span<uint8_t>(back.data, back.size));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 16384u);
  EXPECT_EQ(std::memcmp(back.data, a.data, 4096), 0);
  EXPECT_EQ(std::memcmp(back.data + 4096, b.data, 8192), 0);
  EXPECT_EQ(std::memcmp(back.data + 12288, c.data, 4096), 0);
  EXPECT_EQ(f->path(), Path("direct"));
}

TEST_F(DeviceTest, DirectMisalignedWriteFails) {
  auto f = OpenOrDie("direct", Create(/*direct=*/true));
  ASSERT_NE(f, nullptr);
  AlignedBuf a(4096);
  iovec v{a.data, 100};
  Status st = f->WriteV(0, std::span<const iovec>(&v, 1));
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find(Path("direct")), std::string::npos) << st.message();
}

TEST_F(DeviceTest, MoreIovecsThanIovMax) {
  // Buffered: 3000 small buffers of varying sizes.
  auto f = OpenOrDie("many", Create());
  ASSERT_NE(f, nullptr);
  std::vector<std::string> parts;
  std::string expect;
  for (int i = 0; i < 3000; ++i) {
    parts.push_back(std::string(1 + i % 37, static_cast<char>('a' + i % 26)));
    expect += parts.back();
  }
  std::vector<iovec> iovs;
  for (auto& p : parts) iovs.push_back({p.data(), p.size()});
  iovs.insert(iovs.begin() + 500, iovec{nullptr, 0});  // empty buffers are fine
  ASSERT_TRUE(f->WriteV(10, iovs).ok());
  std::string back(expect.size(), '\0');
  auto n = f->ReadAt(10, std::span<uint8_t>(reinterpret_cast<uint8_t*>(back.data()), back.size()));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, expect.size());
  EXPECT_EQ(back, expect);

  // Direct: 1100 aligned pages.
  auto g = OpenOrDie("many-direct", Create(/*direct=*/true));
  ASSERT_NE(g, nullptr);
  constexpr size_t kPages = 1100;
  AlignedBuf src(kPages * 4096);
  src.Fill(9);
  std::vector<iovec> pages;
  for (size_t i = 0; i < kPages; ++i) pages.push_back({src.data + i * 4096, 4096});
  ASSERT_TRUE(g->WriteV(0, pages).ok());
  AlignedBuf dst(kPages * 4096);
  auto m = g->ReadAt(0, std::span<uint8_t>(dst.data, dst.size));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, dst.size);
  EXPECT_EQ(std::memcmp(src.data, dst.data, dst.size), 0);
}

TEST_F(DeviceTest, ReadAtIsShortAtEof) {
  auto f = OpenOrDie("short", Create());
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(WriteString(f.get(), 0, std::string(100, 'x')).ok());
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(*f->ReadAt(50, buf), 50u);
  EXPECT_EQ(*f->ReadAt(100, buf), 0u);
  EXPECT_EQ(*f->ReadAt(1000, buf), 0u);
  EXPECT_EQ(*f->ReadAt(0, std::span<uint8_t>()), 0u);

  // O_DIRECT: a file that does not end on a block boundary.
  ASSERT_TRUE(WriteString(f.get(), 0, std::string(5000, 'y')).ok());
  OpenOptions direct;
  direct.direct = true;
  direct.read_only = true;
  auto g = OpenOrDie("short", direct);
  ASSERT_NE(g, nullptr);
  AlignedBuf big(8192);
  auto n = g->ReadAt(0, std::span<uint8_t>(big.data, big.size));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 5000u);
  EXPECT_EQ(big.data[4999], 'y');
}

// Transfers of 2 MiB and more are cut into 1 MiB pieces submitted
// together: the bytes must land in order, whatever the buffer boundaries.
TEST_F(DeviceTest, LargeDirectTransfersInParallelPiecesRoundTrip) {
  auto f = OpenOrDie("large", Create(/*direct=*/true));
  ASSERT_NE(f, nullptr);
  // Buffers of uneven (block-multiple) sizes, so that pieces split buffers.
  const size_t sizes[] = {4096, 3u << 20, 12288, (1u << 20) + 8192, 4096 * 7};
  std::vector<std::unique_ptr<AlignedBuf>> bufs;
  std::vector<iovec> iov;
  size_t total = 0;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    bufs.push_back(std::make_unique<AlignedBuf>(sizes[i]));
    bufs.back()->Fill(static_cast<uint8_t>(i * 17 + 1));
    iov.push_back({bufs.back()->data, sizes[i]});
    total += sizes[i];
  }
  ASSERT_TRUE(f->WriteV(8192, iov).ok());
  auto size = f->Size();
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 8192 + total);

  AlignedBuf back(total);
  auto n = f->ReadAt(8192, {back.data, total});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(*n, total);
  size_t pos = 0;
  for (size_t i = 0; i < std::size(sizes); ++i) {
    ASSERT_EQ(std::memcmp(back.data + pos, bufs[i]->data, sizes[i]), 0) << "buffer " << i;
    pos += sizes[i];
  }
  // A large read running past the end is short, exactly at the end.
  AlignedBuf past(4u << 20);
  auto m = f->ReadAt(total + 8192 - (1u << 20), {past.data, past.size});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, 1u << 20);
  EXPECT_EQ(std::memcmp(past.data, back.data + total - (1u << 20), 1u << 20), 0);
}

TEST_F(DeviceTest, WriteFileAtomicReplacesContent) {
  const std::string p = Path("MANIFEST");
  ASSERT_TRUE(dev_->WriteFileAtomic(p, "first version, fairly long").ok());
  EXPECT_EQ(*dev_->ReadFile(p), "first version, fairly long");
  ASSERT_TRUE(dev_->WriteFileAtomic(p, "second").ok());
  EXPECT_EQ(*dev_->ReadFile(p), "second");
  EXPECT_FALSE(dev_->FileExists(p + ".tmp"));
  ASSERT_TRUE(dev_->WriteFileAtomic(p, "").ok());
  EXPECT_EQ(*dev_->ReadFile(p), "");
  std::string big(100000, 'q');
  big[99999] = 'z';
  ASSERT_TRUE(dev_->WriteFileAtomic(p, big).ok());
  EXPECT_EQ(*dev_->ReadFile(p), big);
  EXPECT_EQ(dev_->ReadFile(Path("absent")).status().code(), StatusCode::kIoError);
}

TEST_F(DeviceTest, DirectoryOperations) {
  ASSERT_TRUE(dev_->WriteFileAtomic(Path("b"), "b").ok());
  ASSERT_TRUE(dev_->WriteFileAtomic(Path("a"), "a").ok());
  ASSERT_TRUE(dev_->CreateDir(Path("c")).ok());
  ASSERT_TRUE(dev_->CreateDir(Path("c")).ok());                          // exists: fine
  EXPECT_EQ(dev_->CreateDir(Path("a")).code(), StatusCode::kIoError);    // a file
  EXPECT_EQ(dev_->CreateDir(Path("x/y")).code(), StatusCode::kIoError);  // one level only
  ASSERT_TRUE(dev_->SyncDir(dir_).ok());
  EXPECT_EQ(dev_->SyncDir(Path("missing")).code(), StatusCode::kIoError);

  auto names = dev_->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(dev_->ListDir(Path("missing")).status().code(), StatusCode::kIoError);

  EXPECT_TRUE(dev_->FileExists(Path("a")));
  ASSERT_TRUE(dev_->Remove(Path("a")).ok());
  EXPECT_FALSE(dev_->FileExists(Path("a")));
  EXPECT_EQ(dev_->Remove(Path("a")).code(), StatusCode::kIoError);

  ASSERT_TRUE(dev_->Rename(Path("b"), Path("d")).ok());
  EXPECT_EQ(*dev_->ReadFile(Path("d")), "b");
  EXPECT_EQ(dev_->Rename(Path("b"), Path("e")).code(), StatusCode::kIoError);
  EXPECT_EQ(*dev_->ListDir(dir_), (std::vector<std::string>{"c", "d"}));
}

TEST_F(DeviceTest, OpenMissingWithoutCreateFails) {
  auto f = dev_->Open(Path("nope"), OpenOptions{});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIoError);
  EXPECT_NE(f.status().message().find(Path("nope")), std::string::npos);
  EXPECT_NE(f.status().message().find(std::strerror(ENOENT)), std::string::npos);
  EXPECT_FALSE(dev_->FileExists(Path("nope")));
}

TEST_F(DeviceTest, TruncateAndReadOnly) {
  auto f = OpenOrDie("t", Create());
  ASSERT_TRUE(WriteString(f.get(), 0, "hello world").ok());
  f.reset();
  OpenOptions ro;
  ro.read_only = true;
  auto r = OpenOrDie("t", ro);
  EXPECT_EQ(*r->Size(), 11u);
  EXPECT_EQ(WriteString(r.get(), 0, "x").code(), StatusCode::kIoError);  // EBADF
  OpenOptions trunc = Create();
  trunc.truncate = true;
  auto t = OpenOrDie("t", trunc);
  EXPECT_EQ(*t->Size(), 0u);
}

TEST_F(DeviceTest, ConcurrentThreadsEachUseTheirOwnRing) {
  auto f = OpenOrDie("shared", Create());
  ASSERT_NE(f, nullptr);
  constexpr int kThreads = 4;
  // All threads hold their rings at once, so they really are distinct rings.
  std::barrier sync(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      sync.arrive_and_wait();
      std::string chunk(4096, static_cast<char>('A' + t));
      for (int i = 0; i < 50; ++i) {
        uint64_t off = (static_cast<uint64_t>(i) * kThreads + t) * 4096;
        if (!WriteString(f.get(), off, chunk).ok()) ++errors;
        std::string back(4096, '\0');
        auto n = f->ReadAt(off, std::span<uint8_t>(reinterpret_cast<uint8_t*>(back.data()), 4096));
        if (!n.ok() || back != chunk) ++errors;
      }
      sync.arrive_and_wait();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(*f->Size(), 50u * kThreads * 4096);
}

}  // namespace
}  // namespace ctxstore::engine
