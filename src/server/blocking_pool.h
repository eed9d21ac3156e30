// A few threads for work that may block on the device (reads of objects
// that are only on flash), so that network threads never wait for flash.
// Plain threads and std::function tasks: a task hands its result back to an
// asio executor with asio::post, which asio supports from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ctxstore::server {

class BlockingPool {
 public:
  // Threads are named name + "-" + index.
  BlockingPool(unsigned threads, const std::string& name);
  ~BlockingPool();  // runs the queued tasks, then joins
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Post(std::function<void()> task);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ctxstore::server
