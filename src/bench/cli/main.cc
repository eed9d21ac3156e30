// ctxstore-bench: the benchmark harness (`run`), its comparison of two
// server binaries (`compare`) and the offline cache simulator (`sim`), kept
// out of the server binary so that it links neither them nor hiredis.
// `ctxstore bench ...` runs this binary when it is installed beside
// ctxstore.
#include "bench/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"ctxstore-bench: the ctxstore benchmark suite and offline cache simulator"};
  app.name("ctxstore-bench");
  app.require_subcommand(1);
  int exit_code = ctxstore::bench::kExitOk;
  ctxstore::bench::RegisterRunCommand(app, &exit_code);
  ctxstore::bench::RegisterSimCommand(app, &exit_code);
  ctxstore::bench::RegisterCompareCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return ctxstore::bench::kExitUsage;
  }
  return exit_code;
}
