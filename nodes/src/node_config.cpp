#include <strata/nodes/node_config.h>

#include <unistd.h>

#include <strata/core/errors.h>

namespace strata::nodes {

namespace {

std::string defaultName() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

}  // namespace

WorkerOptions workerOptionsFrom(const core::Config& config) {
  WorkerOptions o;
  o.name = config.getString("strata.node.name", defaultName());
  o.brokers = config.getList("strata.brokers");
  o.bind = config.getList("strata.node.bind");
  if (o.brokers.empty() && o.bind.empty()) {
    throw ConfigError("set strata.brokers (brokered) or strata.node.bind (direct mode)");
  }
  o.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(config.getString("strata.key")));
  if (!o.brokers.empty()) o.brokerKey = core::loadPublicKey(config.getString("strata.broker_key"));
  if (!o.bind.empty()) {
    o.authorizedKeys = std::make_shared<core::AuthorizedKeys>(
        core::AuthorizedKeys::load(config.getString("strata.authorized_keys")));
    if (config.has("strata.policy.default")) o.policy.setDefaultRules(config.getString("strata.policy.default"));
    for (const auto& service : config.keysUnder("strata.policy.")) {
      if (service != "default") o.policy.setServiceCallers(service, config.getString("strata.policy." + service));
    }
    o.layer = static_cast<core::Layer>(config.getInt("strata.node.layer", o.layer, core::kMinLayer, core::kMaxLayer));
  }
  o.threads = static_cast<std::size_t>(
      config.getInt("strata.worker.threads", static_cast<long long>(WorkerOptions::kDefaultThreads), 1, 1024));
  o.capacity = static_cast<std::uint32_t>(
      config.getInt("strata.worker.capacity", WorkerOptions::kDefaultCapacity, 1, codecs::kMaxCredit));
  o.heartbeat = config.getMillis("strata.heartbeat_ms", WorkerOptions::kDefaultHeartbeat);
  o.liveness = static_cast<int>(config.getInt("strata.heartbeat_liveness", WorkerOptions::kDefaultLiveness, 1, 100));
  o.limits = config.limits();
  if (config.has("strata.worker.idempotency_db")) {
    o.idempotency = std::make_shared<IdempotencyStore>(
        config.getString("strata.worker.idempotency_db"),
        config.getMillis("strata.worker.idempotency_window_ms", IdempotencyStore::kDefaultWindow));
  }
  return o;
}

std::optional<ClientOptions> nodeClientOptionsFrom(const core::Config& config, const WorkerOptions& worker) {
  if (worker.brokers.empty()) return std::nullopt;
  ClientOptions o;
  o.endpoints = worker.brokers;
  o.secretKey = worker.secretKey;
  o.serverKey = worker.brokerKey;
  o.defaultTimeout = config.getMillis("strata.timeout_ms", ClientOptions::kDefaultTimeout);
  o.limits = worker.limits;
  return o;
}

ClientOptions clientOptionsFrom(const core::Config& config) {
  ClientOptions o;
  bool direct = config.has("strata.workers");
  o.endpoints = config.getList(direct ? "strata.workers" : "strata.brokers");
  if (o.endpoints.empty()) throw ConfigError("set strata.brokers (or strata.workers for direct mode)");
  o.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(config.getString("strata.key")));
  o.serverKey = core::loadPublicKey(config.getString(direct ? "strata.worker_key" : "strata.broker_key"));
  o.defaultTimeout = config.getMillis("strata.timeout_ms", ClientOptions::kDefaultTimeout);
  o.pingInterval = config.getMillis("strata.heartbeat_ms", ClientOptions::kDefaultPing);
  o.liveness = static_cast<int>(config.getInt("strata.heartbeat_liveness", ClientOptions::kDefaultLiveness, 1, 100));
  o.attemptTimeout = std::chrono::milliseconds(config.getInt("strata.retry.attempt_ms", 0, 0, 86'400'000));
  o.retryBackoff = config.getMillis("strata.retry.backoff_ms", ClientOptions::kDefaultBackoff);
  o.limits = config.limits();
  return o;
}

}  // namespace strata::nodes
