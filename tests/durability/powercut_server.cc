// ctxstore-powercut: a test build of `ctxstore serve` (the same serve code,
// cli/serve.cc) whose engine does its file I/O through a PowerCutDevice
// over the POSIX device, controlled through a Unix socket
// (fault_control.h). Built in tests/, never installed.
//
//   ctxstore-powercut --fault-control SOCKET serve [serve options]
//
// Removed and replaced files wait in SOCKET.stash/ (hard links: keep the
// socket on the data folder's file system) until their directory is synced.
#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "fault_control_server.h"
#include "testing/power_cut_device.h"

int main(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], "--fault-control") != 0) {
    std::fprintf(stderr, "usage: %s --fault-control SOCKET serve [serve options]\n", argv[0]);
    return ctxstore::cli::kExitUsage;
  }
  const std::string socket_path = argv[2];
  auto posix = ctxstore::engine::NewPosixDevice();
  ctxstore::engine::PowerCutDevice device(posix.get(), socket_path + ".stash");
  ctxstore::testing::FaultControlServer control(&device, socket_path);
  if (ctxstore::Status st = control.Start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return ctxstore::cli::kExitError;
  }
  CLI::App app{"ctxstore-powercut: ctxstore serve on a device that can lose power (tests only)"};
  app.require_subcommand(1);
  int exit_code = ctxstore::cli::kExitOk;
  ctxstore::cli::RegisterServeCommand(app, &exit_code, &device);
  try {
    app.parse(argc - 2, argv + 2);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : ctxstore::cli::kExitUsage;
  }
  control.Stop();
  return exit_code;
}
