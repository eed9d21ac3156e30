// The file-system side of `serve --unix PATH`: binding a Unix-domain
// acceptor to a path (a stale socket file from a crashed server is
// replaced; a live server's, or any other file, is left alone), naming a
// peer by its credentials, and removing the file at shutdown.
#pragma once

#include <sys/types.h>

#include <asio.hpp>
#include <cstdint>
#include <string>

#include "ctxstore/status.h"

namespace ctxstore::server {

// The socket file the server created: removed at shutdown only if it is
// still that file (another server may have replaced it meanwhile).
struct UnixSocketFile {
  std::string path;
  dev_t device = 0;
  ino_t inode = 0;
};

// Opens, binds and listens; the file gets `mode` (e.g. 0660).
Result<UnixSocketFile> ListenUnix(asio::local::stream_protocol::acceptor& acceptor,
                                  const std::string& path, uint32_t mode);

void RemoveUnixSocketFile(const UnixSocketFile& file);

// "unix pid=P uid=U gid=G" from SO_PEERCRED: the process that connected,
// as the kernel saw it at connect time. Audit lines name the peer so.
std::string UnixPeerName(int fd);

}  // namespace ctxstore::server
