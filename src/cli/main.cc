// ctxstore: the server and its command-line client in one binary.
#include <cstdio>

#include "cli/commands.h"
#include "cli/forward.h"

int main(int argc, char** argv) {
  CLI::App app{"ctxstore: a durable DRAM + flash context memory store for LLM inference"};
  app.require_subcommand(1);
  int exit_code = ctxstore::cli::kExitOk;
  ctxstore::cli::RegisterServeCommand(app, &exit_code);
  ctxstore::cli::RegisterKeygenCommand(app, &exit_code);
  ctxstore::cli::RegisterClientCommands(app, &exit_code);
  ctxstore::cli::RegisterForwardedCommand(
      app,
      {.name = "bench",
       .program = "ctxstore-bench",
       .description = "Benchmarks (run: the benchmark suite; sim: offline cache simulation); runs "
                      "ctxstore-bench, installed beside ctxstore"},
      &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ctxstore::cli::kExitUsage;
  }
  return exit_code;
}
