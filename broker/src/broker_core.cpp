#include <strata/broker/broker_core.h>

#include <algorithm>
#include <array>

#include <Poco/Logger.h>

namespace strata::broker {

namespace codec = strata::codecs;
using codec::ErrorCode;
using core::MessageId;
using core::TimePoint;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.broker"); }

using codec::kAcceptedHeader;
using codec::kDurableHeader;
using codec::kReservedPrefix;

bool isDurable(const codec::Request& request) {
  for (const auto& h : request.headers)
    if (h.key == kDurableHeader) return h.value == "1";
  return false;
}

void viewsOf(const FrameList& frames, std::vector<std::string_view>& views) {
  views.clear();
  for (const auto& frame : frames) views.push_back(frame.to_string_view());
}

std::int64_t unixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

zmq::message_t copyOf(zmq::message_t& frame) {
  zmq::message_t out;
  out.copy(frame);  // shares the buffer of a large frame instead of copying it
  return out;
}

std::string jsonString(std::string_view text) {
  // Service and peer names are restricted to [A-Za-z0-9._-]; quoting is enough.
  return "\"" + std::string(text) + "\"";
}

}  // namespace

struct BrokerCore::Service {
  std::string name;
  int layer = -1;  // the layer of its workers; -1 until one registers
  std::vector<Worker*> workers;
  std::size_t next = 0;  // round-robin position in workers
  std::deque<MessageId> queue;  // may hold stale ids: Pending decides
  std::size_t queued = 0;
  std::size_t inFlight = 0;
};

struct BrokerCore::Worker {
  PeerId peer;
  std::string name;
  int layer = 0;
  std::vector<Service*> services;
  std::uint32_t credit = 0;
  std::chrono::milliseconds heartbeat{};
  TimePoint lastSeen{};
  // Requests sent and not yet finally answered, each costing one credit. A multiset: a
  // retried id can be at the same worker twice, and each answer returns its own credit.
  std::unordered_multiset<MessageId, core::MessageIdHash> outstanding;
};

// A request the broker holds, from its arrival to its final answer. Its deadline link
// sits in deadlines_ while it may still time out.
struct BrokerCore::Pending : core::DeadlineLink<> {
  enum class State { kQueued, kAtWorker, kAnswered };
  MessageId id;
  PeerId client;
  std::string clientName;  // who sent it: only the same identity may retry the id
  Service* service = nullptr;
  // The request's envelope and body frames as they came, kept until the final answer;
  // the envelope a worker gets is made from them (with the caller and the time left).
  FrameList frames;
  State state = State::kQueued;
  Worker* worker = nullptr;
  bool durable = false;
  int callerLayer = core::kMaxLayer;
};

BrokerCore::BrokerCore(BrokerSettings settings, std::shared_ptr<const core::AuthorizedKeys> keys,
                       core::LayerPolicy policy, Outbox& outbox)
    : settings_(settings), keys_(std::move(keys)), policy_(std::move(policy)), outbox_(outbox) {}

BrokerCore::~BrokerCore() = default;

void BrokerCore::onMessage(const PeerId& peer, std::string_view userId, FrameList& frames, TimePoint now) {
  now_ = now;
  viewsOf(frames, views_);
  auto error = codec::decodeInto(codec::Frames(views_.data(), views_.size()), decoded_);
  if (error != codec::DecodeError::kNone) {
    handleMalformed(peer, userId, frames, error, now);
    return;
  }
  auto who = keys_->findByName(userId);
  if (!who) {
    // ZAP names every CURVE peer; a message without a known name came around it.
    if (badInputLog_.allow("anonymous", now)) logger().warning("dropped a message from an unauthenticated peer");
    return;
  }
  // By role first, then by command: what a registered worker may send differs from what
  // any other peer may.
  if (auto it = workers_.find(peer); it != workers_.end()) {
    it->second->lastSeen = now;
    if (!std::holds_alternative<codec::Request>(decoded_) && !std::holds_alternative<codec::Ready>(decoded_)) {
      handleFromWorker(peer, *it->second, frames, decoded_);
      return;
    }
  }
  handleFromPeer(peer, *who, frames, decoded_, now);
}

void BrokerCore::handleFromWorker(const PeerId& peer, Worker&, FrameList& frames, codec::Message& message) {
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, codec::Reply> || std::is_same_v<T, codec::Error>) {
          handleWorkerAnswer(peer, frames, m.id, true);
        } else if constexpr (std::is_same_v<T, codec::Partial>) {
          handleWorkerAnswer(peer, frames, m.id, false);
        } else if constexpr (std::is_same_v<T, codec::Credit>) {
          handleCredit(peer, m.credit);
        } else if constexpr (std::is_same_v<T, codec::Disconnect>) {
          removeWorker(peer, "it said goodbye");
        }
        // HEARTBEAT: lastSeen is already updated.
      },
      message);
}

void BrokerCore::handleFromPeer(const PeerId& peer, const core::Identity& who, FrameList& frames,
                                codec::Message& message, TimePoint now) {
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, codec::Request>) {
          handleRequest(peer, who, frames, m, now);
        } else if constexpr (std::is_same_v<T, codec::Ready>) {
          handleReady(peer, who, m, now);
        } else if constexpr (std::is_same_v<T, codec::Disconnect>) {
          // Goodbye from a peer that is not registered: nothing to undo.
        } else {
          // A worker's message from a connection the broker does not know as a worker (it
          // restarted, or buried the worker): ask it to register again.
          sendDisconnect(peer, "not registered");
        }
      },
      message);
}

void BrokerCore::onOversized(const PeerId& peer, std::string_view userId, FrameList& frames, TimePoint now) {
  now_ = now;
  ++stats_.tooLarge;
  std::string key(userId.empty() ? "anonymous" : userId);
  if (badInputLog_.allow(key, now)) {
    logger().warning("dropped an oversized message from %s (%z more held back since the last line)", key,
                     badInputLog_.suppressed(key));
  }
  if (auto id = codec::peekRequestId(frames.front().to_string_view())) {
    sendError(peer, *id, ErrorCode::kTooLarge, "message exceeds the broker's size or frame limits");
  }
}

void BrokerCore::handleMalformed(const PeerId& peer, std::string_view userId, FrameList& frames,
                                 codec::DecodeError error, TimePoint now) {
  std::string key(userId.empty() ? "anonymous" : userId);
  if (auto refusal = codec::versionRefusal(codec::Frames(views_.data(), views_.size()))) {
    // A peer of an older version would not understand our answer: tell it in its own.
    ++stats_.otherVersion;
    if (badInputLog_.allow(key, now)) {
      logger().warning("refused %s: it speaks protocol version %u, this broker version %u", key,
                       static_cast<unsigned>(*codec::peekVersion(views_.front())),
                       static_cast<unsigned>(codec::kVersion));
    }
    FrameList out;
    for (auto& frame : *refusal) out.emplace_back(frame.data(), frame.size());
    send(peer, std::move(out));
    return;
  }
  ++stats_.malformed;
  if (badInputLog_.allow(key, now)) {
    logger().warning("dropped a malformed message from %s: %s (%z more held back since the last line)", key,
                     std::string(codec::decodeErrorName(error)), badInputLog_.suppressed(key));
  }
  if (!frames.empty()) {
    if (auto id = codec::peekRequestId(frames.front().to_string_view())) {
      sendError(peer, *id, ErrorCode::kMalformed, codec::decodeErrorName(error));
    }
  }
}

void BrokerCore::handleRequest(const PeerId& peer, const core::Identity& who, FrameList& frames,
                               const codec::Request& request, TimePoint now) {
  ++stats_.requests;
  if (request.service.starts_with(kReservedPrefix)) {
    handleReserved(peer, request);
    return;
  }
  if (auto it = pending_.find(request.id); it != pending_.end()) {
    Pending& p = *it->second;
    if (p.clientName != who.name) {
      // Another identity must never receive this request's answer.
      sendError(peer, request.id, ErrorCode::kMalformed, "request id already in use");
      return;
    }
    // A retry of a request still in hand: answer it where the retry came from, once.
    p.client = peer;
    if (p.state != Pending::State::kAnswered) return;
    // It timed out at a worker that still holds it; the retry starts it afresh.
    --p.service->inFlight;
    p.state = Pending::State::kQueued;
    p.worker = nullptr;
    p.frames = std::move(frames);
    deadlines_.push(p, now, std::chrono::milliseconds(request.timeoutMs));
    p.service->queue.push_back(request.id);
    ++p.service->queued;
    dispatch(*p.service);
    return;
  }
  bool durable = isDurable(request);
  if (durable && !journal_) {
    sendError(peer, request.id, ErrorCode::kUnavailable, "this broker keeps no journal (strata.journal)");
    return;
  }
  auto serviceIt = services_.find(std::string(request.service));
  if (durable && (serviceIt == services_.end() || serviceIt->second->workers.empty())) {
    // A durable request waits for a worker; the policy is checked when one is there.
    serviceNamed(request.service);
    serviceIt = services_.find(std::string(request.service));
  } else if (serviceIt == services_.end() || serviceIt->second->workers.empty()) {
    ++stats_.unknownService;
    sendError(peer, request.id, ErrorCode::kUnknownService,
              "no worker offers service '" + std::string(request.service) + "'");
    return;
  }
  Service& service = *serviceIt->second;
  if (service.layer >= 0 && !policy_.allows(who.layer, service.layer, service.name)) {
    ++stats_.forbidden;
    sendError(peer, request.id, ErrorCode::kForbidden,
              "layer " + std::to_string(who.layer) + " may not call '" + service.name + "' (layer " +
                  std::to_string(service.layer) + ")");
    return;
  }
  if (service.queued >= settings_.queueMax) {
    ++stats_.rejectedFull;
    sendError(peer, request.id, ErrorCode::kUnavailable, "service '" + service.name + "' has a full queue");
    return;
  }
  auto pending = std::make_unique<Pending>();
  pending->id = request.id;
  pending->client = peer;
  pending->clientName = who.name;
  pending->service = &service;
  pending->callerLayer = who.layer;
  if (durable) {
    pending->durable = true;
    // The journal keeps the request as a worker would get it, caller included, so that
    // whoever adopts it later knows who asked.
    codec::Request stored = request;
    stored.caller = codec::Caller{static_cast<std::uint8_t>(who.layer), who.name};
    journal_->append(JournalEntry{request.id, service.name, who.name,
                                  unixMs() + static_cast<std::int64_t>(request.timeoutMs), codec::encode(stored)});
    toAccept_.emplace_back(peer, request.id);
    ++stats_.durable;
  }
  pending->frames = std::move(frames);
  deadlines_.push(*pending, now, std::chrono::milliseconds(request.timeoutMs));
  service.queue.push_back(request.id);
  ++service.queued;
  pending_.emplace(request.id, std::move(pending));
  dispatch(service);
}

void BrokerCore::dispatch(Service& service) {
  while (!service.queue.empty() && !service.workers.empty()) {
    auto it = pending_.find(service.queue.front());
    if (it == pending_.end() || it->second->state != Pending::State::kQueued || it->second->service != &service) {
      service.queue.pop_front();  // stale: expired or answered while it waited
      continue;
    }
    Worker* chosen = nullptr;
    for (std::size_t n = 0; n < service.workers.size(); ++n) {
      Worker* candidate = service.workers[(service.next + n) % service.workers.size()];
      if (candidate->credit > 0) {
        chosen = candidate;
        service.next = (service.next + n + 1) % service.workers.size();
        break;
      }
    }
    if (!chosen) return;
    service.queue.pop_front();
    --service.queued;
    if (it->second->durable && !policy_.allows(it->second->callerLayer, service.layer, service.name)) {
      ++stats_.forbidden;
      sendError(it->second->client, it->first, ErrorCode::kForbidden,
                "layer " + std::to_string(it->second->callerLayer) + " may not call '" + service.name + "'");
      forget(it->first);
      erasePending(it->first);
      continue;
    }
    ++service.inFlight;
    Pending& p = *it->second;
    p.state = Pending::State::kAtWorker;
    p.worker = chosen;
    --chosen->credit;
    chosen->outstanding.insert(p.id);
    sendToWorker(*chosen, p);
  }
}

void BrokerCore::sendToWorker(Worker& worker, Pending& p) {
  // The envelope is made anew from the one that came: the caller as ZAP authenticated
  // it, and the time left rather than the time the client first gave. Body frames go on
  // as they are; ZeroMQ shares the buffer of a large frame instead of copying it.
  viewsOf(p.frames, dispatchViews_);
  auto error = codec::decodeInto(codec::Frames(dispatchViews_.data(), dispatchViews_.size()), dispatchDecoded_);
  STRATA_ASSERT(error == codec::DecodeError::kNone);  // it decoded when it came
  auto& request = std::get<codec::Request>(dispatchDecoded_);
  // Whatever the client put in the caller field is overwritten, so it can never claim
  // another name (an adopted request's clientName and layer came from its journal entry).
  request.caller = codec::Caller{static_cast<std::uint8_t>(p.callerLayer), p.clientName};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(p.deadline - now_).count();
  request.timeoutMs = static_cast<std::uint32_t>(std::max<long long>(1, left));
  FrameList out;
  out.reserve(p.frames.size());
  out.emplace_back(codec::envelopeSize(request));
  codec::writeEnvelope(request, out.front().data<char>());
  if (!codec::inlinesBody(request.body)) {
    for (std::size_t i = 1; i < p.frames.size(); ++i) out.push_back(copyOf(p.frames[i]));
  }
  send(worker.peer, std::move(out));
}

void BrokerCore::erasePending(const MessageId& id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  deadlines_.remove(*it->second);
  pending_.erase(it);
}

void BrokerCore::send(const PeerId& peer, FrameList&& frames) {
  if (outbox_.send(peer, std::move(frames)) == SendResult::kFull) {
    // The peer reads slower than it is sent to. What was not sent is settled as if lost:
    // a request by its deadline, an answer by the client's retry.
    ++stats_.sendsFull;
    if (badInputLog_.allow("full:" + peer, now_)) {
      logger().warning("a peer's queue is full; dropped a message to it (%z more held back since the last line)",
                       badInputLog_.suppressed("full:" + peer));
    }
  }
}

void BrokerCore::handleWorkerAnswer(const PeerId& peer, FrameList& frames, const MessageId& id, bool final) {
  Worker& worker = *workers_.at(peer);
  if (final) {
    if (auto slot = worker.outstanding.find(id); slot != worker.outstanding.end()) {
      worker.outstanding.erase(slot);
      ++worker.credit;
    }
  }
  auto it = pending_.find(id);
  bool ours = it != pending_.end() && it->second->worker == &worker;
  if (ours && it->second->state == Pending::State::kAtWorker) {
    if (final) {
      ++(std::holds_alternative<codec::Error>(decoded_) ? stats_.errors : stats_.replies);
    }
    send(it->second->client, std::move(frames));
  }
  // Not ours (any more): answered by a timeout, or moved to another worker. Dropped.
  if (final && ours) {
    --it->second->service->inFlight;
    if (it->second->durable) forget(id);
    erasePending(id);
  }
  if (final) {
    for (Service* s : worker.services) dispatch(*s);
  }
}

void BrokerCore::handleCredit(const PeerId& peer, std::uint32_t credit) {
  Worker& worker = *workers_.at(peer);
  worker.credit = std::min<std::uint32_t>(worker.credit + credit, codec::kMaxCredit);
  for (Service* s : worker.services) dispatch(*s);
}

void BrokerCore::handleReady(const PeerId& peer, const core::Identity& who, const codec::Ready& ready,
                             TimePoint now) {
  if (workers_.contains(peer)) removeWorker(peer, "it registered again");
  if (who.layer == core::kMaxLayer) {
    sendDisconnect(peer, "layer 4 may not offer services");
    return;
  }
  for (auto name : ready.services) {
    if (name.starts_with(kReservedPrefix)) {
      sendDisconnect(peer, "service names starting with 'strata.' are reserved");
      return;
    }
    auto it = services_.find(std::string(name));
    if (it != services_.end() && it->second->layer >= 0 && !it->second->workers.empty() &&
        it->second->layer != who.layer) {
      sendDisconnect(peer, "service '" + std::string(name) + "' is offered at layer " +
                               std::to_string(it->second->layer));
      return;
    }
  }
  auto worker = std::make_unique<Worker>();
  worker->peer = peer;
  worker->name = who.name;
  worker->layer = who.layer;
  worker->credit = ready.credit;
  worker->heartbeat = std::chrono::milliseconds(ready.heartbeatMs);
  worker->lastSeen = now;
  for (auto name : ready.services) {
    Service& service = serviceNamed(name);
    if (std::find(worker->services.begin(), worker->services.end(), &service) != worker->services.end()) continue;
    service.layer = who.layer;
    service.workers.push_back(worker.get());
    worker->services.push_back(&service);
  }
  logger().information("worker %s (layer %d) ready with credit %u for %z service(s)", who.name, who.layer,
                       static_cast<unsigned>(ready.credit), worker->services.size());
  Worker* raw = worker.get();
  workers_.emplace(peer, std::move(worker));
  if (nextHeartbeat_ == TimePoint{}) nextHeartbeat_ = now + settings_.heartbeat;
  for (Service* s : raw->services) dispatch(*s);
}

BrokerCore::Service& BrokerCore::serviceNamed(std::string_view name) {
  auto [it, inserted] = services_.try_emplace(std::string(name));
  if (inserted) {
    it->second = std::make_unique<Service>();
    it->second->name = std::string(name);
  }
  return *it->second;
}

void BrokerCore::removeWorker(const PeerId& peer, const char* why) {
  auto it = workers_.find(peer);
  if (it == workers_.end()) return;
  Worker& worker = *it->second;
  std::size_t moved = 0;
  for (const auto& id : worker.outstanding) {
    auto p = pending_.find(id);
    if (p == pending_.end() || p->second->worker != &worker) continue;
    --p->second->service->inFlight;
    if (p->second->state == Pending::State::kAnswered) {
      erasePending(id);
      continue;
    }
    // Back to the head of its queue: it has waited longest.
    p->second->state = Pending::State::kQueued;
    p->second->worker = nullptr;
    p->second->service->queue.push_front(id);
    ++p->second->service->queued;
    ++moved;
  }
  stats_.requeued += moved;
  logger().information("worker %s removed: %s; %z request(s) moved to other workers", worker.name, std::string(why),
                       moved);
  std::vector<Service*> affected = worker.services;
  for (Service* s : affected) {
    auto& ws = s->workers;
    ws.erase(std::remove(ws.begin(), ws.end(), &worker), ws.end());
    if (s->next >= ws.size()) s->next = 0;
  }
  workers_.erase(it);
  for (Service* s : affected) {
    if (s->workers.empty()) {
      // Nobody left to serve what waits: answer now rather than at the deadline.
      std::vector<MessageId> keep;
      while (!s->queue.empty()) {
        auto p = pending_.find(s->queue.front());
        s->queue.pop_front();
        if (p == pending_.end() || p->second->state != Pending::State::kQueued || p->second->service != s) continue;
        if (p->second->durable) {
          keep.push_back(p->first);  // waits for the next worker, until its deadline
          continue;
        }
        --s->queued;
        sendError(p->second->client, p->first, ErrorCode::kUnavailable,
                  "the last worker of '" + s->name + "' is gone");
        erasePending(p->first);
      }
      s->queue.assign(keep.begin(), keep.end());
    } else {
      dispatch(*s);
    }
  }
}

void BrokerCore::onTick(TimePoint now) {
  now_ = now;
  takeOverIfDue(now);
  while (Pending* due = deadlines_.popDue(now)) {
    Pending& p = *due;
    MessageId id = p.id;
    ++stats_.timeouts;
    sendError(p.client, id, ErrorCode::kTimeout, "deadline passed before a worker answered");
    if (p.durable) forget(id);
    if (p.state == Pending::State::kQueued) {
      --p.service->queued;
      erasePending(id);  // its queue entry is now stale and skipped
    } else {
      p.state = Pending::State::kAnswered;  // kept until the worker answers, to return its credit
      p.frames.clear();
    }
  }
  if (nextHeartbeat_ != TimePoint{} && now >= nextHeartbeat_) {
    nextHeartbeat_ = now + settings_.heartbeat;
    std::vector<PeerId> dead;
    for (auto& [peer, worker] : workers_) {
      auto silentFor = now - worker->lastSeen;
      auto interval = std::max(worker->heartbeat, settings_.heartbeat);
      if (silentFor > interval * settings_.liveness) {
        dead.push_back(peer);
      } else {
        sendEncoded(peer, codec::Heartbeat{});
      }
    }
    for (const auto& peer : dead) {
      ++stats_.workersLost;
      removeWorker(peer, "heartbeats stopped");
    }
    if (workers_.empty()) nextHeartbeat_ = TimePoint{};
  }
}

std::chrono::milliseconds BrokerCore::timeUntilNextTick(TimePoint now) const {
  constexpr std::chrono::milliseconds kIdle{1000};
  auto next = now + kIdle;
  next = std::min(next, deadlines_.next());
  if (nextHeartbeat_ != TimePoint{}) next = std::min(next, nextHeartbeat_);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
  // Round up, so the loop does not wake a fraction of a millisecond early and spin.
  if (next > now + wait) wait += std::chrono::milliseconds(1);
  return std::max(wait, std::chrono::milliseconds(0));
}

void BrokerCore::handleReserved(const PeerId& peer, const codec::Request& request) {
  std::string body;
  if (request.service == codec::kServicesService) {
    body = "{\"services\":[";
    bool first = true;
    for (const auto& info : services()) {
      if (!first) body += ",";
      first = false;
      body += "{\"name\":" + jsonString(info.name) + ",\"workers\":" + std::to_string(info.workers) +
              ",\"queued\":" + std::to_string(info.queued) + ",\"in_flight\":" + std::to_string(info.inFlight) + "}";
    }
    body += "]}";
  } else if (request.service == codec::kServiceService) {
    std::string name = request.body.empty() ? std::string() : std::string(request.body[0]);
    auto it = services_.find(name);
    if (it == services_.end() || it->second->workers.empty()) {
      sendError(peer, request.id, ErrorCode::kUnknownService, "no worker offers service '" + name + "'");
      return;
    }
    body = "{\"name\":" + jsonString(name) + ",\"workers\":" + std::to_string(it->second->workers.size()) +
           ",\"queued\":" + std::to_string(it->second->queued) + "}";
  } else if (request.service == codec::kPingService) {
    body = "pong";  // clients of a pool use it to tell a live broker from a dead one
  } else if (request.service == codec::kStatsService) {
    const auto& s = stats_;
    body = "{\"requests\":" + std::to_string(s.requests) + ",\"replies\":" + std::to_string(s.replies) +
           ",\"errors\":" + std::to_string(s.errors) + ",\"timeouts\":" + std::to_string(s.timeouts) +
           ",\"forbidden\":" + std::to_string(s.forbidden) + ",\"unknown_service\":" +
           std::to_string(s.unknownService) + ",\"rejected_full\":" + std::to_string(s.rejectedFull) +
           ",\"malformed\":" + std::to_string(s.malformed) + ",\"too_large\":" + std::to_string(s.tooLarge) +
           ",\"requeued\":" + std::to_string(s.requeued) + ",\"workers_lost\":" + std::to_string(s.workersLost) +
           ",\"sends_full\":" + std::to_string(s.sendsFull) + ",\"other_version\":" + std::to_string(s.otherVersion) +
           ",\"workers\":" + std::to_string(workers_.size()) + ",\"pending\":" + std::to_string(pending_.size()) +
           ",\"deadlines\":" + std::to_string(deadlines_.size()) + "}";
  } else {
    ++stats_.unknownService;
    sendError(peer, request.id, ErrorCode::kUnknownService,
              "no reserved service '" + std::string(request.service) + "'");
    return;
  }
  ++stats_.replies;
  codec::Reply reply{request.id, {{"content-type", "application/json"}}, {body}};
  sendEncoded(peer, reply);
}

void BrokerCore::forget(const MessageId& id) {
  if (journal_) journal_->remove(id);
}

void BrokerCore::setJournal(Journal* journal, TimePoint now) {
  journal_ = journal;
  if (!journal_) return;
  auto adopted = adopt(journal_->loadPending(), now);
  journal_->commit();
  if (adopted > 0) logger().information("took back " + std::to_string(adopted) + " durable request(s) from the journal");
  if (journal_->takeOverInterval().count() > 0) nextTakeOver_ = now + journal_->takeOverInterval();
}

std::size_t BrokerCore::adopt(std::vector<JournalEntry> entries, TimePoint now) {
  auto nowUnix = unixMs();
  std::size_t adopted = 0;
  for (auto& entry : entries) {
    auto left = entry.deadlineUnixMs - nowUnix;
    if (left <= 0) {
      journal_->remove(entry.id);  // expired while nobody held it
      continue;
    }
    if (pending_.contains(entry.id)) continue;
    std::vector<std::string_view> views(entry.frames.begin(), entry.frames.end());
    if (auto upgraded = codec::upgradeVersion1(views)) {
      // Written by a broker of protocol version 1: the same request in today's envelope.
      entry.frames = std::move(*upgraded);
      views.assign(entry.frames.begin(), entry.frames.end());
    }
    codec::Message message;
    auto error = codec::decodeInto(views, message);
    auto* request = std::get_if<codec::Request>(&message);
    if (error != codec::DecodeError::kNone || !request || request->id != entry.id) {
      // Never guess at a request: it stays in the journal, and the log says why.
      logger().error("journal entry %s is no request this broker can read (%s); left in the journal", entry.id.hex(),
                     std::string(error == codec::DecodeError::kNone ? "another request's id"
                                                                    : codec::decodeErrorName(error)));
      continue;
    }
    auto p = std::make_unique<Pending>();
    p->id = entry.id;
    p->clientName = entry.clientName;  // its client may retry the id to hear the answer
    p->durable = true;
    p->callerLayer = request->caller.name.empty() ? core::kMaxLayer : request->caller.layer;
    for (const auto& f : entry.frames) p->frames.emplace_back(f.data(), f.size());
    Service& service = serviceNamed(entry.service);
    p->service = &service;
    service.queue.push_back(entry.id);
    ++service.queued;
    deadlines_.push(*p, now, std::chrono::milliseconds(left));
    pending_.emplace(entry.id, std::move(p));
    ++stats_.restored;
    ++adopted;
  }
  return adopted;
}

void BrokerCore::takeOverIfDue(TimePoint now) {
  if (!journal_ || nextTakeOver_ == TimePoint{} || now < nextTakeOver_) return;
  nextTakeOver_ = now + journal_->takeOverInterval();
  try {
    auto adopted = adopt(journal_->takeOver(), now);
    if (adopted > 0) {
      logger().information("took over " + std::to_string(adopted) + " durable request(s) of a broker that stopped");
      for (auto& [name, service] : services_) dispatch(*service);
    }
  } catch (const std::exception& e) {
    logger().error("journal take-over failed: %s", std::string(e.what()));
  }
}

void BrokerCore::flushJournal() {
  if (!journal_ || !journal_->hasUncommitted()) return;
  try {
    journal_->commit();
  } catch (const std::exception& e) {
    // Not on disk, so not accepted: the clients hear so and may retry. The requests stay
    // in memory and may still be answered; a retry then finds them by id.
    logger().error("%s", std::string(e.what()));
    for (auto& [peer, id] : toAccept_) {
      sendError(peer, id, ErrorCode::kUnavailable, "the journal could not store the request");
    }
    toAccept_.clear();
    return;
  }
  for (auto& [peer, id] : toAccept_) {
    codec::Partial accepted{id, {{kAcceptedHeader, "1"}}, {}};
    sendEncoded(peer, accepted);
  }
  toAccept_.clear();
}

std::vector<ServiceInfo> BrokerCore::services() const {
  std::vector<ServiceInfo> out;
  for (const auto& [name, s] : services_) {
    if (s->workers.empty() && s->queued == 0) continue;
    out.push_back({name, s->workers.size(), s->queued, s->inFlight});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::size_t BrokerCore::workerCount() const { return workers_.size(); }

void BrokerCore::sendError(const PeerId& peer, const MessageId& id, ErrorCode code, std::string_view text) {
  ++stats_.errors;
  sendEncoded(peer, codec::Error{id, code, text});
}

void BrokerCore::sendDisconnect(const PeerId& peer, std::string_view reason) {
  sendEncoded(peer, codec::Disconnect{reason});
}

void BrokerCore::sendEncoded(const PeerId& peer, const codec::Message& message) {
  FrameList out;
  for (auto& frame : codec::encode(message)) out.emplace_back(frame.data(), frame.size());
  send(peer, std::move(out));
}

}  // namespace strata::broker
