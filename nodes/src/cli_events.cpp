#include "cli_events.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <chrono>
#include <condition_variable>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include <Poco/JSON/Object.h>

#include <strata/core/errors.h>
#include <strata/nodes/cli.h>
#include <strata/nodes/client.h>
#include <strata/nodes/node_config.h>

namespace strata::nodes::cli {

sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool stopSignalled(const sigset_t& set, std::chrono::milliseconds wait) {
  timespec timeout{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1'000'000)};
  return ::sigtimedwait(&set, nullptr, &timeout) > 0;
}

namespace {

// What `strata publish --stamp` writes over the first bytes of each body and `strata
// subscribe --stamped` reads: CLOCK_MONOTONIC nanoseconds when the event was made, as 8
// bytes in the machine's own order, for publish-to-delivery latency between processes
// of one machine. In the body, as the bench's bare and NATS programs carry theirs, so
// that a stamped 64-byte event is 64 bytes on the wire.
constexpr std::size_t kStampBytes = 8;
constexpr std::uint64_t kDefaultWindow = 2000;

std::uint64_t monotonicNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(now.tv_nsec);
}

int publishOnce(Client& client, OutgoingEvent event) {
  auto result = client.publish(std::move(event));
  if (!result.ok) {
    std::cerr << "strata publish: " << describeError(result.errorCode, result.errorText) << "\n";
    return exitCodeFor(result.errorCode);
  }
  return 0;
}

// The outcome of a --repeat run, shared by the threads that publish and the callbacks.
struct Progress {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
  std::string firstError;

  // With mutex held, or, in an unpaced run, on the client's thread alone.
  void count(const PublishResult& r) {
    ++answered;
    if (r.ok) {
      ++ok;
    } else if (++errors == 1) {
      firstError = describeError(r.errorCode, r.errorText);
    }
  }
};

void stamp(OutgoingEvent& event) {
  auto now = monotonicNs();
  std::memcpy(event.body.data(), &now, kStampBytes);
}

std::optional<std::int64_t> stampOf(const Event& e) {
  if (e.body.size() < kStampBytes) return std::nullopt;
  std::uint64_t at = 0;
  std::memcpy(&at, e.body.data(), kStampBytes);
  return static_cast<std::int64_t>(at);
}

// As fast as the brokers accept: each answer publishes the next event from the client's
// own thread, as runLoad does for calls, so events go out with no lock, no copy and no
// wake-up, gathered into a PUBLISH per turn of the client's loop. Only the first window
// goes from this thread (copies of the prototype); the answers are all counted on the
// client's thread, which takes the lock once, to say it is done.
void publishUnpaced(Client& client, const OutgoingEvent& prototype, const PublishOptions& o, std::uint64_t window,
                    Progress& p) {
  struct Chain {
    Client& client;
    OutgoingEvent event;  // the client's thread's: published again and again, never copied
    const PublishOptions& o;
    Progress& p;
    std::atomic<std::uint64_t> claimed{0};  // events this run has taken to publish, up to o.repeat
    bool done = false;                      // guarded by p.mutex
    bool claim() { return claimed.fetch_add(1) < o.repeat; }
    Client::PublishHandler onAnswer() {
      return [this](PublishResult&& r) { answered(std::move(r)); };
    }
    void answered(PublishResult&& r) {  // on the client's thread
      p.count(r);
      if (claim()) {
        if (o.stamp) stamp(event);
        client.publishAsync(event, onAnswer());
      }
      if (p.answered == o.repeat) {
        std::lock_guard lock(p.mutex);
        done = true;
        p.changed.notify_all();
      }
    }
  } chain{client, prototype, o, p};
  for (std::uint64_t i = 0; i < std::min(window, o.repeat) && chain.claim(); ++i) {
    OutgoingEvent first = prototype;
    if (o.stamp) stamp(first);
    client.publishAsync(std::move(first), chain.onAnswer());
  }
  std::unique_lock lock(p.mutex);
  p.changed.wait(lock, [&] { return chain.done; });
}

// At o.rate events a second, from this thread, at most window awaiting acceptance.
void publishPaced(Client& client, const OutgoingEvent& prototype, const PublishOptions& o, std::uint64_t window,
                  Progress& p) {
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < o.repeat; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                              std::chrono::duration<double>(static_cast<double>(i) / o.rate)));
    {
      std::unique_lock lock(p.mutex);
      p.changed.wait(lock, [&] { return p.sent - p.answered < window; });
      ++p.sent;
    }
    OutgoingEvent event = prototype;
    if (o.stamp) stamp(event);
    client.publishAsync(std::move(event), [&p](PublishResult&& r) {
      std::lock_guard lock(p.mutex);
      p.count(r);
      p.changed.notify_all();
    });
  }
  std::unique_lock lock(p.mutex);
  p.changed.wait(lock, [&] { return p.answered == o.repeat; });
}

int publishMany(Client& client, const OutgoingEvent& prototype, const PublishOptions& o) {
  Progress p;
  std::uint64_t window = o.window > 0 ? o.window : kDefaultWindow;
  auto start = std::chrono::steady_clock::now();
  if (o.rate > 0) {
    publishPaced(client, prototype, o, window, p);
  } else {
    publishUnpaced(client, prototype, o, window, p);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(p.mutex);
  if (!p.firstError.empty()) std::cerr << "strata publish: first error: " << p.firstError << "\n";
  std::cout << "events=" << o.repeat << " ok=" << p.ok << " errors=" << p.errors << " ev_per_s=" << std::fixed
            << std::setprecision(0) << (seconds > 0 ? static_cast<double>(o.repeat) / seconds : 0.0) << std::endl;
  return p.errors == 0 ? 0 : kExitFailed;
}

std::string eventJson(const Event& e) {
  Poco::JSON::Object publisher;
  publisher.set("name", e.publisher.name);
  publisher.set("layer", e.publisher.layer);
  Poco::JSON::Object headers;
  for (const auto& [k, v] : e.headers) headers.set(k, v);
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("subject", e.subject);
  out.set("id", e.id.hex());
  out.set("publisher", publisher);
  out.set("headers", headers);
  out.set("body", e.body);
  std::ostringstream text;
  out.stringify(text);
  return text.str();
}

}  // namespace

CLI::App* addPublishCommand(CLI::App& app, CommonOptions& common, PublishOptions& o) {
  auto* cmd = app.add_subcommand("publish", "publish an event on SUBJECT with BODY (or stdin)");
  addCommonOptions(*cmd, common);
  cmd->add_option("SUBJECT", o.subject, "dot-separated subject, e.g. orders.eu.created")->required();
  o.bodyOption = cmd->add_option("BODY", o.body, "event body; read from stdin when absent");
  cmd->add_option("-H,--header", o.headers, "event header key=value (repeatable)")->allow_extra_args(false);
  cmd->add_option("-t,--timeout", o.timeoutMs, "how long brokers may take to accept it, ms (default strata.timeout_ms)")
      ->check(CLI::Range(1LL, 86'400'000LL));
  auto* repeat = cmd->add_option("-n,--repeat", o.repeat, "publish N events and print a summary line")
                     ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  cmd->add_option("--rate", o.rate, "with --repeat: events per second (default: as fast as accepted)")
      ->check(CLI::Range(0.0, 10'000'000.0))
      ->needs(repeat);
  cmd->add_option("-w,--window", o.window, "with --repeat: events awaiting acceptance at once (default 2000)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000}))
      ->needs(repeat);
  o.sizeOption = cmd->add_option("--size", o.size, "a body of this many bytes instead of BODY or stdin")
                     ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20));
  cmd->add_flag("--stamp", o.stamp,
                "write the monotonic clock over the body's first 8 bytes (the body needs at least 8), for strata "
                "subscribe --stamped");
  return cmd;
}

CLI::App* addSubscribeCommand(CLI::App& app, CommonOptions& common, SubscribeOptions& o) {
  auto* cmd = app.add_subcommand("subscribe", "print events on subjects matching PATTERN... as they arrive");
  addCommonOptions(*cmd, common);
  cmd->add_option("PATTERN", o.patterns, "subject patterns: '*' matches one token, a final '>' the rest")
      ->required();
  cmd->add_flag("--json", o.json, "one JSON object per event: subject, id, publisher, headers, body");
  cmd->add_option("--count", o.count, "stop after N events")->check(CLI::Range(std::uint64_t{1}, ~std::uint64_t{0}));
  cmd->add_option("--timeout", o.idleMs, "stop when no event came for MS milliseconds")
      ->check(CLI::Range(1LL, 86'400'000LL));
  cmd->add_flag("-q,--quiet", o.quiet, "print no event (with --summary, to measure)");
  cmd->add_flag("--summary", o.summary,
                "at the end print events=, dropped=, ev_per_s= and, with --stamped, p50_us= and p99_us=");
  cmd->add_flag("--stamped", o.stamped,
                "the events come from strata publish --stamp: --summary gives publish-to-delivery latency");
  cmd->footer("Ends on SIGINT or SIGTERM. Events a broker dropped for this subscriber are reported on stderr.");
  return cmd;
}

int runPublish(const CommonOptions& common, PublishOptions o) {
  auto config = loadClientConfig(common);
  auto clientOptions = clientOptionsFrom(config);
  OutgoingEvent event;
  event.subject = o.subject;
  if (o.sizeOption->count() > 0) {
    event.body.assign(o.size, 'x');
  } else if (o.bodyOption->count() > 0) {
    event.body = o.body;
  } else {
    event.body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  event.headers = parseHeaders(o.headers);
  event.timeout = std::chrono::milliseconds(o.timeoutMs);
  if (o.stamp && event.body.size() < kStampBytes) {
    throw Error("publish --stamp needs a body of at least " + std::to_string(kStampBytes) +
                    " bytes (they hold the time); this one has " + std::to_string(event.body.size()),
                ExitCode::kUsage);
  }
  Client client(std::move(clientOptions));
  if (o.repeat > 0) return publishMany(client, event, o);
  if (o.stamp) stamp(event);
  return publishOnce(client, std::move(event));
}

int runSubscribe(const CommonOptions& common, const SubscribeOptions& o) {
  auto config = loadClientConfig(common);
  auto clientOptions = clientOptionsFrom(config);
  auto stopSignals = blockStopSignals();
  struct Seen {
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> lost{0};
    std::atomic<std::int64_t> lastNs{0};
    std::int64_t firstNs = 0;  // loop thread only
    std::vector<std::uint64_t> latenciesUs;  // loop thread only; read after the client is gone
  } seen;
  auto onEvent = [&](const Event& e) {
    auto now = static_cast<std::int64_t>(monotonicNs());
    if (seen.firstNs == 0) seen.firstNs = now;
    if (o.count > 0 && seen.events.load() >= o.count) return;
    if (o.stamped) {
      if (auto at = stampOf(e); at && *at > 0 && now >= *at) {
        seen.latenciesUs.push_back(static_cast<std::uint64_t>((now - *at) / 1000));
      }
    }
    if (!o.quiet) {
      if (o.json) {
        std::cout << eventJson(e) << "\n";
      } else {
        std::cout << e.subject << " " << e.body << "\n";
      }
      std::cout.flush();
    }
    seen.lastNs = now;
    seen.events.fetch_add(1);
  };
  auto onLost = [&](std::uint64_t lost, const std::string& why) {
    seen.lost.fetch_add(lost);
    std::cerr << "strata subscribe: " << (lost > 0 ? "lost " + std::to_string(lost) + " event(s): " : "") << why
              << std::endl;
  };
  int code = 0;
  double seconds = 0;
  {
    Client client(std::move(clientOptions));
    auto subscription = client.subscribe(o.patterns, onEvent, onLost);
    std::string list;
    for (const auto& p : o.patterns) list += (list.empty() ? "" : ", ") + p;
    std::cerr << "subscribed to " << list << std::endl;
    IdleClock idle;
    while (true) {
      if (o.count > 0 && seen.events.load() >= o.count) break;
      if (stopSignalled(stopSignals, kSignalPoll)) break;
      if (idle.idleFor(seen.events.load(), std::chrono::milliseconds(o.idleMs))) {
        if (o.count > 0) code = static_cast<int>(ExitCode::kTempFail);  // fewer than asked for
        break;
      }
    }
    subscription.cancel();
    seconds = seen.firstNs > 0 ? static_cast<double>(seen.lastNs.load() - seen.firstNs) / 1e9 : 0;
  }
  if (o.summary) {
    auto events = seen.events.load();
    std::cout << "events=" << events << " dropped=" << seen.lost.load() << " ev_per_s=" << std::fixed
              << std::setprecision(0) << (seconds > 0 ? static_cast<double>(events) / seconds : 0.0)
              << " p50_us=" << percentile(seen.latenciesUs, 0.50) << " p99_us=" << percentile(seen.latenciesUs, 0.99)
              << std::endl;
  }
  return code;
}

}  // namespace strata::nodes::cli
