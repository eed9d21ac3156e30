#include "server/server.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include "common/clock.h"
#include "common/thread_name.h"
#include "server/connection.h"
#include "server/loopback.h"
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

struct Server::Impl {
  engine::Engine* engine;
  ServerOptions options;
  // Declared before the pool: flash reads still queued when the server
  // goes use it.
  std::unique_ptr<service::Service> service;
  ConnectionContext ctx;
  // Worker 0 also runs the acceptor.
  std::vector<std::unique_ptr<asio::io_context>> workers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::unique_ptr<tcp::acceptor> acceptor;
  size_t next_worker = 0;
  std::unique_ptr<asio::steady_timer> accept_backoff;
  uint64_t last_accept_warning_ms = 0;
  std::unique_ptr<BlockingPool> flash_readers;
  std::unique_ptr<asio::ssl::context> tls;

  void Accept() {
    asio::io_context& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor->async_accept(target, [this](asio::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        service::Counters& counters = service->counters();
        if (counters.connections.load() >= options.max_connections) {
          counters.connections_refused++;
          spdlog::warn("refusing connection: {} connections open", counters.connections.load());
          asio::error_code ignored;
          socket.close(ignored);
        } else {
          socket.set_option(tcp::no_delay(true), ec);
          // Serve on the socket's own worker thread.
          asio::post(socket.get_executor(), [this, s = std::move(socket)]() mutable {
            StartConnection(std::move(s), ctx);
          });
        }
      } else {
        // Out of file descriptors (or similar): the connection stays in the
        // backlog, so accepting again at once would spin. Back off.
        uint64_t now_ms = MonotonicMs();
        if (now_ms - last_accept_warning_ms >= 1000) {
          spdlog::warn("accept: {} (backing off)", ec.message());
          last_accept_warning_ms = now_ms;
        }
        accept_backoff->expires_after(std::chrono::milliseconds(50));
        accept_backoff->async_wait([this](asio::error_code) {
          if (acceptor->is_open()) Accept();
        });
        return;
      }
      Accept();
    });
  }
};

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

Server::~Server() {
  Stop();
}

Status Server::Start() {
  if (!impl_->options.auth && !IsLoopbackHost(impl_->options.host)) {
    return Status::Invalid("authentication can be turned off only on a loopback listener, not " +
                           impl_->options.host);
  }
  if (!impl_->options.tls_cert_file.empty()) {
    auto tls = MakeServerTlsContext(impl_->options);
    if (!tls.ok()) return tls.status();
    impl_->tls = std::move(*tls);
    impl_->ctx.tls = impl_->tls.get();
  } else if (!impl_->options.tls_key_file.empty() || !impl_->options.tls_client_ca_file.empty()) {
    return Status::Invalid("a TLS key or client CA needs a TLS certificate");
  }
  try {
    asio::ip::address address = asio::ip::make_address(impl_->options.host);
    tcp::endpoint endpoint(address, impl_->options.port);
    impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->workers[0]);
    impl_->acceptor->open(endpoint.protocol());
    impl_->acceptor->set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor->bind(endpoint);
    impl_->acceptor->listen(asio::socket_base::max_listen_connections);
    bound_port_ = impl_->acceptor->local_endpoint().port();
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + impl_->options.host + ":" +
                               std::to_string(impl_->options.port) + ": " + e.what());
  }
  impl_->accept_backoff = std::make_unique<asio::steady_timer>(*impl_->workers[0]);
  impl_->Accept();
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

}  // namespace ctxstore::server
