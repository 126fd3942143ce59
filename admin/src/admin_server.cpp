#include <strata/admin/admin_server.h>

#include <fstream>
#include <mutex>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <strata/core/errors.h>
#include <strata/core/private_file.h>
#include <strata/core/tls_server.h>

#include "pool_view.h"

namespace strata::admin {

namespace {

using Poco::Net::HTTPResponse;

constexpr int kThreads = 2;
constexpr int kQueued = 16;
constexpr std::size_t kMinTokenLength = 16;
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

// Equal in time that does not depend on where they differ.
bool sameToken(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(const AdminOptions& options, const AdminSources& sources, PoolView* pool)
      : options_(options), sources_(sources), pool_(pool) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    std::string path = request.getURI().substr(0, request.getURI().find('?'));
    int status = HTTPResponse::HTTP_OK;
    std::string type = "text/plain; charset=utf-8";
    std::string body;
    try {
      if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET &&
          request.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) {
        status = HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
        body = "use GET\n";
        response.set("Allow", "GET, HEAD");
      } else if (path == "/livez" || path == "/readyz") {
        auto health = path == "/livez" ? sources_.live() : sources_.ready();
        status = health.ok ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
        body = health.ok ? "ok\n" : health.reason + "\n";
      } else if (path == "/metrics" || path == "/api/stats" || (path == "/api/pool" && pool_)) {
        if (!authorized(request)) {
          status = HTTPResponse::HTTP_UNAUTHORIZED;
          body = "a valid bearer token is required\n";
          response.set("WWW-Authenticate", "Bearer realm=\"strata-admin\"");
        } else if (path == "/metrics") {
          type = kMetricsType;
          body = sources_.metrics();
        } else {
          type = "application/json";
          body = path == "/api/pool" ? pool_->json() : sources_.stats();
        }
      } else if ((path == "/" || path == "/index.html") && !sources_.dashboard.empty()) {
        type = "text/html; charset=utf-8";
        body = sources_.dashboard;
        response.set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                                "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      } else {
        status = HTTPResponse::HTTP_NOT_FOUND;
        body = sources_.dashboard.empty() ? "no such page: /metrics, /livez, /readyz or /api/stats (the dashboard is on "
                                            "the brokers)\n"
                                          : "no such page: /metrics, /livez, /readyz, /api/stats or /\n";
      }
    } catch (const std::exception& e) {
      status = HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
      body = std::string("internal error: ") + e.what() + "\n";
    }
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
    response.setContentType(type);
    response.set("Cache-Control", "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.setContentLength64(static_cast<Poco::Int64>(body.size()));
    try {
      if (request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD) {
        response.send();
      } else {
        response.sendBuffer(body.data(), body.size());
      }
    } catch (const Poco::Exception&) {
      // The scraper went away.
    }
  }

 private:
  bool authorized(const Poco::Net::HTTPServerRequest& request) const {
    if (!options_.token) return true;
    // By value: get() with a default returns a reference to that default when the header
    // is absent, a temporary here.
    const std::string value = request.get("Authorization", "");
    constexpr std::string_view kBearer = "Bearer ";
    return value.size() > kBearer.size() && value.compare(0, kBearer.size(), kBearer) == 0 &&
           sameToken(value.substr(kBearer.size()), *options_.token);
  }

  const AdminOptions& options_;
  const AdminSources& sources_;
  PoolView* pool_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(const AdminOptions& options, const AdminSources& sources, PoolView* pool)
      : options_(options), sources_(sources), pool_(pool) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(options_, sources_, pool_);
  }

 private:
  const AdminOptions& options_;
  const AdminSources& sources_;
  PoolView* pool_;
};

}  // namespace

std::optional<AdminOptions> adminOptionsFrom(const core::Config& config) {
  if (!config.has("strata.admin.bind")) return std::nullopt;
  AdminOptions options;
  options.bind = config.getString("strata.admin.bind");
  if (options.bind.empty()) return std::nullopt;
  if (config.has("strata.admin.token_file")) {
    auto path = config.getString("strata.admin.token_file");
    core::requirePrivateFile(path, "strata.admin.token_file");
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.size() < kMinTokenLength) {
      throw ConfigError("strata.admin.token_file " + path + " holds no token of at least 16 characters");
    }
    options.token = token;
  }
  options.tlsCert = config.getString("strata.admin.tls_cert", "");
  options.tlsKey = config.getString("strata.admin.tls_key", "");
  if (options.tlsCert.empty() != options.tlsKey.empty()) {
    throw ConfigError("strata.admin.tls_cert and strata.admin.tls_key must be set together");
  }
  if (!options.tlsKey.empty()) core::requirePrivateFile(options.tlsKey, "strata.admin.tls_key");
  options.pool = config.getList("strata.admin.pool");
  for (const auto& url : options.pool) {
    if (url.rfind("http://", 0) != 0) {
      throw ConfigError("strata.admin.pool: '" + url + "' is not an http:// URL of another broker's admin endpoint");
    }
  }
  return options;
}

struct AdminServer::State {
  AdminOptions options;
  AdminSources sources;
  Poco::ThreadPool pool{1, kThreads};  // its own: the process's default pool is shared
  std::unique_ptr<PoolView> poolView;  // with a dashboard: /api/pool
  std::unique_ptr<Poco::Net::HTTPServer> server;
  Poco::Net::SocketAddress address;
  bool stopped = false;
};

AdminServer::AdminServer(AdminOptions options, AdminSources sources, Log log) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.options = std::move(options);
  s.sources = std::move(sources);
  Poco::Net::SocketAddress bindAddress;
  try {
    bindAddress = Poco::Net::SocketAddress(s.options.bind);
  } catch (const Poco::Exception& e) {
    throw ConfigError("strata.admin.bind '" + s.options.bind + "': " + e.displayText());
  }
  bool tls = !s.options.tlsCert.empty();
  Poco::Net::ServerSocket socket;
  if (tls) {
    socket = Poco::Net::SecureServerSocket(
        core::tlsServerContext(s.options.tlsCert, s.options.tlsKey, "strata.admin.tls_cert/tls_key"));
  }
  try {
    socket.bind(bindAddress, true);
    socket.listen();
  } catch (const Poco::Exception& e) {
    throw SystemError("the admin endpoint cannot listen on " + s.options.bind + ": " + e.displayText());
  }
  s.address = socket.address();
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(kThreads);
  params->setMaxQueued(kQueued);
  params->setTimeout(Poco::Timespan(10, 0));
  if (!s.sources.dashboard.empty()) {
    s.poolView = std::make_unique<PoolView>(s.options.pool, s.options.token, s.sources.stats);
  }
  s.server = std::make_unique<Poco::Net::HTTPServer>(new Factory(s.options, s.sources, s.poolView.get()), s.pool,
                                                     socket, params);
  s.server->start();
  if (log) {
    log(std::string("admin listening on ") + (tls ? "https://" : "http://") + s.address.toString() +
        (s.options.token ? " (bearer token)" : "") +
        (s.options.pool.empty() ? "" : "; pool view of " + std::to_string(s.options.pool.size()) + " other broker(s)"));
  }
}

AdminServer::~AdminServer() { stop(); }

Poco::Net::SocketAddress AdminServer::address() const { return state_->address; }

void AdminServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->server->stopAll(true);
}

}  // namespace strata::admin
