#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <strata/integrations/http/bus_call.h>

#include "stream_hub.h"

namespace strata::integrations::http {

// One Server-Sent Event: "event:" and "id:" when given (no type: a plain message), then
// the data line by line.
std::string sseEvent(std::string_view type, std::string_view id, std::string_view data);

// Relays a store watch (store.watch, docs/integrations.md section 10) to one browser's
// event stream. The store's answers go out as they come: `snapshot` (one page of
// objects; part 0 starts a snapshot), `ready` (id: the snapshot's revision), `changes`
// (id: the last revision it covers) and `reset` (a fresh snapshot follows). A refusal
// that asking again would not change goes out as `refused` (EventSource keeps `error`
// for itself) and closes the stream. It renews the store's stream when it ends, asks
// again from what it has sent after a gap or a lost store or broker, and drops what it
// sent already, so a page sees every change once; Last-Event-ID (after) resumes it. It
// stops once its stream is closed.
class WatchRelay : public std::enable_shared_from_this<WatchRelay> {
 public:
  struct Target {
    std::string collection;
    std::string prefix;
    std::int64_t after = 0;  // 0: start with a snapshot
    HeaderList headers;      // the caller's principal, on every request
  };
  struct Options {
    std::string service = "store.watch";
    std::chrono::milliseconds streamTimeout{60000};
    std::chrono::milliseconds retryDelay{500};
  };

  WatchRelay(BusStreamCall call, std::shared_ptr<Stream> out, Target target, Options options);
  // Asks the store; the first answer goes out when it comes.
  void start();

 private:
  void ask();
  void retryLater();
  void onPartial(std::uint64_t generation, BusReply&& reply);
  void onFinal(std::uint64_t generation, BusReply&& reply);
  void fail(std::string_view code, std::string_view message);

  BusStreamCall call_;
  std::shared_ptr<Stream> out_;
  Target target_;
  Options options_;
  std::mutex mutex_;
  bool stopped_ = false;
  std::uint64_t generation_ = 0;  // answers to an older request are dropped
  std::int64_t sent_ = 0;         // every revision up to it has gone out (or was hidden)
};

}  // namespace strata::integrations::http
