#include "reserved_services.h"

#include <Poco/UTF8String.h>

namespace strata::broker {

namespace {

namespace codec = strata::codecs;

std::string jsonString(std::string_view text) {
  // Service and peer names are restricted to [A-Za-z0-9._-]; quoting is enough.
  return "\"" + std::string(text) + "\"";
}

// {"a":1,"b":2} from name and number pairs, in order.
std::string jsonNumbers(std::initializer_list<std::pair<const char*, std::uint64_t>> fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ",";
    out += jsonString(name) + ":" + std::to_string(value);
  }
  return out + "}";
}

// Subjects may hold any UTF-8 and quotes: escaped for JSON.
std::string jsonText(std::string_view text) { return "\"" + Poco::UTF8::escape(std::string(text), true) + "\""; }

std::string subjectsJson(const EventHub& events) {
  const auto& s = events.stats();
  std::string body = "{\"patterns\":[";
  bool first = true;
  for (const auto& info : events.patterns()) {
    if (!first) body += ",";
    first = false;
    body += "{\"pattern\":" + jsonText(info.pattern) + ",\"subscribers\":" + std::to_string(info.subscribers) + "}";
  }
  body += "],\"subscribers\":[";
  first = true;
  for (const auto& [key, sub] : events.sessions()) {
    if (!first) body += ",";
    first = false;
    body += "{\"name\":" + jsonString(sub->name) + ",\"layer\":" + std::to_string(sub->layer) +
            ",\"connected\":" + (sub->peer.empty() ? "false" : "true") +
            ",\"subscriptions\":" + std::to_string(sub->patterns.size()) + ",\"queued\":" +
            std::to_string(sub->queue.size()) + ",\"delivered\":" + std::to_string(sub->delivered) +
            ",\"dropped\":" + std::to_string(sub->dropped) + "}";
  }
  return body + "],\"published\":" + std::to_string(s.published) + ",\"refused\":" + std::to_string(s.refused) +
         ",\"delivered\":" + std::to_string(s.delivered) + ",\"dropped\":" + std::to_string(s.dropped) +
         ",\"subscriptions_refused\":" + std::to_string(s.subscriptionsRefused) +
         ",\"disconnected_slow\":" + std::to_string(s.disconnectedSlow) + "}";
}

ReservedAnswer reply(std::string body) { return {true, std::move(body), {}, {}}; }

ReservedAnswer unknown(std::string text, bool noSuchService = false) {
  return {false, {}, codec::ErrorCode::kUnknownService, std::move(text), noSuchService};
}

}  // namespace

ReservedAnswer answerReserved(const codec::Request& request, const ServiceTable& services, const BrokerStats& s,
                              const PendingRequests& pending, const EventHub& events, const Self& self) {
  if (request.service == codec::kSubjectsService) return reply(subjectsJson(events));
  if (request.service == codec::kServicesService) {
    std::string body = "{\"services\":[";
    bool first = true;
    for (const auto& info : services.infos()) {
      if (!first) body += ",";
      first = false;
      body += "{\"name\":" + jsonString(info.name) + ",\"workers\":" + std::to_string(info.workers) +
              ",\"queued\":" + std::to_string(info.queued) + ",\"in_flight\":" + std::to_string(info.inFlight) + "}";
    }
    return reply(body + "]}");
  }
  if (request.service == codec::kServiceService) {
    std::string name = request.body.empty() ? std::string() : std::string(request.body[0]);
    const Service* service = services.find(name);
    if (!service || service->workers.empty()) return unknown("no worker offers service '" + name + "'");
    return reply("{\"name\":" + jsonString(name) + ",\"workers\":" + std::to_string(service->workers.size()) +
                 ",\"queued\":" + std::to_string(service->queued) + "}");
  }
  if (request.service == codec::kPingService) {
    return reply("pong");  // clients of a pool use it to tell a live broker from a dead one
  }
  if (request.service == codec::kStatsService) {
    auto numbers = jsonNumbers({{"uptime_ms", static_cast<std::uint64_t>(std::max<std::int64_t>(0, self.uptime.count()))},
                                {"connections", s.connections},
                                {"requests", s.requests},
                                {"replies", s.replies},
                                {"errors", s.errors},
                                {"timeouts", s.timeouts},
                                {"forbidden", s.forbidden},
                                {"unknown_service", s.unknownService},
                                {"rejected_full", s.rejectedFull},
                                {"malformed", s.malformed},
                                {"too_large", s.tooLarge},
                                {"requeued", s.requeued},
                                {"workers_lost", s.workersLost},
                                {"sends_full", s.sendsFull},
                                {"other_version", s.otherVersion},
                                {"workers", services.workerCount()},
                                {"pending", pending.size()},
                                {"deadlines", pending.deadlines()}});
    // The instance name first, then the figures.
    return reply("{\"name\":" + jsonText(self.name) + "," + numbers.substr(1));
  }
  return unknown("no reserved service '" + std::string(request.service) + "'", true);
}

}  // namespace strata::broker
