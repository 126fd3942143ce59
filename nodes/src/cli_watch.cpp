// strata watch: a store collection's objects, then each change as it happens.
#include <atomic>
#include <iostream>
#include <mutex>

#include <strata/codecs/payload.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>
#include <strata/nodes/object_watch.h>

#include "cli_events.h"

namespace strata::nodes::cli {

namespace {

std::string quoted(const std::string& text) {
  std::string out;
  codecs::writeJsonString(text, out);
  return out;
}

}  // namespace

CLI::App* addWatchCommand(CLI::App& app, CommonOptions& common, WatchOptions& o) {
  auto* cmd = app.add_subcommand(
      "watch", "print the objects of a store collection (those whose key starts with KEY-PREFIX), then each change");
  addCommonOptions(*cmd, common);
  cmd->add_option("TARGET", o.target, "COLLECTION or COLLECTION/KEY-PREFIX")->required();
  cmd->add_flag("--json", o.json, "one JSON object per line: each object, the ready marker, each change");
  cmd->add_flag("--snapshot", o.snapshotOnly, "print the objects as they are and stop");
  cmd->add_option("--count", o.count, "stop after N changes")->check(CLI::Range(std::uint64_t{1}, ~std::uint64_t{0}));
  cmd->add_option("--timeout", o.idleMs, "stop when no change came for MS milliseconds")
      ->check(CLI::Range(1LL, 86'400'000LL));
  cmd->footer(
      "Lines: 'KEY REVISION ATTRIBUTES' for each object, '-- ready at revision N (M objects)', then "
      "'REVISION OP KEY ATTRIBUTES' for each change. Only the attributes this key may read are shown. It "
      "resumes by itself after a broker or store node is lost. Ends on SIGINT or SIGTERM.");
  return cmd;
}

int runWatch(const CommonOptions& common, const WatchOptions& o) {
  auto config = loadClientConfig(common);
  auto clientOptions = clientOptionsFrom(config);
  auto slash = o.target.find('/');
  std::string collection = o.target.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : o.target.substr(slash + 1);
  if (collection.empty()) throw ConfigError("TARGET must start with a collection name: COLLECTION[/KEY-PREFIX]");
  auto stopSignals = blockStopSignals();
  std::atomic<std::uint64_t> changes{0};
  std::atomic<bool> ready{false};
  std::atomic<bool> failed{false};
  std::atomic<int> exitCode{0};
  std::mutex out;
  ObjectWatch::Handlers handlers;
  handlers.onObject = [&](const WatchedObject& object) {
    std::lock_guard lock(out);
    if (o.json) {
      std::cout << "{\"type\":\"object\",\"key\":" << quoted(object.key) << ",\"revision\":" << object.revision
                << ",\"attributes\":" << object.attributes << "}\n";
    } else {
      std::cout << object.key << " " << object.revision << " " << object.attributes << "\n";
    }
  };
  handlers.onReady = [&](std::int64_t revision, std::size_t objects) {
    std::lock_guard lock(out);
    if (o.json) {
      std::cout << "{\"type\":\"ready\",\"revision\":" << revision << ",\"objects\":" << objects << "}\n";
    } else {
      std::cout << "-- ready at revision " << revision << " (" << objects << " objects)\n";
    }
    std::cout.flush();
    ready = true;
  };
  handlers.onChange = [&](const WatchedChange& change) {
    if (o.count > 0 && changes.load() >= o.count) return;
    std::lock_guard lock(out);
    if (o.json) {
      std::cout << "{\"type\":\"change\",\"revision\":" << change.revision << ",\"op\":\"" << change.op
                << "\",\"key\":" << quoted(change.key) << ",\"attributes\":" << change.attributes << "}\n";
    } else {
      std::cout << change.revision << " " << change.op << " " << change.key << " " << change.attributes << "\n";
    }
    std::cout.flush();
    changes.fetch_add(1);
  };
  handlers.onReset = [&](const std::string& why) {
    std::lock_guard lock(out);
    std::cerr << "strata watch: starting again from a fresh snapshot: " << why << std::endl;
  };
  handlers.onError = [&](ErrorCode code, const std::string& text) {
    std::lock_guard lock(out);
    std::cerr << "strata watch: " << describeError(code, text) << std::endl;
    exitCode = exitCodeFor(code);
    failed = true;
  };
  Client client(std::move(clientOptions));
  ObjectWatch watch(client, collection, prefix, handlers);
  IdleClock idle;
  while (!failed) {
    if (o.snapshotOnly && ready) break;
    if (o.count > 0 && changes.load() >= o.count) break;
    if (stopSignalled(stopSignals, kSignalPoll)) break;
    // Idle counts from the snapshot's end: until then the marker is what is awaited.
    auto limit = ready ? std::chrono::milliseconds(o.idleMs) : std::chrono::milliseconds(0);
    if (idle.idleFor(ready ? changes.load() + 1 : 0, limit)) {
      if (o.count > 0) exitCode = static_cast<int>(ExitCode::kTempFail);  // fewer than asked for
      break;
    }
  }
  watch.cancel();
  std::cout.flush();
  return exitCode;
}

}  // namespace strata::nodes::cli
