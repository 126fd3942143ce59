#include <strata/nodes/cli.h>

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>

#include <CLI/CLI.hpp>
#include <Poco/JSON/Parser.h>

#include <strata/core/config.h>
#include <strata/core/curve_keys.h>
#include <strata/core/errors.h>
#include <strata/core/logging.h>
#include <strata/core/version.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>

#include "cli_events.h"

namespace strata::nodes {

namespace cli {

core::Config loadClientConfig(const CommonOptions& common) {
  auto config = core::Config::load(common.configFile, common.defines);
  // Clients often share a node's file, so a node's keys are known here too.
  auto keys = core::clientKeys();
  keys.insert(keys.end(), core::nodeKeys().begin(), core::nodeKeys().end());
  config.checkKnownKeys(keys);
  core::setupLogging(config.getString("strata.log.level", common.logLevel), std::cerr);
  return config;
}

// The exit code for a failed call, by the kind of failure (sysexits).
int exitCodeFor(ErrorCode code) { return static_cast<int>(exitCodeOf(code)); }

std::string describeError(ErrorCode code, const std::string& text) {
  return std::string(codecs::errorCodeName(code)) + " (" + std::to_string(static_cast<int>(code)) + "): " + text;
}

Headers parseHeaders(const std::vector<std::string>& texts) {
  Headers out;
  for (const auto& text : texts) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError("--header takes key=value, not '" + text + "'");
    out.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  return out;
}

void addCommonOptions(CLI::App& app, CommonOptions& common) {
  app.add_option("-c,--config", common.configFile, "configuration file (.properties, .ini or .json)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("-D,--define", common.defines, "set a configuration key: key=value (repeatable)")
      ->allow_extra_args(false);
}

}  // namespace cli

namespace {

using namespace cli;
using codecs::kWorkerHeader;
constexpr int kExitCallFailed = kExitFailed;

int runKeygen(const std::string& path, bool force) {
  auto pair = core::generateKeyPair();
  core::writeKeyPair(path, pair, force);
  std::cout << "wrote " << path << ".key (secret, mode 0600) and " << path << ".pub\n"
            << "public key: " << pair.publicKey.z85() << "\n";
  return 0;
}

struct CallOptions {
  std::string service;
  std::string body;
  bool bodyGiven = false;
  long long timeoutMs = 0;
  std::vector<std::string> headers;
  bool verbose = false;
  bool raw = false;
  std::uint64_t repeat = 0;
  std::uint64_t window = 1;
};

int runSingleCall(Client& client, OutgoingRequest request, const CallOptions& opts) {
  auto response = client.call(std::move(request));
  if (!response.ok) {
    std::cerr << "strata call: " << describeError(response.errorCode, response.errorText) << "\n";
    return exitCodeFor(response.errorCode);
  }
  if (opts.verbose) {
    std::cerr << "id: " << response.id.hex() << "\n";
    for (const auto& [k, v] : response.headers) std::cerr << k << ": " << v << "\n";
  }
  std::cout << response.bodyText();
  if (!opts.raw) std::cout << "\n";
  return 0;
}

int runLoadCommand(Client& client, const OutgoingRequest& prototype, const CallOptions& opts) {
  bool progress = ::isatty(STDERR_FILENO) != 0;
  auto drawProgress = [&](std::uint64_t answered) {
    constexpr std::uint64_t kWidth = 40;
    auto filled = kWidth * answered / opts.repeat;
    std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, ' ') << "] " << answered << "/"
              << opts.repeat << std::flush;
  };
  auto summary = runLoad(client, prototype, opts.repeat, opts.window,
                         progress ? std::function<void(std::uint64_t)>(drawProgress) : nullptr);
  if (progress) std::cerr << "\n";
  if (!summary.firstError.empty()) std::cerr << "strata call: first error: " << summary.firstError << "\n";
  std::cout << summary.line() << std::endl;
  return summary.errors == 0 ? 0 : kExitCallFailed;
}

int runCall(const CommonOptions& common, CallOptions opts) {
  auto config = loadClientConfig(common);
  auto clientOptions = clientOptionsFrom(config);
  if (!opts.bodyGiven) {
    opts.body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  OutgoingRequest request;
  request.service = opts.service;
  request.body.push_back(opts.body);
  request.headers = parseHeaders(opts.headers);
  request.timeout = std::chrono::milliseconds(opts.timeoutMs);
  Client client(std::move(clientOptions));
  if (opts.repeat > 0) return runLoadCommand(client, request, opts);
  return runSingleCall(client, std::move(request), opts);
}

int runServices(const CommonOptions& common, bool json, long long timeoutMs) {
  auto config = loadClientConfig(common);
  Client client(clientOptionsFrom(config));
  auto response = client.call("strata.services", "", std::chrono::milliseconds(timeoutMs));
  if (!response.ok) {
    std::cerr << "strata services: " << describeError(response.errorCode, response.errorText) << "\n";
    return exitCodeFor(response.errorCode);
  }
  // A broker older than events answers strata.subjects unknown_service: then no subjects.
  auto subjects = client.call(std::string(codecs::kSubjectsService), "", std::chrono::milliseconds(timeoutMs));
  if (json) {
    // One object: the broker's services list beside its subjects answer.
    auto services = response.bodyText();
    auto open = services.find('[');
    auto close = services.rfind(']');
    std::string list = open != std::string::npos && close != std::string::npos && close > open
                           ? services.substr(open, close - open + 1)
                           : "[]";
    std::cout << "{\"services\":" << list << ",\"subjects\":" << (subjects.ok ? subjects.bodyText() : "null")
              << "}\n";
    return 0;
  }
  Poco::JSON::Parser parser;
  auto root = parser.parse(response.bodyText()).extract<Poco::JSON::Object::Ptr>();
  auto list = root->getArray("services");
  std::cout << std::left << std::setw(32) << "SERVICE" << std::setw(9) << "WORKERS" << std::setw(8) << "QUEUED"
            << "IN_FLIGHT\n";
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto s = list->getObject(static_cast<unsigned>(i));
    std::cout << std::left << std::setw(32) << s->getValue<std::string>("name") << std::setw(9)
              << s->getValue<int>("workers") << std::setw(8) << s->getValue<int>("queued")
              << s->getValue<int>("in_flight") << "\n";
  }
  if (!subjects.ok) return 0;
  Poco::JSON::Parser subjectParser;
  auto events = subjectParser.parse(subjects.bodyText()).extract<Poco::JSON::Object::Ptr>();
  auto patterns = events->getArray("patterns");
  std::cout << "\n" << std::left << std::setw(41) << "SUBJECT PATTERN" << "SUBSCRIBERS\n";
  for (std::size_t i = 0; i < patterns->size(); ++i) {
    auto p = patterns->getObject(static_cast<unsigned>(i));
    std::cout << std::left << std::setw(41) << p->getValue<std::string>("pattern") << p->getValue<int>("subscribers")
              << "\n";
  }
  std::cout << "events: " << events->getValue<std::uint64_t>("published") << " published, "
            << events->getValue<std::uint64_t>("delivered") << " delivered, "
            << events->getValue<std::uint64_t>("dropped") << " dropped, " << events->getValue<std::uint64_t>("refused")
            << " refused\n";
  return 0;
}

}  // namespace

LoadSummary runLoad(Client& client, const OutgoingRequest& prototype, std::uint64_t count, std::uint64_t window,
                    const std::function<void(std::uint64_t)>& onProgress) {
  constexpr std::uint64_t kProgressEvery = 1000;
  // Everything the callbacks share, reached through one pointer: a callback then holds a
  // pointer and a time, which std::function keeps without a heap allocation per call.
  struct Load {
    Client& client;
    const OutgoingRequest& prototype;
    std::uint64_t count;
    const std::function<void(std::uint64_t)>& onProgress;
    LoadSummary summary;
    std::mutex mutex;
    std::condition_variable done;
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;
    std::uint64_t finished = 0;  // callbacks done with onProgress: runLoad may return only then

    void sendOne() {
      auto sentAt = std::chrono::steady_clock::now();
      ++sent;
      client.callAsync(prototype, [load = this, sentAt](Response&& r) { load->onAnswer(r, sentAt); });
    }

    void onAnswer(const Response& r, std::chrono::steady_clock::time_point sentAt) {
      auto now = std::chrono::steady_clock::now();
      std::uint64_t answeredNow = 0;
      {
        std::lock_guard lock(mutex);
        answeredNow = ++answered;
        if (r.ok) {
          ++summary.ok;
          summary.latenciesUs.push_back(
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - sentAt).count()));
          if (auto worker = findHeader(r.headers, kWorkerHeader)) ++summary.byWorker[*worker];
        } else {
          ++summary.errors;
          if (summary.firstError.empty()) summary.firstError = describeError(r.errorCode, r.errorText);
        }
        if (sent < count) sendOne();  // under the lock: sent is shared with the starting thread
      }
      if (onProgress && (answeredNow % kProgressEvery == 0 || answeredNow == count)) onProgress(answeredNow);
      std::lock_guard lock(mutex);
      if (++finished == count) done.notify_all();
    }
  };
  Load load{client, prototype, count, onProgress, {}, {}, {}};
  // Room for the first million latencies at once; a longer run grows the list as it goes
  // rather than claiming memory for every call it may make.
  load.summary.latenciesUs.reserve(std::min<std::uint64_t>(count, 1u << 20));
  auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(load.mutex);
    for (std::uint64_t i = 0; i < std::min(window, count); ++i) load.sendOne();
  }
  std::unique_lock lock(load.mutex);
  load.done.wait(lock, [&] { return load.finished == count; });
  load.summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  load.summary.requests = load.answered;
  return std::move(load.summary);
}

std::uint64_t percentile(std::vector<std::uint64_t>& values, double q) {
  if (values.empty()) return 0;
  auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

std::string LoadSummary::line() {
  std::ostringstream out;
  double rate = seconds > 0 ? static_cast<double>(requests) / seconds : 0.0;
  out << "requests=" << requests << " ok=" << ok << " errors=" << errors << " req_per_s=" << std::fixed
      << std::setprecision(0) << rate << " p50_us=" << percentile(latenciesUs, 0.50)
      << " p99_us=" << percentile(latenciesUs, 0.99);
  if (!byWorker.empty()) {
    out << " workers=";
    bool first = true;
    for (const auto& [name, count] : byWorker) {
      out << (first ? "" : ",") << name << ":" << count;
      first = false;
    }
  }
  return out.str();
}

int runCli(int argc, char** argv) {
  CLI::App app{"strata: the Strata message bus command-line tool"};
  app.require_subcommand(1);
  app.footer("Exit codes follow sysexits(3): 64 usage, 65 bad data, 69 unavailable, 75 timeout, 77 forbidden or "
             "key permissions, 78 configuration.");

  std::string keyPath;
  bool force = false;
  auto* keygen = app.add_subcommand("keygen", "write a CURVE key pair: PATH.key (secret, mode 0600) and PATH.pub");
  keygen->add_option("PATH", keyPath, "path of the key pair, without extension")->required();
  keygen->add_flag("--force", force, "overwrite existing key files");

  CommonOptions common;
  CallOptions call;
  auto* callCmd = app.add_subcommand("call", "call SERVICE with BODY (or stdin) and print the reply body");
  addCommonOptions(*callCmd, common);
  callCmd->add_option("SERVICE", call.service, "service name")->required();
  auto* bodyOpt = callCmd->add_option("BODY", call.body, "request body; read from stdin when absent");
  callCmd->add_option("-t,--timeout", call.timeoutMs, "deadline in ms (default strata.timeout_ms, 10000)")
      ->check(CLI::Range(1LL, 86'400'000LL));
  callCmd->add_option("-H,--header", call.headers, "request header key=value (repeatable)")->allow_extra_args(false);
  callCmd->add_flag("-v,--verbose", call.verbose, "print the reply's id and headers on stderr");
  callCmd->add_flag("--raw", call.raw, "print the body exactly, without a final newline");
  auto* repeatOpt = callCmd->add_option("-n,--repeat", call.repeat, "send N requests and print a summary line")
                        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  callCmd->add_option("-w,--window", call.window, "requests in flight at once with --repeat (default 1)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000}))
      ->needs(repeatOpt);

  CommonOptions servicesCommon;
  bool json = false;
  long long servicesTimeout = 5000;
  auto* services = app.add_subcommand("services", "list services with their workers and queue depth, and the "
                                                  "subject patterns subscribed to with their subscriber counts");
  addCommonOptions(*services, servicesCommon);
  services->add_flag("--json", json, "print the broker's answers as one JSON object");
  services->add_option("-t,--timeout", servicesTimeout, "deadline in ms")->check(CLI::Range(1LL, 86'400'000LL));

  CommonOptions publishCommon;
  PublishOptions publish;
  auto* publishCmd = addPublishCommand(app, publishCommon, publish);
  CommonOptions subscribeCommon;
  SubscribeOptions subscribe;
  auto* subscribeCmd = addSubscribeCommand(app, subscribeCommon, subscribe);
  CommonOptions watchCommon;
  WatchOptions watch;
  auto* watchCmd = addWatchCommand(app, watchCommon, watch);
  CommonOptions statusCommon;
  StatusOptions status;
  auto* statusCmd = addStatusCommand(app, statusCommon, status);
  app.set_version_flag("--version", "strata " + core::version(), "print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  try {
    if (*keygen) return runKeygen(keyPath, force);
    if (*callCmd) {
      call.bodyGiven = bodyOpt->count() > 0;
      return runCall(common, call);
    }
    if (*services) return runServices(servicesCommon, json, servicesTimeout);
    if (*publishCmd) return runPublish(publishCommon, publish);
    if (*subscribeCmd) return runSubscribe(subscribeCommon, subscribe);
    if (*watchCmd) return runWatch(watchCommon, watch);
    if (*statusCmd) return runStatus(statusCommon, status);
  } catch (const Error& e) {
    std::cerr << "strata: " << e.what() << "\n";
    return static_cast<int>(e.exitCode());
  } catch (const Poco::Exception& e) {
    std::cerr << "strata: " << e.displayText() << "\n";
    return static_cast<int>(ExitCode::kSoftware);
  }
  return static_cast<int>(ExitCode::kUsage);
}

}  // namespace strata::nodes
