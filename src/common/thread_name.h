// Names threads so that top -H, perf and gdb tell them apart.
#pragma once

#include <pthread.h>

#include <string>

namespace ctxstore {

// Linux keeps 15 characters. Never called on the main thread: its name is
// the process name that pgrep and ps show.
inline void SetThreadName(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace ctxstore
