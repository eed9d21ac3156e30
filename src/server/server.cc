#include "server/server.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <random>

#include "common/clock.h"
#include "common/thread_name.h"
#include "server/connection.h"
#include "server/lm_connection.h"
#include "server/loopback.h"
#include "server/resp_connection.h"
#include "server/unix_listener.h"
#include "service/service.h"

namespace ctxstore::server {

using asio::ip::tcp;

namespace {

Result<std::unique_ptr<asio::ssl::context>> MakeServerTlsContext(const ServerOptions& o) {
  if (o.tls_key_file.empty()) return Status::Invalid("a TLS certificate needs its key");
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  try {
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    // The floor as a version, as the client states it (client/tls.cc), set
    // after OpenSSL has applied the system configuration (which may lower
    // its default floor); the no_* options above say it the deprecated way.
    if (SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION) != 1) {
      return Status::Internal("cannot set the TLS 1.2 floor");
    }
    // TLS 1.3 servers send session tickets after the handshake; a client
    // that reads them only with its next reply could take them for
    // unsolicited bytes on an idle pooled connection. Connections are long
    // lived, so resumption buys little.
    SSL_CTX_set_num_tickets(tls->native_handle(), 0);
    tls->use_certificate_chain_file(o.tls_cert_file);
    tls->use_private_key_file(o.tls_key_file, asio::ssl::context::pem);
    if (!o.tls_client_ca_file.empty()) {
      tls->load_verify_file(o.tls_client_ca_file);
      tls->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  } catch (const std::exception& e) {
    return Status::Invalid(std::string("TLS setup (certificate, key or client CA): ") + e.what());
  }
  return tls;
}

}  // namespace

// One listening socket (TCP or Unix) and its accept loop.
template <typename Protocol>
struct Listener {
  std::unique_ptr<asio::basic_socket_acceptor<Protocol>> acceptor;
  std::unique_ptr<asio::steady_timer> backoff;
  const ConnectionContext* ctx = nullptr;  // tls null on the Unix listener
};

struct Server::Impl {
  engine::Engine* engine;
  ServerOptions options;
  // Declared before the pool: flash reads still queued when the server
  // goes use it.
  std::unique_ptr<service::Service> service;
  ConnectionContext ctx;
  ConnectionContext unix_ctx;   // ctx without TLS
  ConnectionContext redis_ctx;  // ctx for the Redis front end
  ConnectionContext lm_ctx;     // for lm:// (never TLS: LMCache's client has none)
  // Worker 0 also runs the acceptors.
  std::vector<std::unique_ptr<asio::io_context>> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  Listener<tcp> tcp_listener;
  Listener<tcp> redis_listener;
  Listener<tcp> lm_listener;
  Listener<asio::local::stream_protocol> unix_listener;
  UnixSocketFile unix_file;
  size_t next_worker = 0;
  uint64_t last_accept_warning_ms = 0;
  std::unique_ptr<BlockingPool> flash_readers;
  std::unique_ptr<PipelinedHasher> shm_hasher;  // with the Unix listener
  std::unique_ptr<ScanCursors> scan_cursors;    // with the Redis listener
  std::unique_ptr<asio::ssl::context> tls;

  template <typename Protocol>
  void Accept(Listener<Protocol>& l) {
    asio::io_context& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    l.acceptor->async_accept(target, [this, &l](asio::error_code ec,
                                                typename Protocol::socket socket) {
      if (ec == asio::error::operation_aborted || !l.acceptor->is_open()) return;
      if (ec) {
        BackOff(l, ec);
        return;
      }
      service::Counters& counters = service->counters();
      if (counters.connections.load() >= options.max_connections) {
        counters.connections_refused++;
        spdlog::warn("refusing connection: {} connections open", counters.connections.load());
        asio::error_code ignored;
        socket.close(ignored);
      } else {
        std::string peer = PeerOf(socket);
        // Serve on the socket's own worker thread.
        asio::post(socket.get_executor(),
                   [ctx = l.ctx, s = asio::generic::stream_protocol::socket(std::move(socket)),
                    peer = std::move(peer)]() mutable {
                     if (ctx->front_end == FrontEnd::kRedis) {
                       StartRespConnection(std::move(s), std::move(peer), *ctx);
                     } else if (ctx->front_end == FrontEnd::kLm) {
                       StartLmConnection(std::move(s), std::move(peer), *ctx);
                     } else {
                       StartConnection(std::move(s), std::move(peer), *ctx);
                     }
                   });
      }
      Accept(l);
    });
  }

  // Out of file descriptors (or similar): the connection stays in the
  // backlog, so accepting again at once would spin.
  template <typename Protocol>
  void BackOff(Listener<Protocol>& l, const asio::error_code& ec) {
    uint64_t now_ms = MonotonicMs();
    if (now_ms - last_accept_warning_ms >= 1000) {
      spdlog::warn("accept: {} (backing off)", ec.message());
      last_accept_warning_ms = now_ms;
    }
    l.backoff->expires_after(std::chrono::milliseconds(50));
    l.backoff->async_wait([this, &l](asio::error_code) {
      if (l.acceptor->is_open()) Accept(l);
    });
  }

  // "ip:port" for TCP (and Nagle off); "unix pid=.. uid=.. gid=.." for Unix.
  static std::string PeerOf(tcp::socket& socket) {
    asio::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);
    if (ec) return {};
    return remote.address().to_string() + ":" + std::to_string(remote.port());
  }
  static std::string PeerOf(asio::local::stream_protocol::socket& socket) {
    return UnixPeerName(socket.native_handle());
  }

  Status ListenTcp(Listener<tcp>& l, const std::string& host, uint16_t port,
                   const ConnectionContext* c);
  Status ListenOnUnix();
  Status ListenLm();
};

Status Server::Impl::ListenTcp(Listener<tcp>& l, const std::string& host, uint16_t port,
                               const ConnectionContext* c) {
  try {
    asio::ip::address address = asio::ip::make_address(host);
    tcp::endpoint endpoint(address, port);
    l.acceptor = std::make_unique<tcp::acceptor>(*workers[0]);
    l.acceptor->open(endpoint.protocol());
    l.acceptor->set_option(tcp::acceptor::reuse_address(true));
    l.acceptor->bind(endpoint);
    l.acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                               e.what());
  }
  l.backoff = std::make_unique<asio::steady_timer>(*workers[0]);
  l.ctx = c;
  return Status::Ok();
}

Status Server::Impl::ListenOnUnix() {
  unix_listener.acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(*workers[0]);
  auto file = ListenUnix(*unix_listener.acceptor, options.unix_path, options.unix_mode);
  if (!file.ok()) return file.status();
  unix_file = std::move(*file);
  unix_listener.backoff = std::make_unique<asio::steady_timer>(*workers[0]);
  unix_ctx = ctx;
  unix_ctx.tls = nullptr;
  unix_ctx.unix_socket = true;
  // SHM_PUT's copy and hash (only Unix connections have shared memory).
  shm_hasher = std::make_unique<PipelinedHasher>();
  unix_ctx.shm_hasher = shm_hasher.get();
  unix_listener.ctx = &unix_ctx;
  return Status::Ok();
}

Status Server::Impl::ListenLm() {
  if (!options.lm_allow_remote && !IsLoopbackHost(options.lm_host)) {
    return Status::Invalid("lm:// has no authentication: its listener must be on loopback, not " +
                           options.lm_host + " (unless told to allow remote clients)");
  }
  auto ns = engine->ResolveNamespace(options.lm_namespace);
  if (!ns.ok()) {
    return Status::NotFound("lm:// namespace '" + options.lm_namespace + "' does not exist");
  }
  lm_ctx = ctx;
  lm_ctx.tls = nullptr;
  lm_ctx.front_end = FrontEnd::kLm;
  lm_ctx.lm_namespace_id = *ns;
  return ListenTcp(lm_listener, options.lm_host, options.lm_port, &lm_ctx);
}

Server::Server(engine::Engine* engine, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->engine = engine;
  impl_->options = std::move(options);
  service::ServiceOptions so;
  so.limits = impl_->options.limits;
  so.auth = impl_->options.auth;
  so.max_inflight_bytes = impl_->options.max_inflight_bytes;
  impl_->service = std::make_unique<service::Service>(engine, so, impl_->options.audit_log);
  // What the service settled on (the engine's max value, half the DRAM tier).
  impl_->options.limits = impl_->service->limits();
  impl_->options.max_inflight_bytes = impl_->service->options().max_inflight_bytes;
  if (impl_->options.flash_read_threads > 0) {
    impl_->flash_readers =
        std::make_unique<BlockingPool>(impl_->options.flash_read_threads, "ctx-flashread");
  }
  impl_->ctx =
      ConnectionContext{impl_->service.get(), &impl_->options, impl_->flash_readers.get(), nullptr};
  unsigned n = impl_->options.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    impl_->workers.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(asio::make_work_guard(*impl_->workers.back()));
  }
}

Status Server::Start() {
  const ServerOptions& o = impl_->options;
  if (!o.auth && (!IsLoopbackHost(o.host) || (o.redis_enabled && !IsLoopbackHost(o.redis_host)))) {
    return Status::Invalid("authentication can be turned off only on loopback listeners, not " +
                           (IsLoopbackHost(o.host) ? o.redis_host : o.host));
  }
  if (!impl_->options.tls_cert_file.empty()) {
    auto tls = MakeServerTlsContext(impl_->options);
    if (!tls.ok()) return tls.status();
    impl_->tls = std::move(*tls);
    impl_->ctx.tls = impl_->tls.get();
  } else if (!impl_->options.tls_key_file.empty() || !impl_->options.tls_client_ca_file.empty()) {
    return Status::Invalid("a TLS key or client CA needs a TLS certificate");
  }
  CTX_RETURN_IF_ERROR(impl_->ListenTcp(impl_->tcp_listener, o.host, o.port, &impl_->ctx));
  bound_port_ = impl_->tcp_listener.acceptor->local_endpoint().port();
  if (o.redis_enabled) {
    impl_->redis_ctx = impl_->ctx;
    impl_->redis_ctx.front_end = FrontEnd::kRedis;
    impl_->scan_cursors = std::make_unique<ScanCursors>(std::random_device{}());
    impl_->redis_ctx.scan_cursors = impl_->scan_cursors.get();
    CTX_RETURN_IF_ERROR(
        impl_->ListenTcp(impl_->redis_listener, o.redis_host, o.redis_port, &impl_->redis_ctx));
    bound_redis_port_ = impl_->redis_listener.acceptor->local_endpoint().port();
  }
  if (!impl_->options.unix_path.empty()) CTX_RETURN_IF_ERROR(impl_->ListenOnUnix());
  if (o.lm_enabled) {
    CTX_RETURN_IF_ERROR(impl_->ListenLm());
    bound_lm_port_ = impl_->lm_listener.acceptor->local_endpoint().port();
  }
  impl_->Accept(impl_->tcp_listener);
  if (impl_->unix_listener.acceptor) impl_->Accept(impl_->unix_listener);
  if (impl_->redis_listener.acceptor) impl_->Accept(impl_->redis_listener);
  if (impl_->lm_listener.acceptor) impl_->Accept(impl_->lm_listener);
  return Status::Ok();
}

void Server::Run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->workers.size(); ++i) {
    threads.emplace_back([ctx = impl_->workers[i].get(), i] {
      SetThreadName("ctx-net-" + std::to_string(i));
      ctx->run();
    });
  }
  impl_->workers[0]->run();
  for (auto& t : threads) t.join();
}

void Server::Stop() {
  if (!impl_) return;
  for (auto& w : impl_->workers) w->stop();
}

Server::~Server() {
  Stop();
  if (impl_) RemoveUnixSocketFile(impl_->unix_file);
}

}  // namespace ctxstore::server
