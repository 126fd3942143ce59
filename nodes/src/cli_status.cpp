// `strata status`: every broker of the pool side by side, asked one by one over the bus
// (strata.stats and strata.services), so that it works without the admin endpoint and
// shows a broker that does not answer as such.

#include <unistd.h>

#include <future>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <strata/codecs/protocol.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>

#include "cli_events.h"

namespace strata::nodes::cli {

namespace {

// One broker as one look found it.
struct BrokerLook {
  std::string endpoint;
  bool reachable = false;
  std::string error;  // why not
  Poco::JSON::Object::Ptr stats;
  Poco::JSON::Array::Ptr services;
  std::chrono::steady_clock::time_point at;
};

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

// A client per broker: a pool client would answer from whichever broker it likes.
std::vector<std::unique_ptr<Client>> clientsPerBroker(const ClientOptions& pool) {
  std::vector<std::unique_ptr<Client>> clients;
  for (const auto& endpoint : pool.endpoints) {
    auto one = pool;
    one.endpoints = {endpoint};
    clients.push_back(std::make_unique<Client>(std::move(one)));
  }
  return clients;
}

BrokerLook lookAt(Client& client, const std::string& endpoint, std::chrono::milliseconds timeout) {
  BrokerLook look;
  look.endpoint = endpoint;
  auto stats = client.call(std::string(codecs::kStatsService), "", timeout);
  look.at = std::chrono::steady_clock::now();
  if (!stats.ok) {
    look.error = describeError(stats.errorCode, stats.errorText);
    return look;
  }
  auto services = client.call(std::string(codecs::kServicesService), "", timeout);
  try {
    look.stats = parseObject(stats.bodyText());
    if (services.ok) look.services = parseObject(services.bodyText())->getArray("services");
    look.reachable = true;
  } catch (const Poco::Exception& e) {
    look.error = "its answer is not the JSON expected: " + e.displayText();
  }
  return look;
}

// All brokers at once, so that one that does not answer costs one timeout, not one each.
std::vector<BrokerLook> lookAtAll(std::vector<std::unique_ptr<Client>>& clients, const ClientOptions& pool,
                                  std::chrono::milliseconds timeout) {
  std::vector<std::future<BrokerLook>> pending;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    pending.push_back(std::async(std::launch::async, lookAt, std::ref(*clients[i]), pool.endpoints[i], timeout));
  }
  std::vector<BrokerLook> looks;
  for (auto& p : pending) looks.push_back(p.get());
  return looks;
}

std::uint64_t number(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  return o && o->has(key) ? o->getValue<std::uint64_t>(key) : 0;
}

// Per second between two looks at one broker; negative when there is no earlier look (or
// the broker restarted in between, its counters back at zero).
double rate(const BrokerLook& now, const BrokerLook* before, const std::string& key) {
  if (!before || !before->reachable || !now.reachable) return -1;
  auto a = number(before->stats, key);
  auto b = number(now.stats, key);
  double seconds = std::chrono::duration<double>(now.at - before->at).count();
  if (b < a || seconds <= 0) return -1;
  return static_cast<double>(b - a) / seconds;
}

std::string uptimeText(std::uint64_t ms) {
  auto s = ms / 1000;
  std::ostringstream out;
  if (s >= 86400) out << s / 86400 << "d";
  if (s >= 3600) out << (s / 3600) % 24 << "h";
  if (s >= 60) out << (s / 60) % 60 << "m";
  out << s % 60 << "s";
  return out.str();
}

std::string rateText(double r) {
  if (r < 0) return "-";
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << r;
  return out.str();
}

void printTable(std::ostream& out, const std::vector<BrokerLook>& looks, const std::vector<BrokerLook>& before) {
  out << std::left << std::setw(28) << "BROKER" << std::setw(24) << "NAME" << std::setw(13) << "STATE"
      << std::setw(11) << "UPTIME" << std::setw(9) << "PEERS" << std::setw(9) << "WORKERS" << std::setw(10)
      << "REQ/S" << "ERR/S\n";
  for (std::size_t i = 0; i < looks.size(); ++i) {
    const auto& l = looks[i];
    const BrokerLook* earlier = i < before.size() ? &before[i] : nullptr;
    out << std::left << std::setw(28) << l.endpoint;
    if (!l.reachable) {
      out << std::setw(24) << "-" << std::setw(13) << "UNREACHABLE" << l.error << "\n";
      continue;
    }
    out << std::setw(24) << l.stats->optValue<std::string>("name", "-") << std::setw(13) << "up" << std::setw(11)
        << uptimeText(number(l.stats, "uptime_ms")) << std::setw(9) << number(l.stats, "connections") << std::setw(9)
        << number(l.stats, "workers") << std::setw(10) << rateText(rate(l, earlier, "requests"))
        << rateText(rate(l, earlier, "errors")) << "\n";
  }
  for (const auto& l : looks) {
    if (!l.reachable || !l.services || l.services->size() == 0) continue;
    out << "\n" << l.endpoint << "\n  " << std::left << std::setw(30) << "SERVICE" << std::setw(9) << "WORKERS"
        << std::setw(8) << "QUEUED" << "IN_FLIGHT\n";
    for (std::size_t i = 0; i < l.services->size(); ++i) {
      auto s = l.services->getObject(static_cast<unsigned>(i));
      out << "  " << std::setw(30) << s->getValue<std::string>("name") << std::setw(9) << s->getValue<int>("workers")
          << std::setw(8) << s->getValue<int>("queued") << s->getValue<int>("in_flight") << "\n";
    }
  }
}

std::string jsonOf(const std::vector<BrokerLook>& looks, const std::vector<BrokerLook>& before) {
  Poco::JSON::Array brokers;
  for (std::size_t i = 0; i < looks.size(); ++i) {
    const auto& l = looks[i];
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("endpoint", l.endpoint);
    o->set("reachable", l.reachable);
    if (!l.reachable) {
      o->set("error", l.error);
    } else {
      o->set("stats", l.stats);
      o->set("services", l.services ? l.services : Poco::JSON::Array::Ptr(new Poco::JSON::Array));
      const BrokerLook* earlier = i < before.size() ? &before[i] : nullptr;
      auto r = rate(l, earlier, "requests");
      auto e = rate(l, earlier, "errors");
      if (r >= 0) o->set("requests_per_s", r);
      if (e >= 0) o->set("errors_per_s", e);
    }
    brokers.add(o);
  }
  Poco::JSON::Object root;
  root.set("brokers", brokers);
  std::ostringstream out;
  Poco::JSON::Stringifier::condense(root, out);
  return out.str();
}

}  // namespace

CLI::App* addStatusCommand(CLI::App& app, CommonOptions& common, StatusOptions& options) {
  auto* cmd = app.add_subcommand("status", "every broker of strata.brokers, reachable or not: its uptime, clients, "
                                           "workers, request and error rates, and services");
  addCommonOptions(*cmd, common);
  cmd->add_flag("--json", options.json, "print one JSON object per look");
  cmd->add_flag("-w,--watch", options.watch, "look again every --interval and redraw in place");
  cmd->add_option("-i,--interval", options.intervalMs, "between looks, ms (default 1000; rates are over it)")
      ->check(CLI::Range(100LL, 3'600'000LL));
  cmd->add_option("-n,--count", options.count, "with --watch: stop after N looks")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  cmd->add_option("-t,--timeout", options.timeoutMs, "how long to wait for each broker, ms (default 2000)")
      ->check(CLI::Range(1LL, 86'400'000LL));
  return cmd;
}

int runStatus(const CommonOptions& common, const StatusOptions& options) {
  auto signals = blockStopSignals();
  auto config = loadClientConfig(common);
  auto pool = clientOptionsFrom(config);
  auto clients = clientsPerBroker(pool);
  auto timeout = std::chrono::milliseconds(options.timeoutMs);
  auto interval = std::chrono::milliseconds(options.intervalMs);
  bool redraw = options.watch && !options.json && ::isatty(STDOUT_FILENO) != 0;
  // Rates need two looks: one look alone waits an interval and takes the second.
  auto before = lookAtAll(clients, pool, timeout);
  std::uint64_t shown = 0;
  for (;;) {
    if (stopSignalled(signals, interval)) return 0;
    auto looks = lookAtAll(clients, pool, timeout);
    if (options.json) {
      std::cout << jsonOf(looks, before) << std::endl;
    } else {
      std::ostringstream frame;
      printTable(frame, looks, before);
      // In place on a terminal: home, the frame, then clear what the last one left below.
      std::cout << (redraw ? "\033[H" : "") << frame.str() << (redraw ? "\033[J" : "") << std::flush;
    }
    ++shown;
    bool allDown = std::none_of(looks.begin(), looks.end(), [](const BrokerLook& l) { return l.reachable; });
    if (!options.watch) return allDown ? static_cast<int>(ExitCode::kUnavailable) : 0;
    if (options.count > 0 && shown >= options.count) return 0;
    if (!redraw) std::cout << "\n";
    before = std::move(looks);
  }
}

}  // namespace strata::nodes::cli
