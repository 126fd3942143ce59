#include <strata/core/config.h>

#include <algorithm>
#include <filesystem>

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/JSONConfiguration.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <Poco/Util/SystemConfiguration.h>

#include <strata/core/errors.h>
#include <strata/core/whole_number.h>

namespace strata::core {

namespace {

const std::vector<KeySpec> kCommonKeys = {
    {"strata.key", "this process's secret key file (Z85, mode 0600)"},
    {"strata.log.level", "log level: fatal, critical, error, warning, notice, information, debug, trace"},
    {"strata.limits.max_frame_size", "largest frame accepted, bytes"},
    {"strata.limits.max_frames", "most frames in one message"},
    {"strata.limits.max_message_size", "largest message accepted, bytes, all frames together"},
    {"strata.limits.handshake_ms", "time allowed for the CURVE handshake, ms"},
    {"strata.admin.bind", "HOST:PORT of the admin HTTP endpoint (/metrics, /livez, /readyz, /api/stats, /); unset: none"},
    {"strata.admin.token_file", "a file holding the bearer token /metrics and /api/stats then need (mode 0600)"},
    {"strata.admin.tls_cert", "PEM certificate (chain) of the admin endpoint: HTTPS, with strata.admin.tls_key"},
    {"strata.admin.tls_key", "PEM private key of the admin endpoint (mode 0600)"},
    {"strata.admin.pool", "brokers: the other brokers' admin URLs (http://HOST:PORT), shown side by side on the dashboard"},
    {"strata.heartbeat_ms", "heartbeat interval, ms"},
    {"strata.heartbeat_liveness", "missed heartbeats before a peer is taken for dead"},
};

std::vector<KeySpec> withCommon(std::vector<KeySpec> keys) {
  keys.insert(keys.end(), kCommonKeys.begin(), kCommonKeys.end());
  return keys;
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

void collectKeys(const Poco::Util::AbstractConfiguration& conf, const std::string& base,
                 std::vector<std::string>& out) {
  Poco::Util::AbstractConfiguration::Keys children;
  conf.keys(base, children);
  if (children.empty() && !base.empty()) {
    out.push_back(base);
    return;
  }
  for (const auto& child : children) collectKeys(conf, base.empty() ? child : base + "." + child, out);
  // A key can hold a value and have children too ("strata.policy" and "strata.policy.x");
  // a JSON file's objects answer with their JSON text and are not keys of their own.
  if (!base.empty() && !children.empty() && conf.hasProperty(base)) {
    auto raw = Poco::trim(conf.getRawString(base, ""));
    if (!raw.empty() && raw.front() != '{' && raw.front() != '[') out.push_back(base);
  }
}

}  // namespace

const std::vector<KeySpec>& brokerKeys() {
  static const std::vector<KeySpec> keys = withCommon({
      {"strata.broker.bind", "endpoints the broker binds, comma separated"},
      {"strata.authorized_keys", "file of '<public key> <name> <layer>' lines; reread on SIGHUP and when it changes"},
      {"strata.max_peers", "connections at once; a handshake beyond is refused (default 0: no cap)"},
      {"strata.queue.max", "requests waiting per service before new ones are refused"},
      {"strata.journal", "where durable requests wait: a SQLite file, or a postgresql:// URI shared by a pool"},
      {"strata.journal.lease_ms", "shared journal: how long a silent broker keeps its requests before another takes them"},
      {"strata.broker.name", "this broker's name in logs and the shared journal (default: broker)"},
      {"strata.policy.default", "layer rules, e.g. 4:2;3:1,0;2:1,0;1:0"},
      {"strata.policy.", "caller layers one service accepts, e.g. strata.policy.echo=4,2", true},
      {"strata.events.publish.", "subject patterns a layer may publish on, or none (default: layers 0-3 any, 4 none)",
       true, "<layer>"},
      {"strata.events.subscribe.", "subject patterns a layer may subscribe to, or none (default: any)", true,
       "<layer>"},
      {"strata.events.max_subject", "longest subject or pattern, bytes (default 256, at most 1024)"},
      {"strata.events.max_tokens", "most tokens in a subject or pattern (default 16, at most 64)"},
      {"strata.events.max_subscriptions", "subscriptions one subscriber may hold (default 1000)"},
      {"strata.events.queue_events", "events queued for one subscriber before strata.events.slow applies (default 10000)"},
      {"strata.events.queue_bytes", "bytes queued for one subscriber before strata.events.slow applies (default 8 MiB)"},
      {"strata.events.slow", "what a full subscriber queue does: drop (the oldest, counted) or disconnect"},
      {"strata.events.linger_ms", "how long a silent subscriber's session and queue are kept (default 30000)"},
  });
  return keys;
}

const std::vector<KeySpec>& nodeKeys() {
  static const std::vector<KeySpec> keys = withCommon({
      {"strata.brokers", "broker endpoints, comma separated"},
      {"strata.broker_key", "the brokers' public key file"},
      {"strata.services", "services this node runs, comma separated"},
      {"strata.worker.threads", "handler threads"},
      {"strata.worker.capacity", "requests held at once (the credit offered to a broker)"},
      {"strata.node.bind", "direct mode: endpoints this node binds for clients"},
      {"strata.authorized_keys", "direct mode: file of '<public key> <name> <layer>' lines"},
      {"strata.policy.default", "direct mode: layer rules"},
      {"strata.policy.", "direct mode: caller layers one service accepts", true},
      {"strata.node.layer", "direct mode: the layer of the services this node runs"},
      {"strata.node.name", "this node's name, stamped on its replies (default: host-pid)"},
      {"strata.worker.idempotency_db", "SQLite file of completed request ids; a retried id gets the stored reply"},
      {"strata.worker.idempotency_window_ms", "how long completed ids are remembered, ms (default one day)"},
      {"strata.plugins", "plug-ins to load, comma separated (libstrata_<name>.so)"},
      {"strata.plugin_dir", "where plug-ins are found (default: lib/strata/plugins beside bin/)"},
      {"strata.data_dir", "where plug-ins keep their files (default: data)"},
      {"strata.plugin.", "a plug-in's settings; path and layer (3: in process only) are the node's", true,
       "<name>.<key>"},
      {"strata.timeout_ms", "default deadline of this node's own calls to other services, ms"},
  });
  return keys;
}

const std::vector<KeySpec>& clientKeys() {
  static const std::vector<KeySpec> keys = withCommon({
      {"strata.brokers", "broker endpoints, comma separated"},
      {"strata.broker_key", "the brokers' public key file"},
      {"strata.workers", "direct mode: worker endpoints, comma separated"},
      {"strata.worker_key", "direct mode: the workers' public key file"},
      {"strata.timeout_ms", "default deadline of a call, ms"},
      {"strata.retry.attempt_ms", "resend an unanswered attempt to the next endpoint after this many ms (0: never)"},
      {"strata.retry.backoff_ms", "pause before a resend, doubling per attempt up to 1 s"},
  });
  return keys;
}

std::vector<std::string> splitList(std::string_view text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    std::string item = Poco::trim(std::string(text.substr(start, end - start)));
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

Config Config::load(const std::string& file, const std::vector<std::string>& defines) {
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> layered(new Poco::Util::LayeredConfiguration);
  if (!file.empty()) {
    if (!std::filesystem::exists(file)) throw ConfigError("config file " + file + " does not exist");
    std::string ext = Poco::toLower(std::filesystem::path(file).extension().string());
    try {
      if (ext == ".ini") {
        layered->add(Poco::AutoPtr(new Poco::Util::IniFileConfiguration(file)), 0);
      } else if (ext == ".json") {
        layered->add(Poco::AutoPtr(new Poco::Util::JSONConfiguration(file)), 0);
      } else {
        layered->add(Poco::AutoPtr(new Poco::Util::PropertyFileConfiguration(file)), 0);
      }
    } catch (const Poco::Exception& e) {
      throw ConfigError("cannot read config file " + file + ": " + e.displayText());
    }
  }
  Poco::AutoPtr<Poco::Util::MapConfiguration> overrides(new Poco::Util::MapConfiguration);
  for (const auto& define : defines) {
    auto eq = define.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("--define takes key=value, not '" + define + "'");
    overrides->setString(Poco::trim(define.substr(0, eq)), Poco::trim(define.substr(eq + 1)));
  }
  layered->add(overrides, -100);  // a lower priority number wins: overrides first
  // ${system.env.X} in a value expands from the environment through this layer.
  layered->add(Poco::AutoPtr(new Poco::Util::SystemConfiguration), "system", 100, false);
  return Config(Poco::AutoPtr<Poco::Util::AbstractConfiguration>(layered.duplicate()));
}

void Config::checkKnownKeys(const std::vector<KeySpec>& keys) const {
  std::vector<std::string> present;
  collectKeys(*conf_, "strata", present);
  for (const auto& key : present) {
    bool known = std::any_of(keys.begin(), keys.end(), [&](const KeySpec& spec) {
      return spec.prefix ? key.starts_with(spec.name) && key.size() > spec.name.size() : key == spec.name;
    });
    if (known) continue;
    std::string_view best;
    std::size_t bestDistance = 4;  // suggest only near misses
    for (const auto& spec : keys) {
      auto d = editDistance(key, spec.name);
      if (d < bestDistance) {
        bestDistance = d;
        best = spec.name;
      }
    }
    std::string message = "unknown configuration key '" + key + "'";
    if (!best.empty()) message += " (did you mean '" + std::string(best) + "'?)";
    throw ConfigError(message + "; docs/configuration.md lists every key");
  }
}

std::string Config::getString(const std::string& key) const {
  try {
    auto value = Poco::trim(conf_->getString(key));
    if (value.empty()) throw ConfigError("configuration key '" + key + "' is empty");
    return value;
  } catch (const Poco::NotFoundException&) {
    throw ConfigError("configuration key '" + key + "' is required");
  } catch (const Poco::Exception& e) {
    throw ConfigError("configuration key '" + key + "': " + e.displayText());
  }
}

std::string Config::getString(const std::string& key, const std::string& fallback) const {
  return has(key) ? getString(key) : fallback;
}

std::vector<std::string> Config::getList(const std::string& key) const {
  return has(key) ? splitList(conf_->getString(key)) : std::vector<std::string>{};
}

long long Config::getInt(const std::string& key, long long fallback, long long min, long long max) const {
  if (!has(key)) return fallback;
  std::string text = Poco::trim(conf_->getString(key));
  auto value = parseWholeNumber(text, min, max);
  if (!value) throw ConfigError("configuration key " + wholeNumberProblem(key, text, min, max));
  return *value;
}

bool Config::getBool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  try {
    return conf_->getBool(key);
  } catch (const Poco::Exception&) {
    throw ConfigError("configuration key '" + key + "' must be true or false");
  }
}

std::chrono::milliseconds Config::getMillis(const std::string& key, std::chrono::milliseconds fallback) const {
  constexpr long long kDay = 86'400'000;
  return std::chrono::milliseconds(getInt(key, fallback.count(), 1, kDay));
}

std::vector<std::string> Config::keysUnder(const std::string& prefix) const {
  std::vector<std::string> all;
  collectKeys(*conf_, "strata", all);
  std::vector<std::string> out;
  for (const auto& key : all)
    if (key.starts_with(prefix) && key.size() > prefix.size()) out.push_back(key.substr(prefix.size()));
  return out;
}

Limits Config::limits() const {
  constexpr long long kGiB = 1ll << 30;
  Limits l;
  l.maxFrameSize = static_cast<std::size_t>(
      getInt("strata.limits.max_frame_size", static_cast<long long>(l.maxFrameSize), 64, kGiB));
  l.maxFrames = static_cast<std::size_t>(
      getInt("strata.limits.max_frames", static_cast<long long>(l.maxFrames), 8, 100'000));
  l.maxMessageSize = static_cast<std::size_t>(
      getInt("strata.limits.max_message_size", static_cast<long long>(l.maxMessageSize), 64, kGiB));
  l.handshake = getMillis("strata.limits.handshake_ms", l.handshake);
  return l;
}

}  // namespace strata::core
