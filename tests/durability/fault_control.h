// The control channel of the test server (ctxstore-powercut): a Unix socket
// at the path given by --fault-control, one command per connection, one
// line each way. Test-only: the product ctxstore has no such socket.
//
//   cut SEED TAIL               power cut now; the server answers, then kills itself
//   cut-after N SEED TAIL       power cut at the N-th mutating device operation from now
//   fail OP FAULT [SUBSTRING]   OP: write|sync|read|create, FAULT: nospace|eio; the
//                               device fails those ops on matching paths until `clear`
//   clear                       no more injected faults
//   stats                       "ok mutating_ops=.. syncs=.. dir_syncs=.. injected_faults=..
//                               unsynced_bytes=.. pending_names=.."
//
// TAIL says what a cut keeps of each file's unsynced tail: drop,
// torn-prefix, scattered or any (testing/power_loss.h), drawn from SEED.
// Answers start with "ok" or "error".
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ctxstore/status.h"

namespace ctxstore::testing {

// How the test server ends after a power cut, as ServerProcess reports it
// (128 + SIGKILL): it kills itself, so that nothing runs after the cut, no
// destructor and no exit-time check of a sanitizer either.
inline constexpr int kPowerCutExitCode = 128 + 9;

// Sends one command and returns the answer line (without the newline).
Result<std::string> SendFaultCommand(const std::string& socket_path, const std::string& command);

// "ok a=1 b=2" -> {a: 1, b: 2}.
std::map<std::string, uint64_t> ParseCounts(const std::string& answer);

}  // namespace ctxstore::testing
