// RespConnection: the commands about the connection itself, with Redis
// 7.0's replies and error texts: AUTH, HELLO, PING, RESET, SELECT, CLIENT,
// COMMAND, CONFIG (see resp_connection_impl.h). AUTH and HELLO's AUTH are
// the native HELLO (service/hello.h): the username is the namespace, the
// password the access token.
#include <string>

#include "protocol/resp_glob.h"
#include "server/resp_connection_impl.h"
#include "service/hello.h"

namespace ctxstore::server {
namespace {

using protocol::EqualsNoCase;
using protocol::ParseRedisInt;

constexpr std::string_view kWrongPass =
    "-WRONGPASS invalid username-password pair or user is disabled.";
// What the front end speaks, as HELLO announces it: the Redis release whose
// commands and replies it follows (docs/compatibility.md).
constexpr std::string_view kRedisVersion = "7.0.15";

// Redis refuses client names with spaces or control characters.
bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace

bool RespConnection::Authenticate(std::string_view ns, std::string_view token) {
  protocol::HelloRequest hello;
  hello.client_name = client_name_.empty() ? "redis" : client_name_;
  hello.namespace_name = std::string(ns);
  hello.token = std::string(token);
  auto reply = service::Hello(*ctx_.service, session(), hello);
  if (reply.ok()) {
    parser_.set_authenticated(true);
    return true;
  }
  return false;
}

bool RespConnection::CmdAuth() {
  if (argc() > 3) {
    ReplyError(protocol::kSyntaxErrorText);
    return true;
  }
  const bool auth = ctx_.service->options().auth;
  if (!auth && argc() == 2) {
    ReplyError(
        "AUTH <password> called without any password configured for the default user. Are you "
        "sure your configuration is correct?");
    return true;
  }
  const std::string_view ns = argc() == 3 ? Arg(1) : std::string_view();
  if (!Authenticate(ns, Arg(argc() - 1))) {
    ReplyError(kWrongPass);
    // A bad token ends the connection, as on the native protocol: every
    // guess costs a new connection.
    return !session().closing();
  }
  Writer().Simple("OK");
  return true;
}

bool RespConnection::CmdHello() {
  int proto = proto_;
  if (argc() >= 2) {
    auto v = ParseRedisInt(Arg(1));
    if (!v) {
      ReplyError("Protocol version is not an integer or out of range");
      return true;
    }
    if (*v != 2 && *v != 3) {
      ReplyError("-NOPROTO unsupported protocol version");
      return true;
    }
    proto = static_cast<int>(*v);
  }
  std::string_view user, pass, name;
  bool has_auth = false, has_name = false;
  for (uint32_t i = 2; i < argc(); ++i) {
    const bool more = argc() - i - 1 >= 1;
    if (EqualsNoCase(Arg(i), "auth") && argc() - i - 1 >= 2) {
      user = Arg(i + 1);
      pass = Arg(i + 2);
      has_auth = true;
      i += 2;
    } else if (EqualsNoCase(Arg(i), "setname") && more) {
      name = Arg(++i);
      has_name = true;
    } else {
      ReplyError("Syntax error in HELLO option '" + std::string(Arg(i)) + "'");
      return true;
    }
  }
  if (has_auth && !Authenticate(user, pass)) {
    ReplyError(kWrongPass);
    return !session().closing();
  }
  if (!session().authenticated()) {
    ReplyError(
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
    return true;
  }
  if (has_name) {
    if (!ValidClientName(name)) {
      ReplyError("Client names cannot contain spaces, newlines or special characters.");
      return true;
    }
    client_name_ = std::string(name);
  }
  proto_ = proto;
  WriteHelloMap();
  return true;
}

void RespConnection::WriteHelloMap() {
  protocol::RespWriter w = Writer();
  w.Map(7);
  w.Bulk("server");
  w.Bulk("ctxstore");
  w.Bulk("version");
  w.Bulk(kRedisVersion);
  w.Bulk("proto");
  w.Integer(proto_);
  w.Bulk("id");
  w.Integer(static_cast<int64_t>(client_id_));
  w.Bulk("mode");
  w.Bulk("standalone");
  w.Bulk("role");
  w.Bulk("master");
  w.Bulk("modules");
  w.Array(0);
}

void RespConnection::CmdPing() {
  if (argc() > 2) {
    ReplyError(protocol::WrongArityText("ping"));
  } else if (argc() == 2) {
    Writer().Bulk(Arg(1));
  } else {
    Writer().Simple("PONG");
  }
}

void RespConnection::CmdSelect() {
  auto index = ParseRedisInt(Arg(1));
  if (!index) {
    ReplyError(protocol::kNotIntegerText);
  } else if (*index != 0) {
    // One keyspace per namespace: AUTH picks the namespace, not SELECT.
    ReplyError("DB index is out of range");
  } else {
    Writer().Simple("OK");
  }
}

void RespConnection::CmdReset() {
  // As Redis: back to RESP2, no name; the leases end with the session, and
  // with authentication on the connection must AUTH again.
  proto_ = 2;
  client_name_.clear();
  session_->EndLeases();
  if (ctx_.service->options().auth) {
    session_.reset();
    session_.emplace(*ctx_.service, peer_);
    parser_.set_authenticated(false);
  } else {
    Authenticate("", "");  // back to "default", whatever AUTH picked
  }
  Writer().Simple("RESET");
}

void RespConnection::CmdClient() {
  const std::string_view sub = Arg(1);
  const auto arity = [&](uint32_t n, std::string_view full) {
    if (argc() == n) return true;
    ReplyError(protocol::WrongArityText(full));
    return false;
  };
  if (EqualsNoCase(sub, "setname")) {
    if (!arity(3, "client|setname")) return;
    if (!ValidClientName(Arg(2))) {
      ReplyError("Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    client_name_ = std::string(Arg(2));
    Writer().Simple("OK");
  } else if (EqualsNoCase(sub, "getname")) {
    if (!arity(2, "client|getname")) return;
    if (client_name_.empty()) {
      Writer().Null();
    } else {
      Writer().Bulk(client_name_);
    }
  } else if (EqualsNoCase(sub, "id")) {
    if (arity(2, "client|id")) Writer().Integer(static_cast<int64_t>(client_id_));
  } else if (EqualsNoCase(sub, "setinfo")) {
    if (arity(4, "client|setinfo")) Writer().Simple("OK");
  } else if (EqualsNoCase(sub, "info")) {
    if (!arity(2, "client|info")) return;
    Writer().Verbatim("id=" + std::to_string(client_id_) + " addr=" + peer_ +
                      " name=" + client_name_ + " db=0 resp=" + std::to_string(proto_) +
                      " namespace_id=" + std::to_string(session().namespace_id()) + "\n");
  } else {
    ReplyError("unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try CLIENT HELP.");
  }
}

void RespConnection::WriteCommandInfo(const protocol::RespCommandSpec& spec) {
  using protocol::RespValues;
  protocol::RespWriter w = Writer();
  const bool keys = spec.op.has_value() && spec.command != protocol::RespCommand::kDbsize;
  const bool many = spec.values == RespValues::kPairs || spec.arity < -2 ||
                    spec.command == protocol::RespCommand::kMget;
  w.Array(10);
  w.Bulk(spec.name);
  w.Integer(spec.arity);
  w.Array(1);
  w.Simple(spec.values != RespValues::kNone ? "write" : "readonly");
  w.Integer(keys ? 1 : 0);                                            // first key
  w.Integer(keys ? (many ? -1 : 1) : 0);                              // last key
  w.Integer(keys ? (spec.values == RespValues::kPairs ? 2 : 1) : 0);  // step
  w.Array(0);                                                         // ACL categories
  w.Array(0);                                                         // tips
  w.Array(0);                                                         // key specs
  w.Array(0);                                                         // subcommands
}

void RespConnection::CmdCommand() {
  const auto commands = protocol::RespCommands();
  if (argc() == 1) {
    Writer().Array(commands.size());
    for (const auto& spec : commands) WriteCommandInfo(spec);
    return;
  }
  const std::string_view sub = Arg(1);
  if (EqualsNoCase(sub, "count")) {
    if (argc() != 2) {
      ReplyError(protocol::WrongArityText("command|count"));
      return;
    }
    Writer().Integer(static_cast<int64_t>(commands.size()));
  } else if (EqualsNoCase(sub, "docs")) {
    // redis-cli asks for hints at start: none to give.
    Writer().Map(0);
  } else if (EqualsNoCase(sub, "info")) {
    Writer().Array(argc() - 2);
    for (uint32_t i = 2; i < argc(); ++i) {
      const auto* spec = protocol::FindRespCommand(Arg(i));
      if (spec == nullptr) {
        Writer().NullArray();
      } else {
        WriteCommandInfo(*spec);
      }
    }
  } else {
    ReplyError("unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try COMMAND HELP.");
  }
}

void RespConnection::CmdConfig() {
  if (EqualsNoCase(Arg(1), "set") || EqualsNoCase(Arg(1), "resetstat") ||
      EqualsNoCase(Arg(1), "rewrite")) {
    ReplyError("CONFIG " + std::string(Arg(1)) +
               " is not supported: settings are serve flags and `ctxstore ns set`");
    return;
  }
  if (!EqualsNoCase(Arg(1), "get")) {
    ReplyError("unknown subcommand '" + std::string(Arg(1).substr(0, 128)) + "'. Try CONFIG HELP.");
    return;
  }
  if (argc() < 3) {
    ReplyError(protocol::WrongArityText("config|get"));
    return;
  }
  const protocol::Limits& limits = ctx_.service->limits();
  const engine::EngineOptions& eo = ctx_.service->engine().options();
  // What clients probe (redis-benchmark asks for save and appendonly), with
  // the store's real figures where there is one.
  const std::pair<std::string_view, std::string> settings[] = {
      {"appendonly", "no"},
      {"databases", "1"},
      {"maxmemory", std::to_string(eo.memory_bytes)},
      {"maxmemory-policy", "allkeys-lru"},
      {"proto-max-bulk-len", std::to_string(limits.max_value_bytes)},
      {"save", ""},
      {"timeout", std::to_string(ctx_.options->idle_timeout_ms / 1000)},
  };
  std::vector<const std::pair<std::string_view, std::string>*> hits;
  for (const auto& s : settings) {
    for (uint32_t i = 2; i < argc(); ++i) {
      if (protocol::GlobMatch(Arg(i).substr(0, 256), s.first, /*nocase=*/true)) {
        hits.push_back(&s);
        break;
      }
    }
  }
  protocol::RespWriter w = Writer();
  w.Map(hits.size());
  for (const auto* h : hits) {
    w.Bulk(h->first);
    w.Bulk(h->second);
  }
}

}  // namespace ctxstore::server
