// A Device that keeps every file in memory, for unit tests and the fuzzers:
// a test then costs no disk I/O and no fsync, and O_DIRECT and io_uring
// play no part (the engine reaches files only through its Device).
// Directories are implicit: a file's directory is its path up to the last
// '/'. Thread-safe (the engine's flusher writes while a test reads).
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/flash/device.h"

namespace ctxstore::engine {

class MemDevice : public Device {
 public:
  // Replaces the contents of path (creating it).
  void SetFile(const std::string& path, std::string_view data) {
    std::lock_guard lock(mu_);
    files_[path] = std::make_shared<std::string>(data);
  }
  void Clear() {
    std::lock_guard lock(mu_);
    files_.clear();
  }

  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& opts) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (!opts.create) return Status::IoError(path + ": no such file");
      it = files_.emplace(path, std::make_shared<std::string>()).first;
    }
    if (opts.truncate) it->second->clear();
    return std::unique_ptr<File>(new MemFile(this, path, it->second));
  }
  Status Remove(const std::string& path) override {
    std::lock_guard lock(mu_);
    if (files_.erase(path) == 0) return Status::IoError(path + ": no such file");
    return Status::Ok();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) return Status::IoError(from + ": no such file");
    auto data = it->second;
    files_.erase(it);
    files_[to] = std::move(data);
    return Status::Ok();
  }
  Status CreateDir(const std::string&) override { return Status::Ok(); }
  Status SyncDir(const std::string&) override { return Status::Ok(); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> names;
    const std::string prefix = path + "/";
    for (const auto& [name, data] : files_) {
      if (name.compare(0, prefix.size(), prefix) == 0 &&
          name.find('/', prefix.size()) == std::string::npos) {
        names.push_back(name.substr(prefix.size()));
      }
    }
    return names;
  }
  bool FileExists(const std::string& path) override {
    std::lock_guard lock(mu_);
    return files_.count(path) != 0;
  }

 private:
  // Open files share the bytes with the device, so that a rename or a
  // remove after the open leaves them readable (as POSIX does).
  class MemFile : public File {
   public:
    MemFile(MemDevice* device, std::string path, std::shared_ptr<std::string> data)
        : device_(device), path_(std::move(path)), data_(std::move(data)) {}
    Status WriteV(uint64_t offset, std::span<const iovec> buffers) override {
      std::lock_guard lock(device_->mu_);
      for (const iovec& v : buffers) {
        if (data_->size() < offset + v.iov_len) data_->resize(offset + v.iov_len);
        std::memcpy(data_->data() + offset, v.iov_base, v.iov_len);
        offset += v.iov_len;
      }
      return Status::Ok();
    }
    Result<size_t> ReadAt(uint64_t offset, std::span<uint8_t> buf) override {
      std::lock_guard lock(device_->mu_);
      if (offset >= data_->size()) return size_t{0};
      size_t n = std::min<uint64_t>(buf.size(), data_->size() - offset);
      std::memcpy(buf.data(), data_->data() + offset, n);
      return n;
    }
    Status Sync() override { return Status::Ok(); }
    Result<uint64_t> Size() override {
      std::lock_guard lock(device_->mu_);
      return uint64_t{data_->size()};
    }
    const std::string& path() const override { return path_; }

   private:
    MemDevice* device_;
    std::string path_;
    std::shared_ptr<std::string> data_;
  };

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<std::string>> files_;
};

}  // namespace ctxstore::engine
