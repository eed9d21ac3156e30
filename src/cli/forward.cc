#include "cli/forward.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cli/client_common.h"
#include "cli/commands.h"
#include "common/subprocess.h"

namespace ctxstore::cli {
namespace {

// Replaces this process with `path args...`; returns only on failure.
int Exec(const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(path.c_str(), argv.data());
  PrintError("cannot run " + path + ": " + std::strerror(errno));
  return kExitError;
}

int Forward(const ForwardedCommand& command, const std::vector<std::string>& args) {
  const std::string path = BesideThisExecutable(command.program);
  if (::access(path.c_str(), X_OK) != 0) {
    PrintError(command.name + ": " + command.program + " is not installed (looked for " + path +
               "); build it with `cmake --build build --target " + command.program +
               "` or install it beside ctxstore");
    return kExitError;
  }
  return Exec(path, args);
}

}  // namespace

void RegisterForwardedCommand(CLI::App& app, const ForwardedCommand& command, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(command.name, command.description);
  // Every argument after NAME, --help included, is the other program's.
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->footer("Runs " + command.program + " from the folder of this binary; `ctxstore " +
              command.name + " --help` prints its help.");
  cmd->callback([cmd, command, exit_code] { *exit_code = Forward(command, cmd->remaining()); });
}

}  // namespace ctxstore::cli
