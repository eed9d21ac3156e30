// The server side of the control channel (fault_control.h): a thread that
// accepts on a Unix socket and turns each command into a call on the
// power-cut device. Lives in the test server only.
#pragma once

#include <string>
#include <thread>

#include "ctxstore/status.h"
#include "testing/power_cut_device.h"

namespace ctxstore::testing {

class FaultControlServer {
 public:
  // device must outlive this.
  FaultControlServer(engine::PowerCutDevice* device, std::string socket_path);
  ~FaultControlServer();  // Stop()
  FaultControlServer(const FaultControlServer&) = delete;
  FaultControlServer& operator=(const FaultControlServer&) = delete;

  // Binds (replacing a stale socket file) and starts the thread.
  Status Start();
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd);
  // The answer to one command line; a cut answers and exits in here.
  std::string Execute(const std::string& line, int fd);

  engine::PowerCutDevice* const device_;
  const std::string socket_path_;
  int listen_fd_ = -1;
  std::thread thread_;
};

}  // namespace ctxstore::testing
