#include <strata/broker/broker_app.h>

#include <Poco/Logger.h>

#include <strata/admin/dashboard.h>
#include <strata/core/version.h>

#include <strata/core/errors.h>
#include <strata/core/subject.h>

#include "broker_admin.h"

namespace strata::broker {

namespace {

// /livez turns 503 once the loop, which turns at least every Broker::kSnapshotEvery, has
// been still this long.
constexpr std::chrono::milliseconds kStuckAfter{5000};

}  // namespace

std::shared_ptr<const core::AuthorizedKeys> loadAuthorizedKeys(const std::filesystem::path& file) {
  auto keys = std::make_shared<core::AuthorizedKeys>(core::AuthorizedKeys::load(file));
  if (keys->empty()) throw ConfigError(file.string() + " lists no key; the broker would admit nobody");
  return keys;
}

EventSettings eventSettingsFrom(const core::Config& config) {
  EventSettings e;
  auto size = [&](const char* key, std::size_t fallback, std::size_t max) {
    return static_cast<std::size_t>(config.getInt(key, static_cast<long long>(fallback), 1, static_cast<long long>(max)));
  };
  e.maxSubject = size("strata.events.max_subject", EventSettings::kDefaultMaxSubject, core::kMaxSubjectSize);
  e.maxTokens = size("strata.events.max_tokens", EventSettings::kDefaultMaxTokens, core::kMaxSubjectTokens);
  e.maxSubscriptions = size("strata.events.max_subscriptions", EventSettings::kDefaultMaxSubscriptions, 1'000'000);
  e.queueEvents = size("strata.events.queue_events", EventSettings::kDefaultQueueEvents, 100'000'000);
  e.queueBytes = size("strata.events.queue_bytes", EventSettings::kDefaultQueueBytes, std::size_t{1} << 40);
  auto slow = config.getString("strata.events.slow", "drop");
  if (slow == "disconnect") {
    e.slow = EventSettings::SlowPolicy::kDisconnect;
  } else if (slow != "drop") {
    throw ConfigError("strata.events.slow must be drop or disconnect, not '" + slow + "'");
  }
  e.linger = config.getMillis("strata.events.linger_ms", EventSettings::kDefaultLinger);
  return e;
}

BrokerOptions brokerOptionsFrom(const core::Config& config) {
  BrokerOptions options;
  options.bind = config.getList("strata.broker.bind");
  if (options.bind.empty()) throw ConfigError("strata.broker.bind is required (e.g. tcp://0.0.0.0:5555)");
  options.secretKey = std::make_shared<core::SecretKey>(core::loadSecretKey(config.getString("strata.key")));
  if (!config.has("strata.authorized_keys")) {
    throw ConfigError("strata.authorized_keys is required: a broker admits only the keys it lists");
  }
  options.authorizedKeys = loadAuthorizedKeys(config.getString("strata.authorized_keys"));
  options.maxPeers = static_cast<std::size_t>(config.getInt("strata.max_peers", 0, 0, 10'000'000));
  if (config.has("strata.policy.default")) options.policy.setDefaultRules(config.getString("strata.policy.default"));
  for (const auto& service : config.keysUnder("strata.policy.")) {
    if (service != "default") options.policy.setServiceCallers(service, config.getString("strata.policy." + service));
  }
  options.settings.events = eventSettingsFrom(config);
  for (core::Layer layer = core::kMinLayer; layer <= core::kMaxLayer; ++layer) {
    auto n = std::to_string(layer);
    if (config.has("strata.events.publish." + n)) {
      options.policy.setPublishRights(layer, config.getString("strata.events.publish." + n));
    }
    if (config.has("strata.events.subscribe." + n)) {
      options.policy.setSubscribeRights(layer, config.getString("strata.events.subscribe." + n));
    }
  }
  for (const auto& key : config.keysUnder("strata.events.publish.")) {
    if (key.size() != 1 || key[0] < '0' || key[0] > '4') {
      throw ConfigError("strata.events.publish." + key + ": the key ends in a layer, 0 to 4");
    }
  }
  for (const auto& key : config.keysUnder("strata.events.subscribe.")) {
    if (key.size() != 1 || key[0] < '0' || key[0] > '4') {
      throw ConfigError("strata.events.subscribe." + key + ": the key ends in a layer, 0 to 4");
    }
  }
  options.settings.heartbeat = config.getMillis("strata.heartbeat_ms", BrokerSettings::kDefaultHeartbeat);
  options.settings.liveness =
      static_cast<int>(config.getInt("strata.heartbeat_liveness", BrokerSettings::kDefaultLiveness, 1, 100));
  options.settings.queueMax = static_cast<std::size_t>(
      config.getInt("strata.queue.max", static_cast<long long>(BrokerSettings::kDefaultQueueMax), 1, 100'000'000));
  options.limits = config.limits();
  options.journal = config.getString("strata.journal", "");
  options.journalLease = config.getMillis("strata.journal.lease_ms", options.journalLease);
  // Unique per run: a restarted broker takes its old requests over like any other's.
  options.name = config.getString("strata.broker.name", "broker") + "-" + core::MessageId::generate().hex().substr(0, 12);
  return options;
}

BrokerApp::BrokerApp()
    : DaemonApplication("strata-broker", "Routes requests between Strata clients and workers over CURVE.",
                        core::brokerKeys()) {}

void BrokerApp::start(core::Config& config) {
  auto options = brokerOptionsFrom(config);
  keysFile_ = config.getString("strata.authorized_keys");
  keysStamp_ = stampOfKeys();
  auto adminOptions = admin::adminOptionsFrom(config);
  options.snapshots = adminOptions.has_value();
  auto name = options.name;
  broker_ = std::make_unique<Broker>(std::move(options), clock_);
  loop_ = std::thread([this] { broker_->run(); });
  if (!adminOptions) return;
  admin::AdminSources sources;
  sources.metrics = [this] {
    auto snapshot = broker_->snapshot();
    return snapshot ? metricsText(*snapshot) : std::string();
  };
  sources.stats = [this, name] {
    auto snapshot = broker_->snapshot();
    return snapshot ? statsJson(*snapshot, name) : std::string("{}");
  };
  sources.live = [this] {
    auto quiet = broker_->sinceLastTurn();
    if (quiet < kStuckAfter) return admin::Health{};
    return admin::Health{false, "the event loop has not turned for " + std::to_string(quiet.count()) + " ms"};
  };
  sources.ready = [this] {
    if (!broker_->snapshot()) return admin::Health{false, "starting: the event loop has not run yet"};
    return admin::Health{};
  };
  sources.dashboard = admin::dashboardPage();
  admin_ = std::make_unique<admin::AdminServer>(*adminOptions, std::move(sources), [](const std::string& text) {
    Poco::Logger::get("strata.broker").information(text);
  });
}

std::optional<BrokerApp::FileStamp> BrokerApp::stampOfKeys() const {
  std::error_code error;
  auto written = std::filesystem::last_write_time(keysFile_, error);
  if (error) return std::nullopt;
  auto size = std::filesystem::file_size(keysFile_, error);
  if (error) return std::nullopt;
  return FileStamp{written, size};
}

void BrokerApp::onHangup() { reloadKeys("SIGHUP"); }

void BrokerApp::onIdle() {
  auto stamp = stampOfKeys();
  // A file being replaced may be missing for a moment: wait for it to come back.
  if (!stamp || stamp == keysStamp_) return;
  reloadKeys("the file changed");
}

void BrokerApp::reloadKeys(const char* why) {
  auto& log = Poco::Logger::get("strata.broker");
  keysStamp_ = stampOfKeys();
  std::shared_ptr<const core::AuthorizedKeys> keys;
  try {
    keys = loadAuthorizedKeys(keysFile_);
  } catch (const Error& e) {
    broker_->keysRefused();
    log.error("keys reload refused cause=\"%s\" file=%s error=\"%s\"; the previous list stays in force", std::string(why),
              keysFile_.string(), std::string(e.what()));
    return;
  }
  log.information("keys reloaded cause=\"%s\" file=%s keys=%z", std::string(why), keysFile_.string(), keys->size());
  broker_->replaceKeys(std::move(keys));
}

void BrokerApp::stop() {
  if (admin_) admin_->stop();
  if (broker_) broker_->stop();
  if (loop_.joinable()) loop_.join();
  broker_.reset();
}

}  // namespace strata::broker
