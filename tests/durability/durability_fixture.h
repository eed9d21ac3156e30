// The harness of the durability tests: a test server (ctxstore-powercut, the
// serve code on a PowerCutDevice) on a data folder, power cuts and disk
// faults through its control socket, and the product ctxstore restarted on
// the same folder to see what survived.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ctxstore/client.h"
#include "fault_control.h"
#include "server_process.h"

namespace ctxstore::testing {

// The only value ever written under key, derived from it (so a GET can be
// checked without remembering what was sent): 1 byte to max_bytes.
std::string ValueFor(const std::string& key, size_t max_bytes = 256 * 1024);

// A GET that must return exactly ValueFor(key).
::testing::AssertionResult HasValue(Client& client, const std::string& key);

// Absent, or exactly ValueFor(key): never other bytes, never an error.
::testing::AssertionResult AbsentOrExact(Client& client, const std::string& key);

Result<std::unique_ptr<Client>> ConnectTo(const ServerProcess& server,
                                          const std::string& token = {},
                                          const std::string& namespace_name = {});

class DurabilityTest : public ::testing::Test {
 protected:
  void TearDown() override;

  std::string data_dir() const { return root_.path() + "/data"; }
  std::string control_socket() const { return root_.path() + "/control.sock"; }

  // The test server on data_dir(): long sync and checkpoint intervals
  // unless extra_args say otherwise, so that only what the server syncs on
  // purpose (sync PUTs, FLUSH, catalog changes) is durable at a cut.
  ::testing::AssertionResult StartTestServer(std::vector<std::string> extra_args = {},
                                             const std::string& memory = "64MiB");
  // The product ctxstore on data_dir(), after a cut.
  ::testing::AssertionResult StartProductServer();
  // A control command that must answer "ok ..."; its answer.
  std::string Control(const std::string& command);
  // Cuts the power now (TAIL: drop, torn-prefix, scattered, any) and waits
  // for the test server to exit as a cut makes it; the cut's counts.
  std::map<std::string, uint64_t> CutPower(uint64_t seed, const std::string& tail);
  // Waits for an armed cut (cut-after) to end the test server, or cuts now
  // when it has not fallen yet.
  void AwaitCut(uint64_t seed);
  // FLUSH until it succeeds (after a disk fault is cleared, the writes that
  // failed are retried with a backoff: a FLUSH meanwhile answers an error).
  static ::testing::AssertionResult FlushWithin(Client& client, int timeout_ms);
  // Stats from the test server's device ("stats").
  std::map<std::string, uint64_t> DeviceCounts();
  // A server's STATS counter.
  static uint64_t StatsCounter(Client& client, const std::string& name);

  TempDir root_;
  std::unique_ptr<ServerProcess> server_;  // whichever runs now
  std::string logs_;                       // of the servers that ran before
};

}  // namespace ctxstore::testing
