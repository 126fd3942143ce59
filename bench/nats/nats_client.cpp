// nats-client: the end-to-end benchmark's NATS client. Keeps --window requests to "echo"
// in flight until --requests are answered, then prints one summary line
// (bench_program.h) and exits 0, or 1 if any request went wrong or unanswered.
//
//   nats-client --url nats://127.0.0.1:PORT [--requests N] [--window W] [--body-size B]
//               [--timeout-ms T] [--send-asap 0|1]
//
// --send-asap 1 writes each request at once; the default 0 is libnats's own: its flusher
// thread gathers writes, waiting about a millisecond for more (best with many in flight,
// a millisecond more per hop with one).
//
// Requests are published with a reply subject INBOX.SEQUENCE, under one wildcard
// subscription INBOX.*: the sequence number in the subject matches a reply to its request,
// so there is no subscription per request and no header.

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <vector>

#include "bench_program.h"
#include "nats_common.h"

namespace strata::bench::nats {
namespace {

using Clock = std::chrono::steady_clock;

// One load run. start() and the subscription's delivery thread (onReply) both send, under
// mutex_; wait() reads the outcome on the calling thread. It must outlive the connection
// and the subscription: their threads call it. After wait() it ignores late answers.
class LoadRun {
 public:
  LoadRun(std::string inbox, std::uint64_t requests, std::uint64_t window, std::size_t bodySize)
      : inbox_(std::move(inbox)), requests_(requests), window_(window), body_(bodySize, 'x'), sentAt_(requests),
        answered_(requests, false) {
    report_.latenciesUs.reserve(requests);
  }

  const std::string& inbox() const { return inbox_; }

  // Sends the first window on connection.
  void start(natsConnection* connection) {
    std::lock_guard lock(mutex_);
    connection_ = connection;
    start_ = Clock::now();
    lastAnswer_ = start_;
    while (sent_ < std::min(window_, requests_)) sendOne();
  }

  // Waits until every request is answered, or none was for timeout; unanswered requests
  // count as errors.
  LoadReport wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    while (report_.requests < requests_) {
      done_.wait_for(lock, timeout);
      if (report_.requests < requests_ && Clock::now() - lastAnswer_ >= timeout) break;
    }
    finished_ = true;
    LoadReport report = report_;
    report.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    report.errors += requests_ - report.requests;
    return report;
  }

  // The subscription's callback; closure is the LoadRun.
  static void onReply(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    static_cast<LoadRun*>(closure)->answer(message);
    natsMsg_Destroy(message);
  }

 private:
  void answer(const natsMsg* message) {
    const auto now = Clock::now();
    std::string_view subject = natsMsg_GetSubject(message);
    std::lock_guard lock(mutex_);
    if (finished_ || report_.requests == requests_) return;  // late, after the run
    ++report_.requests;
    lastAnswer_ = now;
    std::uint64_t sequence = 0;
    bool good = subject.size() > inbox_.size() + 1 && subject.substr(0, inbox_.size()) == inbox_ &&
                parseSequence(subject.substr(inbox_.size() + 1), sequence) && sequence < sent_ &&
                !answered_[sequence] && static_cast<std::size_t>(natsMsg_GetDataLength(message)) == body_.size();
    if (good) {
      answered_[sequence] = true;
      ++report_.ok;
      report_.latenciesUs.push_back(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - sentAt_[sequence]).count()));
    } else {
      ++report_.errors;
    }
    if (sent_ < requests_) sendOne();
    if (report_.requests == requests_) done_.notify_all();
  }

  static bool parseSequence(std::string_view text, std::uint64_t& sequence) {
    if (text.empty()) return false;
    sequence = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      sequence = sequence * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
  }

  // Under mutex_.
  void sendOne() {
    auto reply = inbox_ + "." + std::to_string(sent_);
    sentAt_[sent_] = Clock::now();
    ++sent_;
    // A failed publish shows as an unanswered request when the run ends.
    (void)natsConnection_PublishRequest(connection_, kSubject, reply.c_str(), body_.data(),
                                        static_cast<int>(body_.size()));
  }

  natsConnection* connection_ = nullptr;
  const std::string inbox_;
  const std::uint64_t requests_;
  const std::uint64_t window_;
  const std::string body_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::uint64_t sent_ = 0;
  std::vector<Clock::time_point> sentAt_;
  std::vector<bool> answered_;
  LoadReport report_;
  Clock::time_point start_;
  Clock::time_point lastAnswer_;
  bool finished_ = false;
};

std::string newInbox() {
  natsInbox* inbox = nullptr;
  check(natsInbox_Create(&inbox), "natsInbox_Create");
  std::string text = inbox;
  natsInbox_Destroy(inbox);
  return text;
}

int run(const ProgramArgs& args) {
  const auto requests = args.number("--requests", kDefaultRequests);
  const auto window = args.number("--window", kDefaultWindow);
  const std::chrono::milliseconds timeout(args.number("--timeout-ms", kDefaultTimeoutMs));
  if (window == 0) throw UsageError("--window must be at least 1");
  Library library;
  LoadRun load(newInbox(), requests, window, args.number("--body-size", kDefaultBodySize));
  auto connection = connect(args.required("--url"), args.number("--send-asap", 0) != 0, args.text("--ca", ""));
  natsSubscription* raw = nullptr;
  check(natsConnection_Subscribe(&raw, connection.get(), (load.inbox() + ".*").c_str(), LoadRun::onReply, &load),
        "natsConnection_Subscribe");
  Subscription subscription(raw);
  check(natsConnection_Flush(connection.get()), "natsConnection_Flush");  // the server has the subscription
  load.start(connection.get());
  auto report = load.wait(timeout);
  std::cout << report.line() << std::endl;
  check(natsSubscription_Unsubscribe(subscription.get()), "natsSubscription_Unsubscribe");
  return report.errors == 0 ? 0 : kExitFailure;
}

}  // namespace
}  // namespace strata::bench::nats

int main(int argc, char** argv) {
  return strata::bench::programMain("nats-client", argc, argv,
                                     {"--url", "--send-asap", "--ca", "--requests", "--window", "--body-size",
                                      "--timeout-ms"},
                                     strata::bench::nats::run);
}
