// placeholder: being written
#include "cli/commands.h"
namespace ctxstore::cli {
void RegisterClientCommands(CLI::App&, int*) {}
}
