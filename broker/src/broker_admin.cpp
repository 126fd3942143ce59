#include "broker_admin.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <strata/admin/metrics_text.h>
#include <strata/core/version.h>

namespace strata::broker {

namespace {

double seconds(std::chrono::system_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The broker's own refusals and errors, by the wire code name they are answered with.
std::vector<std::pair<std::string, std::uint64_t>> errorsByCode(const BrokerStats& s) {
  return {{"timeout", s.timeouts},         {"forbidden", s.forbidden}, {"unknown_service", s.unknownService},
          {"unavailable", s.rejectedFull}, {"malformed", s.malformed}, {"too_large", s.tooLarge}};
}

// The value under which a share q of a histogram's observations fall, by its buckets'
// upper bounds (the last bucket's bound for what is above them all); 0 when empty.
double quantile(const DurationHistogram& h, double q) {
  std::uint64_t total = 0;
  for (auto c : h.counts) total += c;
  if (total == 0) return 0;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    seen += h.counts[i];
    if (static_cast<double>(seen) >= q * static_cast<double>(total)) {
      return i < DurationHistogram::kBounds.size() ? DurationHistogram::kBounds[i] : DurationHistogram::kBounds.back();
    }
  }
  return DurationHistogram::kBounds.back();
}

}  // namespace

std::string metricsText(const BrokerSnapshot& snapshot) {
  admin::MetricsText m;
  const auto& s = snapshot.stats;
  m.processMetrics(core::version());
  m.gauge("strata_up_seconds", "Seconds since this broker started.", {}, seconds(snapshot.taken - snapshot.started));
  m.counter("strata_broker_requests_total", "Requests received, reserved strata.* calls included.", {},
            static_cast<double>(s.requests));
  m.counter("strata_broker_replies_total", "Final replies forwarded from workers.", {}, static_cast<double>(s.replies));
  m.counter("strata_broker_errors_total", "ERROR answers sent to clients, whoever made them.", {},
            static_cast<double>(s.errors));
  for (const auto& [code, n] : errorsByCode(s)) {
    m.counter("strata_broker_refusals_total", "Requests the broker itself answered with an error, by code.",
              {{"code", code}}, static_cast<double>(n));
  }
  m.counter("strata_malformed_messages_total", "Messages dropped as malformed or of another protocol version.", {},
            static_cast<double>(s.malformed + s.otherVersion));
  m.counter("strata_requeued_requests_total", "Requests moved off a worker taken for dead.", {},
            static_cast<double>(s.requeued));
  m.counter("strata_workers_lost_total", "Workers taken for dead (silent past their heartbeats).", {},
            static_cast<double>(s.workersLost));
  m.counter("strata_sends_refused_total", "Messages not sent because the peer's queue was full.", {},
            static_cast<double>(s.sendsFull));
  m.counter("strata_durable_requests_total", "Durable requests written to the journal.", {},
            static_cast<double>(s.durable));
  m.gauge("strata_journal_depth", "Durable requests in the journal, not yet answered.", {},
          static_cast<double>(snapshot.journaled));
  m.gauge("strata_held_requests", "Requests the broker holds, queued or at a worker.", {},
          static_cast<double>(snapshot.held));
  for (std::size_t layer = 0; layer < snapshot.workersByLayer.size(); ++layer) {
    m.gauge("strata_workers_connected", "Registered workers, by the layer of their key.",
            {{"layer", std::to_string(layer)}}, static_cast<double>(snapshot.workersByLayer[layer]));
  }
  m.gauge("strata_connections", "TCP connections open on the broker's socket, authenticated or not yet.", {},
          static_cast<double>(snapshot.connections));
  for (std::size_t layer = 0; layer < snapshot.peersByLayer.size(); ++layer) {
    m.gauge("strata_peers", "Connections that have sent a message, by the layer of their key.",
            {{"layer", std::to_string(layer)}}, static_cast<double>(snapshot.peersByLayer[layer]));
  }
  const auto& h = snapshot.handshakes;
  for (const auto& [result, n] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"accepted", h.accepted},
           {"unknown_key", h.unknownKey},
           {"max_peers", h.full},
           {"malformed", h.malformed},
           {"broken", snapshot.handshakeErrors}}) {
    m.counter("strata_handshakes_total",
              "CURVE handshakes by outcome: accepted, or refused for an unlisted key, at strata.max_peers, as "
              "malformed, or broken off.",
              {{"result", result}}, static_cast<double>(n));
  }
  m.counter("strata_unlisted_messages_total", "Messages refused because a reload took their connection's key away.", {},
            static_cast<double>(s.unlisted));
  m.counter("strata_key_reloads_total", "Rereads of strata.authorized_keys, applied or refused (the old list kept).",
            {{"result", "applied"}}, static_cast<double>(s.keyReloads));
  m.counter("strata_key_reloads_total", "Rereads of strata.authorized_keys, applied or refused (the old list kept).",
            {{"result", "refused"}}, static_cast<double>(snapshot.keyReloadsRefused));
  std::vector<double> bounds(DurationHistogram::kBounds.begin(), DurationHistogram::kBounds.end());
  m.histogram("strata_journal_commit_duration_seconds", "Time each journal commit took (one per batch of durable requests).",
              {}, bounds,
              std::vector<std::uint64_t>(snapshot.journalCommits.counts.begin(), snapshot.journalCommits.counts.end()),
              snapshot.journalCommits.sumSeconds);
  for (const auto& service : snapshot.services) {
    admin::Labels labels{{"service", service.name}};
    const auto& c = service.counters;
    m.counter("strata_requests_total", "Requests accepted for a service.", labels, static_cast<double>(c.requests));
    m.counter("strata_replies_total", "Requests of a service answered by a worker.", labels,
              static_cast<double>(c.replies));
    m.counter("strata_request_errors_total", "Requests of a service answered with an error (worker or deadline).",
              labels, static_cast<double>(c.errors));
    m.gauge("strata_queue_depth", "Requests waiting for a worker of the service.", labels,
            static_cast<double>(service.queued));
    m.gauge("strata_in_flight_requests", "Requests of the service at a worker.", labels,
            static_cast<double>(service.inFlight));
    m.gauge("strata_workers", "Workers offering the service.", labels, static_cast<double>(service.workers));
    m.histogram("strata_request_duration_seconds", "Time from a request's arrival to its final answer.", labels, bounds,
                std::vector<std::uint64_t>(c.durations.counts.begin(), c.durations.counts.end()),
                c.durations.sumSeconds);
  }
  const auto& e = snapshot.events;
  m.counter("strata_events_published_total", "Events accepted from publishers.", {}, static_cast<double>(e.published));
  m.counter("strata_events_refused_total", "Publishes refused (rights, limits).", {}, static_cast<double>(e.refused));
  m.counter("strata_events_delivered_total", "Event copies sent to subscribers.", {}, static_cast<double>(e.delivered));
  m.counter("strata_events_dropped_total", "Event copies dropped from full subscriber queues.", {},
            static_cast<double>(e.dropped));
  m.counter("strata_subscriptions_refused_total", "Subscriptions refused (rights, limits, bad patterns).", {},
            static_cast<double>(e.subscriptionsRefused));
  return m.text();
}

std::string statsJson(const BrokerSnapshot& snapshot, const std::string& name) {
  Poco::JSON::Object out;
  out.set("role", "broker");
  out.set("name", name);
  out.set("version", core::version());
  out.set("uptime_s", seconds(snapshot.taken - snapshot.started));
  out.set("time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(snapshot.taken.time_since_epoch()).count());
  Poco::JSON::Array::Ptr services = new Poco::JSON::Array;
  for (const auto& s : snapshot.services) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("name", s.name);
    o->set("workers", s.workers);
    o->set("queued", s.queued);
    o->set("in_flight", s.inFlight);
    o->set("requests", s.counters.requests);
    o->set("replies", s.counters.replies);
    o->set("errors", s.counters.errors);
    o->set("p99_ms", quantile(s.counters.durations, 0.99) * 1000);  // since the start
    Poco::JSON::Array::Ptr counts = new Poco::JSON::Array;
    for (auto c : s.counters.durations.counts) counts->add(c);
    o->set("duration_counts", counts);
    services->add(o);
  }
  out.set("services", services);
  Poco::JSON::Array::Ptr bounds = new Poco::JSON::Array;
  for (auto b : DurationHistogram::kBounds) bounds->add(b * 1000);
  out.set("duration_bounds_ms", bounds);
  Poco::JSON::Object::Ptr layers = new Poco::JSON::Object;
  for (std::size_t layer = 0; layer < snapshot.workersByLayer.size(); ++layer) {
    layers->set(std::to_string(layer), snapshot.workersByLayer[layer]);
  }
  out.set("workers_by_layer", layers);
  Poco::JSON::Object::Ptr errors = new Poco::JSON::Object;
  for (const auto& [code, n] : errorsByCode(snapshot.stats)) errors->set(code, n);
  errors->set("malformed", snapshot.stats.malformed + snapshot.stats.otherVersion);
  out.set("errors", errors);
  out.set("requests", snapshot.stats.requests);
  out.set("held", snapshot.held);
  out.set("connections", snapshot.connections);
  Poco::JSON::Object::Ptr peers = new Poco::JSON::Object;
  for (std::size_t layer = 0; layer < snapshot.peersByLayer.size(); ++layer) {
    peers->set(std::to_string(layer), snapshot.peersByLayer[layer]);
  }
  out.set("peers_by_layer", peers);
  out.set("handshakes_refused", snapshot.handshakes.unknownKey + snapshot.handshakes.full +
                                    snapshot.handshakes.malformed + snapshot.handshakeErrors);
  out.set("journaled", snapshot.journaled);
  Poco::JSON::Object::Ptr events = new Poco::JSON::Object;
  events->set("published", snapshot.events.published);
  events->set("delivered", snapshot.events.delivered);
  events->set("dropped", snapshot.events.dropped);
  out.set("events", events);
  std::ostringstream text;
  out.stringify(text);
  return text.str();
}

}  // namespace strata::broker
