// The filesystem baseline: one file per object, named by its key, which is
// what LMCache's local disk backend does. PUT writes the whole file (with
// and without fsync); GET reads it back through the page cache, as that
// backend does in use.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

Status Errno(const char* what) {
  return Status::IoError(std::string(what) + ": " + std::strerror(errno));
}

// PUT: create or truncate, write everything, optionally fsync, close.
Result<uint64_t> PutFile(const char* path, const char* data, uint64_t size, bool fsync_each) {
  const int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open");
  for (uint64_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const Status st = Errno("write");
      close(fd);
      return st;
    }
    done += static_cast<uint64_t>(n);
  }
  if (fsync_each && fsync(fd) != 0) {
    const Status st = Errno("fsync");
    close(fd);
    return st;
  }
  if (close(fd) != 0) return Errno("close");
  return size;
}

// GET: open, read the whole object into the caller's buffer, close.
Result<uint64_t> GetFile(const char* path, char* buf, uint64_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open");
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, buf + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status st = Errno("read");
      close(fd);
      return st;
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  close(fd);
  if (done != size) return Status::Corrupt("read " + std::to_string(done) + " bytes");
  return size;
}

// Runs fn(0..n-1) on `threads` threads. Freeing a file's blocks can take
// milliseconds (online discard on ext4 over a virtual disk) but overlaps well.
void ParallelFor(uint64_t n, uint32_t threads, const std::function<void(uint64_t)>& fn) {
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = t; i < n; i += threads) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

// Every measurement of one value size uses the same `count` files o-0..,
// written before the first one: PUT overwrites them (the steady state of a
// bounded store, where each new object frees an old one's blocks) and GET
// reads them.
class FsBench {
 public:
  FsBench(BenchContext& ctx, std::string dir) : ctx_(ctx), dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Writes dirty pages back (untimed), so one measurement's writeback does
  // not slow the next.
  void Sync() {
    const int fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      syncfs(fd);
      close(fd);
    }
  }

  // Empties the folder.
  Status Clear() {
    Sync();
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
      files.push_back(entry.path());
    }
    if (ec) return Status::IoError("list " + dir_ + ": " + ec.message());
    std::atomic<uint64_t> failed{0};
    ParallelFor(files.size(), kThreads, [&](uint64_t i) {
      if (unlink(files[i].c_str()) != 0) failed++;
    });
    if (failed > 0)
      return Status::IoError("could not remove " + std::to_string(failed.load()) + " files");
    return Status::Ok();
  }

  // The files of one value size: about data_set_bytes, at least one per worker.
  Status Prepare(uint64_t size, uint32_t max_workers) {
    size_ = size;
    count_ = std::max<uint64_t>(max_workers, ctx_.data_set_bytes / size);
    CTX_RETURN_IF_ERROR(Clear());
    std::vector<std::vector<char>> values(kThreads, std::vector<char>(size));
    for (uint32_t t = 0; t < kThreads; ++t) FillValue(values[t].data(), values[t].size(), t + 100);
    std::atomic<uint64_t> failed{0};
    ParallelFor(count_, kThreads, [&](uint64_t k) {
      if (!PutFile(Path(k).c_str(), values[k % kThreads].data(), size, false).ok()) failed++;
    });
    Sync();
    if (failed > 0)
      return Status::IoError("could not write " + std::to_string(failed.load()) + " files");
    return Status::Ok();
  }

  // PUT over the files, each worker cycling over its own share of them.
  Result<LoadResult> Put(uint32_t workers, bool fsync_each) {
    Sync();
    std::vector<std::vector<char>> values(workers, std::vector<char>(size_));
    for (uint32_t w = 0; w < workers; ++w) FillValue(values[w].data(), values[w].size(), w + 1);
    const uint64_t slots = count_ / workers;
    return RunLoad(Spec(workers), [&](uint32_t w, uint64_t i) {
      return PutFile(Path(w + (i % slots) * workers).c_str(), values[w].data(), size_, fsync_each);
    });
  }

  // GET round-robin over the files, each into its worker's buffer.
  Result<LoadResult> Get(uint32_t workers) {
    Sync();
    std::vector<std::vector<char>> bufs(workers, std::vector<char>(size_));
    for (uint32_t w = 0; w < workers; ++w)
      FillValue(bufs[w].data(), bufs[w].size(), w + 1);  // touched before timing
    return RunLoad(Spec(workers), [&](uint32_t w, uint64_t i) {
      return GetFile(Path((w + i * workers) % count_).c_str(), bufs[w].data(), size_);
    });
  }

 private:
  static constexpr uint32_t kThreads = 16;

  std::string Path(uint64_t k) const {
    std::string path;
    path.reserve(dir_.size() + 24);
    path.append(dir_).append("/o-").append(std::to_string(k));
    return path;
  }
  LoadSpec Spec(uint32_t workers) const {
    return {.workers = workers,
            .duration_ms = ctx_.cell_duration_ms,
            .max_ops = std::max<uint64_t>(1, ctx_.cell_max_bytes / size_)};
  }

  BenchContext& ctx_;
  std::string dir_;
  uint64_t size_ = 0;
  uint64_t count_ = 0;
};

json Row(const char* system, const char* op, uint64_t size, uint32_t conns,
         const Result<LoadResult>& res) {
  json row = {{"system", system}, {"op", op}, {"value_bytes", size}, {"connections", conns}};
  if (res.ok()) {
    row.update(ToJson(*res));
  } else {
    row["error"] = res.status().ToString();
  }
  return row;
}

json Measure(BenchContext& ctx, FsBench& bench) {
  json rows = json::array();
  const uint32_t max_conns = *std::max_element(ctx.connections.begin(), ctx.connections.end());
  auto run = [&](const char* system, const char* op, uint64_t size, uint32_t conns, auto measure) {
    ctx.progress->Step(std::string(system) + " " + op + " " + SizeLabel(size) + " x" +
                       std::to_string(conns));
    const Result<LoadResult> res = measure();
    if (res.ok()) {
      ctx.progress->Result(Summary(*res));
    } else {
      ctx.progress->Warn(res.status().ToString());
    }
    rows.push_back(Row(system, op, size, conns, res));
  };
  for (uint64_t size : ctx.value_sizes) {
    const Status prepared = bench.Prepare(size, max_conns);
    auto unless_failed = [&](auto measure) {
      return [&, measure]() -> Result<LoadResult> {
        if (!prepared.ok()) return prepared;
        return measure();
      };
    };
    for (uint32_t conns : ctx.connections) {
      run("fs", "put", size, conns, unless_failed([&] { return bench.Put(conns, false); }));
      run("fs-fsync", "put", size, conns, unless_failed([&] { return bench.Put(conns, true); }));
    }
    // fs-fsync GET would read the same files the same way: measured once, as "fs".
    for (uint32_t conns : ctx.connections) {
      run("fs", "get", size, conns, unless_failed([&] { return bench.Get(conns); }));
    }
  }
  return rows;
}

}  // namespace

nlohmann::json RunFsStore(BenchContext& ctx) {
  json out = {{"note",
               "PUT overwrites files of a bounded set (each frees an old object's blocks); GET "
               "reads through the page cache, as LMCache's local disk backend does"}};
  if (ctx.value_sizes.empty() || ctx.connections.empty()) {
    out["skipped"] = {"no value sizes or connection counts"};
    return out;
  }
  FsBench bench(ctx, ctx.ScratchDir("fs"));
  out["dir"] = bench.dir();
  try {
    out["rows"] = Measure(ctx, bench);
  } catch (const std::exception& e) {  // bad_alloc of a value buffer
    out["error"] = e.what();
  }
  const Status st = bench.Clear();
  if (!st.ok()) out["error"] = st.ToString();
  return out;
}

}  // namespace ctxstore::bench
