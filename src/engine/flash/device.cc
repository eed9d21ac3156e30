#include "engine/flash/device.h"

#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <span>
#include <vector>

namespace ctxstore::engine {
namespace {

// Linux's IOV_MAX; a single readv/writev (or its SQE) takes at most this many.
constexpr size_t kMaxIovecs = 1024;
constexpr unsigned kRingDepth = 8;
// Transfers of at least two pieces are cut into pieces of this size and
// submitted together, up to kRingDepth at a time: one 4 MiB read or one
// flusher batch then keeps the device's queue as deep as fio's QD 8 instead
// of 1. A multiple of the O_DIRECT block size, so every piece stays aligned.
constexpr uint64_t kPieceBytes = 1 << 20;

Status ErrnoStatus(std::string_view op, const std::string& path, int err) {
  std::string msg = std::string(op) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::NoSpace(std::move(msg));
  return Status::IoError(std::move(msg));
}

// A slice of a large transfer, submitted beside the others.
struct IoPiece {
  std::vector<iovec> iov;
  uint64_t offset = 0;
  uint64_t len = 0;
  ssize_t res = 0;
};

// One ring per thread: rings are not thread-safe, and a per-thread ring
// needs no locking. Submitting one SQE and waiting for it keeps the calling
// convention synchronous while still going through io_uring.
class ThreadRing {
 public:
  ThreadRing() {
    int rc = io_uring_queue_init(kRingDepth, &ring_, 0);
    ok_ = rc == 0;
    std::lock_guard lock(LifetimeMutex());
  }
  ~ThreadRing() {
    // liburing maps and unmaps ring memory with raw syscalls, invisible to
    // ThreadSanitizer; a new thread's ring mapped where an exited thread's
    // was would look like a race. This lock orders teardown before reuse.
    { std::lock_guard lock(LifetimeMutex()); }
    if (ok_) io_uring_queue_exit(&ring_);
  }
  ThreadRing(const ThreadRing&) = delete;
  ThreadRing& operator=(const ThreadRing&) = delete;

  bool ok() const { return ok_; }

  // Returns bytes transferred or -errno, like the syscall it stands for.
  ssize_t Submit(bool write, int fd, const iovec* iov, unsigned iovcnt, uint64_t offset) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return -EBUSY;  // cannot happen: one SQE in flight at a time
    if (write) {
      io_uring_prep_writev(sqe, fd, iov, iovcnt, offset);
    } else {
      io_uring_prep_readv(sqe, fd, iov, iovcnt, offset);
    }
    int rc = io_uring_submit(&ring_);
    if (rc != 1) {
      // The SQE may still sit in the ring, pointing at the caller's buffers;
      // dropping the ring discards it. This thread falls back to pwritev.
      Shutdown();
      return -EAGAIN;
    }
    io_uring_cqe* cqe = nullptr;
    do {
      rc = io_uring_wait_cqe(&ring_, &cqe);
    } while (rc == -EINTR);
    if (rc < 0) {
      Shutdown();
      return -EIO;
    }
    ssize_t res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    return res;
  }

  // Runs every piece, kRingDepth at a time, and sets each one's res (bytes
  // or -errno). False when the ring failed (it is then shut down and the
  // caller redoes the pieces with plain syscalls).
  bool SubmitAll(bool write, int fd, std::vector<IoPiece>& pieces) {
    for (size_t begin = 0; begin < pieces.size(); begin += kRingDepth) {
      const size_t end = std::min(pieces.size(), begin + kRingDepth);
      for (size_t i = begin; i < end; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
          Shutdown();
          return false;
        }
        IoPiece& p = pieces[i];
        if (write) {
          io_uring_prep_writev(sqe, fd, p.iov.data(), static_cast<unsigned>(p.iov.size()),
                               p.offset);
        } else {
          io_uring_prep_readv(sqe, fd, p.iov.data(), static_cast<unsigned>(p.iov.size()), p.offset);
        }
        io_uring_sqe_set_data64(sqe, i);
      }
      const int want = static_cast<int>(end - begin);
      if (io_uring_submit(&ring_) != want) {
        Shutdown();
        return false;
      }
      for (int n = 0; n < want; ++n) {
        io_uring_cqe* cqe = nullptr;
        int rc;
        do {
          rc = io_uring_wait_cqe(&ring_, &cqe);
        } while (rc == -EINTR);
        if (rc < 0) {
          Shutdown();
          return false;
        }
        pieces[io_uring_cqe_get_data64(cqe)].res = cqe->res;
        io_uring_cqe_seen(&ring_, cqe);
      }
    }
    return true;
  }

 private:
  static std::mutex& LifetimeMutex() {
    static std::mutex mu;
    return mu;
  }
  void Shutdown() {
    io_uring_queue_exit(&ring_);
    ok_ = false;
  }

  io_uring ring_{};
  bool ok_ = false;
};

ThreadRing& Ring() {
  thread_local ThreadRing ring;  // lazily initialised on a thread's first I/O
  return ring;
}

// One readv/writev of at most kMaxIovecs buffers; bytes or -errno.
ssize_t DoIo(bool write, int fd, const iovec* iov, size_t iovcnt, uint64_t offset) {
  unsigned n = static_cast<unsigned>(std::min(iovcnt, kMaxIovecs));
  ThreadRing& ring = Ring();
  for (;;) {
    ssize_t res;
    if (ring.ok()) {
      res = ring.Submit(write, fd, iov, n, offset);
    } else {
      res = write ? ::pwritev(fd, iov, static_cast<int>(n), static_cast<off_t>(offset))
                  : ::preadv(fd, iov, static_cast<int>(n), static_cast<off_t>(offset));
      if (res < 0) res = -errno;
    }
    if (res == -EINTR || res == -EAGAIN) continue;
    return res;
  }
}

// Drops `bytes` from the front of iovs[*first..], adjusting the first
// partially consumed buffer in place.
void Advance(std::vector<iovec>& iovs, size_t* first, size_t bytes) {
  while (bytes > 0 && *first < iovs.size()) {
    iovec& v = iovs[*first];
    if (bytes >= v.iov_len) {
      bytes -= v.iov_len;
      ++*first;
    } else {
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + bytes;
      v.iov_len -= bytes;
      bytes = 0;
    }
  }
  // Skip empty buffers so that a call never submits zero bytes.
  while (*first < iovs.size() && iovs[*first].iov_len == 0) ++*first;
}

// Cuts iovs (starting at file offset `offset`) into pieces of at most
// kPieceBytes and kMaxIovecs buffers each.
std::vector<IoPiece> Cut(std::span<const iovec> iovs, uint64_t offset) {
  std::vector<IoPiece> pieces(1);
  pieces.back().offset = offset;
  for (iovec v : iovs) {
    while (v.iov_len > 0) {
      IoPiece* p = &pieces.back();
      if (p->len == kPieceBytes || p->iov.size() == kMaxIovecs) {
        pieces.push_back(IoPiece{{}, p->offset + p->len, 0, 0});
        p = &pieces.back();
      }
      size_t take = std::min<uint64_t>(v.iov_len, kPieceBytes - p->len);
      p->iov.push_back({v.iov_base, take});
      p->len += take;
      v.iov_base = static_cast<uint8_t*>(v.iov_base) + take;
      v.iov_len -= take;
    }
  }
  return pieces;
}

// Completes one piece with plain calls after its parallel attempt moved
// `already` bytes. Returns the piece's bytes moved (less than len only at
// EOF, for reads) or -errno.
ssize_t FinishPiece(bool write, int fd, IoPiece& p, uint64_t already) {
  size_t first = 0;
  Advance(p.iov, &first, already);
  uint64_t done = already;
  while (first < p.iov.size()) {
    ssize_t res = DoIo(write, fd, p.iov.data() + first, p.iov.size() - first, p.offset + done);
    if (res < 0) return res;
    if (res == 0) break;  // EOF (a write without progress is the caller's error)
    done += static_cast<uint64_t>(res);
    Advance(p.iov, &first, static_cast<size_t>(res));
  }
  return static_cast<ssize_t>(done);
}

// Whether `offset` is at or past the end of the file: a short read there is
// EOF, and retrying at an unaligned offset would fail under O_DIRECT.
bool AtEof(int fd, uint64_t offset) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && offset >= static_cast<uint64_t>(st.st_size);
}

// A transfer of two pieces or more, in parallel. Returns the bytes moved up
// to the first short piece (EOF for reads) or -errno.
ssize_t ParallelIo(bool write, int fd, std::span<const iovec> iovs, uint64_t offset) {
  std::vector<IoPiece> pieces = Cut(iovs, offset);
  const bool submitted = Ring().ok() && Ring().SubmitAll(write, fd, pieces);
  uint64_t total = 0;
  for (IoPiece& p : pieces) {
    ssize_t res = submitted ? p.res : 0;
    if (res == -EINTR || res == -EAGAIN) res = 0;
    if (res < 0) return res;
    if (static_cast<uint64_t>(res) < p.len && !(write == false && AtEof(fd, p.offset + res))) {
      res = FinishPiece(write, fd, p, res);
    }
    if (res < 0) return res;
    total += static_cast<uint64_t>(res);
    if (static_cast<uint64_t>(res) < p.len) break;
  }
  return static_cast<ssize_t>(total);
}

uint64_t TotalBytes(std::span<const iovec> iovs) {
  uint64_t total = 0;
  for (const iovec& v : iovs) total += v.iov_len;
  return total;
}

class PosixFile : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status WriteV(uint64_t offset, std::span<const iovec> buffers) override {
    const uint64_t total = TotalBytes(buffers);
    // Not for a write past the end of the file (every segment append): ext4
    // runs each O_DIRECT write that extends a file under the inode's lock
    // and waits for it to complete, so pieces would go one at a time. One
    // large write lets the block layer queue all of it at once.
    if (total >= 2 * kPieceBytes && !AtEof(fd_, offset + total - 1)) {
      ssize_t res = ParallelIo(true, fd_, buffers, offset);
      if (res < 0) return ErrnoStatus("write", path_, static_cast<int>(-res));
      if (static_cast<uint64_t>(res) < total) return ErrnoStatus("write (no progress)", path_, EIO);
      return Status::Ok();
    }
    std::vector<iovec> iovs(buffers.begin(), buffers.end());
    size_t first = 0;
    Advance(iovs, &first, 0);
    while (first < iovs.size()) {
      ssize_t res = DoIo(true, fd_, iovs.data() + first, iovs.size() - first, offset);
      if (res < 0) return ErrnoStatus("write", path_, static_cast<int>(-res));
      // A write that makes no progress would loop forever.
      if (res == 0) return ErrnoStatus("write (no progress)", path_, EIO);
      offset += static_cast<uint64_t>(res);
      Advance(iovs, &first, static_cast<size_t>(res));
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) override {
    size_t done = 0;
    if (buf.size() >= 2 * kPieceBytes) {
      iovec whole{buf.data(), buf.size()};
      ssize_t res = ParallelIo(false, fd_, std::span<const iovec>(&whole, 1), offset);
      if (res < 0) return ErrnoStatus("read", path_, static_cast<int>(-res));
      return static_cast<size_t>(res);  // short only at EOF
    }
    while (done < buf.size()) {
      iovec v{buf.data() + done, buf.size() - done};
      ssize_t res = DoIo(false, fd_, &v, 1, offset + done);
      if (res < 0) return ErrnoStatus("read", path_, static_cast<int>(-res));
      if (res == 0) break;  // EOF
      done += static_cast<size_t>(res);
      if (done < buf.size()) {
        // A short read is normally EOF. Stop there rather than retrying at an
        // unaligned offset, which O_DIRECT would refuse with EINVAL.
        auto size = Size();
        if (!size.ok()) return size.status();
        if (offset + done >= *size) break;
      }
    }
    return done;
  }

  Status Sync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return ErrnoStatus("fdatasync", path_, errno);
    }
    return Status::Ok();
  }

  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

class PosixDevice : public Device {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& opts) override {
    int flags = O_CLOEXEC | (opts.read_only ? O_RDONLY : O_RDWR);
    if (opts.create) flags |= O_CREAT;
    if (opts.truncate) flags |= O_TRUNC;
    if (opts.direct) flags |= O_DIRECT;
    int fd;
    do {
      fd = ::open(path.c_str(), flags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink", path, errno);
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename", from + " -> " + to, errno);
    }
    return Status::Ok();
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
    int err = errno;
    if (err == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
      return ErrnoStatus("mkdir", path, ENOTDIR);
    }
    return ErrnoStatus("mkdir", path, err);
  }

  Status SyncDir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open dir", path, errno);
    Status st;
    while (::fsync(fd) != 0) {
      if (errno != EINTR) {
        st = ErrnoStatus("fsync dir", path, errno);
        break;
      }
    }
    ::close(fd);
    return st;
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("opendir", path, errno);
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      dirent* e = ::readdir(dir);
      if (e == nullptr) {
        int err = errno;
        ::closedir(dir);
        if (err != 0) return ErrnoStatus("readdir", path, err);
        break;
      }
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    // Directory order is arbitrary; sorted output keeps callers deterministic.
    std::sort(names.begin(), names.end());
    return names;
  }

  bool FileExists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status Device::WriteFileAtomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    OpenOptions opts;
    opts.create = true;
    opts.truncate = true;
    auto file = Open(tmp, opts);
    if (!file.ok()) return file.status();
    iovec v{const_cast<char*>(data.data()), data.size()};
    if (!data.empty()) CTX_RETURN_IF_ERROR((*file)->WriteV(0, std::span<const iovec>(&v, 1)));
    CTX_RETURN_IF_ERROR((*file)->Sync());
  }  // closed before the rename
  CTX_RETURN_IF_ERROR(Rename(tmp, path));
  return SyncDir(ParentDir(path));
}

Result<std::string> Device::ReadFile(const std::string& path) {
  OpenOptions opts;
  opts.read_only = true;
  auto file = Open(path, opts);
  if (!file.ok()) return file.status();
  auto size = (*file)->Size();
  if (!size.ok()) return size.status();
  // Read until EOF rather than trusting the size: the file may have grown.
  // One byte more than the size, so that the read that finds EOF needs no
  // resize (which would double the buffer of a large file).
  std::string out(std::max<uint64_t>(*size + 1, 4096), '\0');
  size_t done = 0;
  for (;;) {
    if (done == out.size()) out.resize(out.size() * 2);
    auto n = (*file)->ReadAt(
        done, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()) + done, out.size() - done));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

std::unique_ptr<Device> NewPosixDevice() {
  return std::make_unique<PosixDevice>();
}

}  // namespace ctxstore::engine
