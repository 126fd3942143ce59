#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <strata/integrations/http/bus_call.h>

#include "stream_hub.h"

namespace strata::integrations::http {

// Bus events to browsers' event streams (GET /v1/events?subject=PATTERN). The gateway
// holds one bus subscription per pattern, however many streams share it, and keeps its
// newest events: each goes out with an id "<subscription session>-<position>", and a
// browser that comes back with Last-Event-ID gets what it missed from there, or first a
// `gap` event when some are no longer kept (or the id is of another subscription or
// gateway process). A pattern nobody has watched for linger is unsubscribed at the next
// subscription. Thread-safe.
class EventFanout {
 public:
  struct Options {
    std::size_t keepEvents = 1000;            // per pattern
    std::size_t keepBytes = 1024 * 1024;      // per pattern
    std::chrono::milliseconds linger{60000};
  };

  EventFanout(BusSubscribe subscribe, BusUnsubscribe unsubscribe, Options options);
  ~EventFanout();
  EventFanout(const EventFanout&) = delete;
  EventFanout& operator=(const EventFanout&) = delete;

  // Makes sure the bus subscription for pattern exists (blocking until the brokers
  // answer): nullopt, or their refusal.
  std::optional<BusReply> prepare(const std::string& pattern);
  // Sends out the events after lastEventId that are kept (or `gap`), then every new one.
  void attach(const std::string& pattern, const std::shared_ptr<Stream>& out, const std::string& lastEventId);
  // The stream ended.
  void detach(const std::string& pattern, const Stream* out);
  // Unsubscribes everything; attach does nothing afterwards.
  void stop();
  // Whether it was given a way to subscribe.
  bool available() const;

 private:
  struct State;  // shared with the bus's event handlers, which may outlive this
  std::shared_ptr<State> state_;
};

}  // namespace strata::integrations::http
