#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/SocketAddress.h>

#include <strata/core/config.h>

namespace strata::admin {

// An answer of /livez or /readyz: 200 "ok", or 503 with the reason.
struct Health {
  bool ok = true;
  std::string reason;
};

struct AdminOptions {
  std::string bind;                  // strata.admin.bind: HOST:PORT, port 0 for any free one
  std::optional<std::string> token;  // strata.admin.token_file's token: then /metrics and /api/stats need it
  std::string tlsCert;               // strata.admin.tls_cert and tls_key: HTTPS when both are set
  std::string tlsKey;
  // strata.admin.pool: the admin endpoints (http://HOST:PORT) of the pool's other brokers,
  // whose /api/stats the dashboard shows beside this one's (via /api/pool).
  std::vector<std::string> pool;
};

// Reads strata.admin.bind, strata.admin.token_file (a file holding one bearer token,
// refused when group or others may read it) and strata.admin.tls_cert/tls_key (both or
// neither; the key refused when others may read it); nullopt when strata.admin.bind is unset.
// Throws ConfigError or KeyError.
std::optional<AdminOptions> adminOptionsFrom(const core::Config& config);

// What the endpoint serves; each function is called on one of its threads, so it must be
// safe to call from any thread.
struct AdminSources {
  std::function<std::string()> metrics;  // /metrics: Prometheus text
  std::function<std::string()> stats;    // /api/stats: JSON
  std::function<Health()> live;          // /livez
  std::function<Health()> ready;         // /readyz
  std::string dashboard;                 // /: an HTML page; empty: / answers 404
};

// The admin HTTP endpoint of a daemon, on Poco's HTTP server with two threads of its own:
//   GET /metrics     Prometheus text exposition (text/plain; version=0.0.4)
//   GET /api/stats   the same figures as JSON
//   GET /api/pool    with a dashboard: this broker's and its pool's /api/stats, side by side
//   GET /livez       200 "ok", or 503 and why: the daemon's loop has stopped turning
//   GET /readyz      200 "ok", or 503 and why: not serving (yet)
//   GET /            the live dashboard
// With a token, /metrics and /api/stats need "Authorization: Bearer TOKEN"; the probes
// and the page (which holds no figures) do not. Logs "admin listening on http://HOST:PORT"
// (https:// with a certificate).
class AdminServer {
 public:
  using Log = std::function<void(const std::string&)>;
  // Throws ConfigError for an address that does not parse, SystemError when it cannot bind.
  AdminServer(AdminOptions options, AdminSources sources, Log log);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  Poco::Net::SocketAddress address() const;
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace strata::admin
