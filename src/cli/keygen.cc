// `ctxstore keygen FILE`: a new encryption key for `serve --encryption-key`.
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/client_common.h"
#include "cli/commands.h"
#include "engine/security/encryption.h"

namespace ctxstore::cli {
namespace {

int RunKeygen(const std::string& path) {
  if (Status st = engine::CreateKeyFile(path); !st.ok()) {
    // Never overwritten: data sealed with the old key would be lost with it.
    struct stat existing {};
    if (::lstat(path.c_str(), &existing) == 0) {
      PrintError(path + " exists: keygen never overwrites a key file");
    } else {
      PrintError(st.ToString());
    }
    return kExitError;
  }
  // Read back for its id, the one serve logs when it loads the key.
  auto key = engine::LoadKeyFile("new", path);
  if (!key.ok()) {
    PrintError(key.status().ToString());
    return kExitError;
  }
  std::fprintf(stderr,
               "ctxstore: wrote a new key to %s (id %016" PRIx64 "); keep it off the data disk\n",
               path.c_str(), (*key)->id);
  return kExitOk;
}

}  // namespace

void RegisterKeygenCommand(CLI::App& app, int* exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Write a new random encryption key (64 hex digits, mode 0600) to FILE");
  cmd->add_option("FILE", *path, "Where to write it; an existing file is never overwritten")
      ->required();
  cmd->footer(
      "Load it with `ctxstore serve --encryption-key NAME=FILE`; name it in `ctxstore ns create "
      "NAME --encryption-key NAME`. Exit: 0 ok, 2 usage, 3 the file exists or cannot be written.");
  cmd->callback([path, exit_code] { *exit_code = RunKeygen(*path); });
}

}  // namespace ctxstore::cli
