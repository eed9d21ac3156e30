// RespConnection: lifecycle, the input window, large arguments, the checks
// every command passes before it runs, and replies (see
// resp_connection_impl.h). The parser (protocol/resp_request.h) reads the
// window in place: a command's small arguments stay where they arrived
// until it has run; a large value goes from the socket into its arena
// block, and only its first bytes (those already in the window) are copied.
#include "server/resp_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>

#include "server/resp_connection_impl.h"
#include "server/stream_io.h"
#include "service/hello.h"
#include "service/put_ops.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using protocol::RespEvent;

// CLIENT ID: unique per process, as Redis's.
std::atomic<uint64_t> next_client_id{1};

constexpr size_t kInitialInputBytes = 16 << 10;
// Each read asks for at least this much free space.
constexpr size_t kMinReadBytes = 4 << 10;

}  // namespace

RespConnection::RespConnection(Stream::Socket socket, std::string peer,
                               const ConnectionContext& ctx)
    : stream_(std::move(socket), ctx.tls, /*unix_socket=*/false),
      ctx_(ctx),
      peer_(std::move(peer)),
      watchdog_(stream_.get_executor(), *ctx.options),
      parser_(protocol::RespLimitsFor(ctx.service->limits())),
      client_id_(next_client_id.fetch_add(1)) {
  session_.emplace(*ctx_.service, peer_);
  const protocol::RespLimits& l = parser_.limits();
  // The parser keeps at most this in the window (resp_request.h), plus the
  // read that completed it.
  max_input_bytes_ =
      l.max_buffered_bytes + size_t{l.max_args} * 24 + 2 * l.max_line_bytes + kMinReadBytes;
  in_.resize(kInitialInputBytes);
}

void RespConnection::Start() {
  StartWithWatchdog(shared_from_this(), stream_.get_executor(), watchdog_,
                    ctx_.service->counters());
}

awaitable<void> RespConnection::Run() {
  try {
    watchdog_.Arm(true, false);
    co_await stream_.Handshake();
    // Without authentication every connection starts in "default", as a
    // Redis client without a password expects.
    if (!ctx_.service->options().auth) Authenticate("", "");
    co_await Serve();
  } catch (const std::exception& e) {
    spdlog::debug("redis connection closed: {}", e.what());
  }
  session_->EndLeases();
  Close();
  ctx_.service->counters().connections--;
}

void RespConnection::Close() {
  closed_ = true;
  stream_.Close();
  watchdog_.Stop();
}

awaitable<void> RespConnection::Serve() {
  for (;;) {
    const RespEvent event = parser_.Next(Window());
    switch (event) {
      case RespEvent::kNeedMore:
        if (!out_.empty()) co_await Flush();
        // Between commands the idle timeout; a command must arrive whole
        // within the frame timeout from its first byte (armed once, so that
        // a trickle cannot hold its reservations for ever).
        if (end_ == begin_) {
          watchdog_.Arm(/*in_frame=*/false, session().authenticated());
          command_armed_ = false;
        }
        co_await ReadMore();
        if (!command_armed_) {
          watchdog_.Arm(/*in_frame=*/true, session().authenticated());
          command_armed_ = true;
        }
        break;
      case RespEvent::kArgc:
        break;
      case RespEvent::kArg:
        if (parser_.arg_index() == 0) {
          command_ = protocol::FindRespCommand(parser_.ArgText(Window(), 0));
        }
        break;
      case RespEvent::kLargeArg:
        co_await TakeLargeArg();
        break;
      case RespEvent::kEnd: {
        ctx_.service->counters().requests++;
        // A revoked token (or a failed AUTH) ends the connection after the
        // reply, whatever the command was.
        const bool go_on = co_await Execute() && !session().closing();
        EndCommand();
        if (!go_on) {
          co_await Flush();
          co_return;
        }
        if (out_.full()) co_await Flush();
        break;
      }
      case RespEvent::kEmpty:
        EndCommand();
        break;
      case RespEvent::kError:
        ReplyError(parser_.error());
        co_await Flush();
        co_return;
    }
  }
}

void RespConnection::EndCommand() {
  begin_ += parser_.bytes();
  if (begin_ == end_) begin_ = end_ = 0;
  parser_.Reset();
  command_ = nullptr;
  large_.clear();
  dropped_arg_ = false;
  command_armed_ = false;
  refusal_.reset();
  args_.clear();
}

awaitable<void> RespConnection::ReadMore() {
  if (begin_ == end_ && in_.size() > kInitialInputBytes) {
    // A large command grew the window: an idle connection gives it back.
    in_.resize(kInitialInputBytes);
    in_.shrink_to_fit();
    begin_ = end_ = 0;
  }
  if (in_.size() - end_ < kMinReadBytes && begin_ > 0) {
    std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (in_.size() - end_ < kMinReadBytes) {
    // The parser bounds what a command keeps in the window (max_input_bytes_).
    CTX_CHECK(in_.size() < max_input_bytes_);
    in_.resize(std::min(max_input_bytes_, in_.size() * 2));
  }
  const size_t got = co_await stream_.async_read_some(
      asio::buffer(in_.data() + end_, in_.size() - end_), use_awaitable);
  end_ += got;
}

awaitable<void> RespConnection::Flush() {
  if (out_.empty()) co_return;
  // A client that does not read its replies holds the connection for the
  // frame timeout at most.
  watchdog_.Arm(true, session().authenticated());
  co_await asio::async_write(stream_, out_.Buffers(), TransferAll(), use_awaitable);
  out_.Clear();
}

awaitable<void> RespConnection::TakeLargeArg() {
  const uint32_t i = parser_.arg_index();
  const uint64_t length = parser_.large_length();
  const size_t at = begin_ + parser_.offset();
  const size_t from_window = static_cast<size_t>(std::min<uint64_t>(length, end_ - at));
  LargeValue large;
  large.arg = i;
  large.status = Status::Invalid("argument of " + std::to_string(length) +
                                 " bytes is too long for this command");
  // A value of a write the session may make goes into a reservation; the
  // key is already in the window (keys are small).
  const uint32_t key_arg = command_ != nullptr ? protocol::KeyArgOf(command_->values, i) : 0;
  if (command_ != nullptr && protocol::IsValueArg(command_->values, i, argc()) &&
      LargeAt(key_arg) == nullptr && Refusal().empty()) {
    const std::string_view key = parser_.ArgText(Window(), key_arg);
    auto hold = ctx_.service->inflight().Reserve(length);
    auto put = hold.ok() ? service::BeginPut(*ctx_.service, key, length, BaseWriteOptions())
                         : Result<engine::PutReservation>(hold.status());
    large.status = put.status();
    if (put.ok()) {
      large.hold = std::move(*hold);
      large.put = std::move(*put);
    }
  } else {
    dropped_arg_ = true;
  }
  uint8_t* dst = large.status.ok() ? large.put.buffer().data() : nullptr;
  if (dst != nullptr && from_window > 0) std::memcpy(dst, in_.data() + at, from_window);
  // The taken bytes leave the window; what follows them moves up.
  std::memmove(in_.data() + at, in_.data() + at + from_window, end_ - at - from_window);
  end_ -= from_window;
  parser_.LargeArgTaken(from_window);
  // The bytes that were in the window first, then the socket's.
  if (dst != nullptr) {
    const uint64_t xxh3 = co_await ReceiveHashed(stream_, large.put.buffer(), from_window);
    large.put.set_value_xxh3(xxh3);
  } else {
    co_await Discard(stream_, length - from_window);
  }
  large_.push_back(std::move(large));
}

RespConnection::LargeValue* RespConnection::LargeAt(uint32_t arg) {
  for (LargeValue& l : large_) {
    if (l.arg == arg) return &l;
  }
  return nullptr;
}

const std::string& RespConnection::Refusal() {
  if (!refusal_) refusal_ = CheckAccess();
  return *refusal_;
}

std::string RespConnection::CheckAccess() {
  service::Session& s = session();
  if (!s.authenticated()) return command_->before_auth ? "" : "-NOAUTH Authentication required.";
  // Commands without a native twin still pass Admit (as a read, which
  // every token may do): it is where a revoked token is caught.
  Status access = ctx_.service->Admit(s, command_->op.value_or(protocol::Opcode::kExists));
  if (access.ok()) return {};
  if (s.closing()) return "-NOPERM " + access.message();  // a revoked token
  return "-NOPERM this token may not run the '" + std::string(command_->name) +
         "' command: " + access.message();
}

awaitable<bool> RespConnection::Execute() {
  const std::span<const uint8_t> w = Window();
  args_.resize(argc());
  for (uint32_t i = 0; i < argc(); ++i) {
    args_[i] = LargeAt(i) != nullptr ? std::string_view() : parser_.ArgText(w, i);
  }
  if (command_ == nullptr) {
    ReplyError(protocol::UnknownCommandText(args_[0], std::span(args_).subspan(1)));
    co_return true;
  }
  if (!protocol::ArityOk(*command_, argc())) {
    ReplyError(protocol::WrongArityText(command_->name));
    co_return true;
  }
  if (!Refusal().empty()) {
    ReplyError(Refusal());
    co_return !session().closing();
  }
  if (dropped_arg_) {
    ReplyError("argument too long for '" + std::string(command_->name) + "'");
    co_return true;
  }
  co_return co_await Dispatch(command_->command);
}

awaitable<bool> RespConnection::Dispatch(protocol::RespCommand command) {
  using C = protocol::RespCommand;
  switch (command) {
    case C::kGet:
      co_await CmdGet(/*and_delete=*/false);
      co_return true;
    case C::kGetdel:
      co_await CmdGet(/*and_delete=*/true);
      co_return true;
    case C::kMget:
      co_await CmdMget();
      co_return true;
    case C::kSet:
      co_await CmdSet();
      co_return true;
    case C::kExpire:
    case C::kPexpire:
    case C::kExpireat:
    case C::kPexpireat:
      co_await CmdExpire(command == C::kPexpire || command == C::kPexpireat,
                         command == C::kExpireat || command == C::kPexpireat);
      co_return true;
    case C::kPersist:
      co_await CmdPersist();
      co_return true;
    default:
      co_return RunAtOnce(command);
  }
}

bool RespConnection::RunAtOnce(protocol::RespCommand command) {
  using C = protocol::RespCommand;
  switch (command) {
    case C::kAuth:
      return CmdAuth();
    case C::kHello:
      return CmdHello();
    case C::kQuit:
      Writer().Simple("OK");
      return false;
    case C::kPing:
      CmdPing();
      break;
    case C::kEcho:
      Writer().Bulk(Arg(1));
      break;
    case C::kReset:
      CmdReset();
      break;
    case C::kSelect:
      CmdSelect();
      break;
    case C::kClient:
      CmdClient();
      break;
    case C::kCommand:
      CmdCommand();
      break;
    case C::kConfig:
      CmdConfig();
      break;
    default:
      RunKeyCommand(command);
  }
  return true;
}

void RespConnection::ReplyError(std::string_view text) {
  ctx_.service->counters().protocol_errors++;
  Writer().Error(text);
}

void RespConnection::ReplyStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      Writer().Simple("OK");
      return;
    case StatusCode::kUnauthorized:
      ReplyError("-NOPERM " + st.message());
      return;
    case StatusCode::kNoSpace:
      ReplyError("-OOM " + st.message());
      return;
    case StatusCode::kBusy:
      ReplyError("-BUSY " + st.message());
      return;
    default:
      ReplyError(st.message().empty() ? std::string(StatusCodeName(st.code())) : st.message());
  }
}

void StartRespConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                         const ConnectionContext& ctx) {
  std::make_shared<RespConnection>(std::move(socket), std::move(peer), ctx)->Start();
}

}  // namespace ctxstore::server
