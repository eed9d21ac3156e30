// Running other programs: the benchmark harness's servers and tools, and the
// integration tests' server and CLI runs. One place for fork/exec, output
// collection and reaping.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore {

// fork + exec of argv (argv[0] looked up on PATH when it has no '/') with
// the given descriptors as its stdin, stdout and stderr (stdin_fd -1:
// /dev/null). The child dies with this process (PR_SET_PDEATHSIG), so an
// interrupted run leaves no servers behind, and it gets SIGPIPE's default
// action back. An exec failure shows as exit code 127.
Result<pid_t> SpawnProcess(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
                           int stderr_fd);

// waitpid with a deadline: the exit code (128 + signal when killed by one),
// -1 when there is no such child, -2 when it is still running at timeout_ms.
int WaitForExit(pid_t pid, int timeout_ms);

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed (also on timeout: 128 + 9)
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv to completion with stdin_data on its stdin, collecting stdout
// and stderr; killed after timeout_ms. Ignores SIGPIPE in this process when
// stdin_data is given, so that a program exiting before reading all of it
// is an error of its own and does not kill the caller.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, int timeout_ms,
                                 const std::string& stdin_data = {});

// The path of `program` in the folder of this process's executable (from
// /proc/self/exe; `program` alone when that cannot be read): how ctxstore
// finds ctxstore-bench, and ctxstore-bench the ctxstore it runs.
std::string BesideThisExecutable(const std::string& program);

}  // namespace ctxstore
