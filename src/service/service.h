// The request core behind every front end (docs/architecture.md): sessions,
// authentication, access checks, auditing, and one handler per operation,
// without sockets. A front end frames bytes and streams values; for each
// request it asks Admit whether the session may send it, then calls the
// op's handler (op_table.h lists them with the role each needs; the typed
// handlers are in hello.h, key_ops.h, put_ops.h, context_ops.h,
// namespace_ops.h, token_ops.h and stats.h) with the decoded request, and
// encodes the reply it gets back.
//
// Thread-safe: one Service serves every session of every front end thread;
// each Session is used by one thread at a time.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "engine/engine.h"
#include "protocol/frame.h"
#include "service/audit_log.h"
#include "service/counters.h"
#include "service/inflight_budget.h"

namespace ctxstore::service {

class Session;

inline constexpr const char* kServerVersion = "ctxstore 0.1.0";

struct ServiceOptions {
  // Announced at HELLO; batch and lease bounds. max_value_bytes is taken
  // from the engine.
  protocol::Limits limits;
  // Every session authenticates at HELLO with an access token. Off: every
  // session may do everything (front ends allow that only on loopback).
  bool auth = true;
  // PUT value bytes being received at once, all sessions together
  // (inflight_budget.h); 0: half the DRAM tier.
  uint64_t max_inflight_bytes = 0;
  std::string server_version = kServerVersion;
};

class Service {
 public:
  // engine and audit (null: no audit trail) outlive the service.
  Service(engine::Engine* engine, ServiceOptions options, AuditLog* audit = nullptr);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  engine::Engine& engine() const { return *engine_; }
  const ServiceOptions& options() const { return options_; }
  const protocol::Limits& limits() const { return options_.limits; }
  Counters& counters() const { return counters_; }
  InflightBudget& inflight() const { return inflight_; }

  // Whether the session may send op now: before a successful HELLO only
  // HELLO (kInvalid); afterwards what its token's role allows
  // (kUnauthorized). The token is looked up again only when the engine's
  // access epoch has moved; a revoked one also marks the session closing.
  // op must be a known opcode.
  Status Admit(Session& session, protocol::Opcode op) const;

  // An audit line with the session's peer and token id added.
  void Audit(const Session& session, std::string_view event, nlohmann::json fields) const;

 private:
  engine::Engine* engine_;
  ServiceOptions options_;
  AuditLog* audit_;
  mutable Counters counters_;
  mutable InflightBudget inflight_;
};

}  // namespace ctxstore::service
