// placeholder: being written
#include "cli/commands.h"
namespace ctxstore::cli {
void RegisterServeCommand(CLI::App&, int*) {}
}
