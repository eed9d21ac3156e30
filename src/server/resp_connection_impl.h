// Private to the server: the RespConnection class behind
// StartRespConnection. Its members are defined in three files:
//   resp_connection.cc    lifecycle, the input window, large arguments,
//                         the checks before a command runs, replies
//   resp_session_cmds.cc  AUTH, HELLO, PING, QUIT, ECHO, RESET, SELECT,
//                         CLIENT, COMMAND, CONFIG
//   resp_key_cmds.cc      the commands on keys: GET, SET, MGET, ... CTX.*
//   resp_expiry_cmds.cc   EXPIRE and its kin, PERSIST, EXPIRETIME
//   resp_keyspace_cmds.cc the commands on the whole namespace: SCAN, KEYS,
//                         DBSIZE, FLUSHDB, INFO; CTX.PIN and CTX.UNPIN
// The command table (names, arity, roles) is protocol/resp_commands.h; the
// ops themselves are the service's (service/key_ops.h, put_ops.h).
// g++ 12 rules for coroutines as in connection_impl.h: no braced
// initializer lists inside co_await arguments, no init-captures in lambdas
// written inside coroutines, no temporaries with destructors in a
// conditional expression passed to co_await.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/types.h"
#include "protocol/resp_commands.h"
#include "protocol/resp_reply.h"
#include "protocol/resp_request.h"
#include "server/connection.h"
#include "server/resp_output.h"
#include "server/stream.h"
#include "server/watchdog.h"
#include "service/inflight_budget.h"
#include "service/session.h"

namespace ctxstore::server {

class RespConnection : public std::enable_shared_from_this<RespConnection> {
 public:
  RespConnection(Stream::Socket socket, std::string peer, const ConnectionContext& ctx);
  void Start();

 private:
  template <typename Conn>
  friend void StartWithWatchdog(const std::shared_ptr<Conn>&, asio::any_io_executor, Watchdog&,
                                service::Counters&);
  // A value argument received out of the window into its reservation (or
  // refused, its bytes read and dropped), until its command runs.
  struct LargeValue {
    uint32_t arg = 0;
    Status status;  // why it was not received (OK: put holds it)
    service::InflightHold hold;
    engine::PutReservation put;
  };

  // ---- lifecycle, input and checks (resp_connection.cc) ----

  asio::awaitable<void> Run();
  asio::awaitable<void> Serve();
  void Close();
  // Reads whatever has arrived into the window's free space.
  asio::awaitable<void> ReadMore();
  asio::awaitable<void> Flush();
  // The parser reported a large argument: into a reservation, or dropped.
  asio::awaitable<void> TakeLargeArg();
  // The whole command is in: checks it and runs it; false: close after
  // the replies so far.
  asio::awaitable<bool> Execute();
  // NOAUTH or NOPERM: the reply when the command must not run, empty when
  // it may; asked once per command (Admit audits a refusal).
  const std::string& Refusal();
  std::string CheckAccess();
  asio::awaitable<bool> Dispatch(protocol::RespCommand command);
  // The commands that never wait (all but GET, GETDEL, MGET and SET);
  // false: close.
  bool RunAtOnce(protocol::RespCommand command);
  void EndCommand();

  std::span<const uint8_t> Window() const {
    return std::span<const uint8_t>(in_.data() + begin_, end_ - begin_);
  }
  uint32_t argc() const { return parser_.argc(); }
  // Argument i's bytes ("" for a large one).
  std::string_view Arg(uint32_t i) const { return args_[i]; }
  LargeValue* LargeAt(uint32_t arg);
  protocol::RespWriter Writer() { return protocol::RespWriter(out_.text(), proto_); }
  // "-ERR ..." or a text with its own code ("-NOPERM ..."); counted.
  void ReplyError(std::string_view text);
  // A service error as Redis clients expect it (NOPERM, OOM, ERR).
  void ReplyStatus(const Status& st);
  service::Session& session() { return *session_; }

  // ---- connection commands (resp_session_cmds.cc) ----

  // Authenticates (or, without authentication, picks the namespace); false
  // when the connection must close (WRONGPASS after a bad token).
  bool Authenticate(std::string_view ns, std::string_view token);
  bool CmdAuth();
  bool CmdHello();
  void CmdPing();
  void CmdSelect();
  void CmdReset();
  void CmdClient();
  void CmdCommand();
  void CmdConfig();
  void WriteHelloMap();
  void WriteCommandInfo(const protocol::RespCommandSpec& spec);

  // ---- commands on keys (resp_key_cmds.cc) ----

  // The commands on keys that never wait.
  void RunKeyCommand(protocol::RespCommand command);
  asio::awaitable<void> CmdGet(bool and_delete);
  asio::awaitable<void> CmdMget();
  asio::awaitable<void> CmdSet();
  void CmdSetex(bool millis);
  void CmdMset();
  void CmdExists();
  void CmdDel();
  void CmdTypeOrStrlen(bool strlen);
  void CmdTtl(bool millis);
  void CmdMatchPrefix();
  void CmdRelease();
  void CmdStat();

  // ---- expiries (resp_expiry_cmds.cc) ----

  asio::awaitable<void> CmdExpire(bool millis, bool absolute);
  asio::awaitable<void> CmdPersist();
  void CmdExpireTime(bool millis);

  // ---- commands on the namespace (resp_keyspace_cmds.cc) ----

  void RunKeyspaceCommand(protocol::RespCommand command);
  void CmdScan();
  void CmdKeys();
  void CmdDbsize();
  void CmdFlushdb();
  void CmdInfo();
  void CmdPin(bool unpin);
  // The session's namespace as the catalog shows it (objects, bytes).
  std::optional<NamespaceInfo> OwnNamespace() const;
  // Stores argument value_arg under argument key_arg with these options
  // (its conditions, TTL and overwrite already set).
  Status StoreValue(uint32_t key_arg, uint32_t value_arg, engine::WriteOptions opts);
  engine::WriteOptions BaseWriteOptions() const;
  void AppendValue(engine::ValueRef value);

  Stream stream_;
  ConnectionContext ctx_;
  std::string peer_;
  std::optional<service::Session> session_;
  Watchdog watchdog_;
  protocol::RespRequestParser parser_;
  std::vector<uint8_t> in_;  // the input window is [begin_, end_)
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t max_input_bytes_;
  std::vector<std::string_view> args_;  // the command's arguments, at kEnd
  std::vector<LargeValue> large_;       // its large values
  bool dropped_arg_ = false;            // a large argument that is not a value was dropped
  std::optional<std::string> refusal_;  // Refusal(), once known
  const protocol::RespCommandSpec* command_ = nullptr;
  RespOutput out_;
  int proto_ = 2;
  uint64_t client_id_;
  std::string client_name_;
  bool closed_ = false;
  bool command_armed_ = false;  // the frame deadline runs for the command in the window
};

}  // namespace ctxstore::server
