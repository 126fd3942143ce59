#include <strata/broker/broker_core.h>

#include <algorithm>

#include <Poco/Logger.h>

#include <strata/core/layer_policy.h>
#include <strata/core/service_name.h>

#include "event_hub.h"
#include "pending_requests.h"
#include "reserved_services.h"
#include "service_table.h"

namespace strata::broker {

namespace codec = strata::codecs;
using codec::ErrorCode;
using core::MessageId;
using core::TimePoint;
using Move = PendingRequests::Move;

namespace {

Poco::Logger& logger() { return Poco::Logger::get("strata.broker"); }

bool isDurable(const codec::Request& request) {
  for (const auto& h : request.headers)
    if (h.key == codec::kDurableHeader) return h.value == "1";
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

}  // namespace

BrokerCore::BrokerCore(BrokerSettings settings, std::shared_ptr<const core::AuthorizedKeys> keys,
                       core::LayerPolicy policy, Outbox& outbox)
    : settings_(settings),
      keys_(std::move(keys)),
      policy_(std::move(policy)),
      outbox_(outbox),
      table_(std::make_unique<ServiceTable>()),
      pending_(std::make_unique<PendingRequests>()),
      events_(std::make_unique<EventHub>(settings_.events, policy_,
                                         [this](const PeerId& peer, FrameList& frames) { return sendNow(peer, frames); })) {}

BrokerCore::~BrokerCore() = default;

void BrokerCore::onMessage(const PeerId& peer, std::string_view userId, FrameList& frames, TimePoint now) {
  now_ = now;
  viewsOf(frames, views_);
  auto error = codec::decodeInto(codec::Frames(views_.data(), views_.size()), decoded_);
  if (error != codec::DecodeError::kNone) {
    ++taken_;
    handleMalformed(peer, nameOf(userId), frames, error, now);
    return;
  }
  if (auto* batch = std::get_if<codec::Batch>(&decoded_)) {
    onBatch(peer, userId, *batch, now);
    return;
  }
  ++taken_;
  const core::Identity* who = keys_->lookup(userId);
  if (!who) {
    // ZAP let the connection in; a reload has since taken its key away.
    refuseUnlisted(peer, decoded_, now);
    return;
  }
  // By role first, then by command: what a registered worker may send differs from what
  // any other peer may (a worker's node may publish and subscribe too).
  if (Worker* worker = table_->worker(peer)) {
    worker->lastSeen = now;
    bool workerCommand = std::visit(
        [](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          return std::is_same_v<T, codec::Reply> || std::is_same_v<T, codec::Error> ||
                 std::is_same_v<T, codec::Partial> || std::is_same_v<T, codec::Credit> ||
                 std::is_same_v<T, codec::Heartbeat> || std::is_same_v<T, codec::Disconnect>;
        },
        decoded_);
    if (workerCommand) {
      handleFromWorker(peer, frames, decoded_);
      return;
    }
  }
  handleFromPeer(peer, *who, frames, decoded_, now);
}

void BrokerCore::onBatch(const PeerId& peer, std::string_view userId, codec::Batch& batch, TimePoint now) {
  // Each message as if it had come alone. It is copied out of the batch's frame: a request
  // is held, and its frame passed on, after the batch is gone. The list is swapped out
  // (and back, keeping its capacity) because decoding the next message reuses decoded_.
  std::vector<std::string_view> messages;
  messages.swap(batchMessages_);
  messages.swap(batch.messages);
  for (auto message : messages) {
    batched_.clear();
    batched_.emplace_back(message.data(), message.size());
    onMessage(peer, userId, batched_, now);
  }
  messages.clear();
  batchMessages_.swap(messages);
}

void BrokerCore::handleFromWorker(const PeerId& peer, FrameList& frames, codec::Message& message) {
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
        } else if constexpr (std::is_same_v<T, codec::Subscribe>) {
          events_->onSubscribe(peer, who, m, now);
        } else if constexpr (std::is_same_v<T, codec::Unsubscribe>) {
          events_->onUnsubscribe(peer, who, m);
        } else if constexpr (std::is_same_v<T, codec::Publish>) {
          events_->onPublish(peer, who, m);
        } else if constexpr (std::is_same_v<T, codec::Received>) {
          events_->onReceived(peer, m, now);
        } else if constexpr (std::is_same_v<T, codec::Accepted> || std::is_same_v<T, codec::Events>) {
          // What only a broker sends: a peer that sends it is broken or hostile.
          handleMalformed(peer, who.name, frames, codec::DecodeError::kUnknownCommand, now);
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

void BrokerCore::refuseUnlisted(const PeerId& peer, const codec::Message& message, TimePoint now) {
  ++stats_.unlisted;
  constexpr std::string_view kWhy = "this connection's key is no longer in strata.authorized_keys";
  if (badInputLog_.allow("unlisted", now)) {
    logger().warning("message refused reason=\"key no longer authorized\" (%z more held back since the last line)",
                     badInputLog_.suppressed("unlisted"));
  }
  if (table_->worker(peer)) removeWorker(peer, "its key is no longer authorized");
  if (const auto* request = std::get_if<codec::Request>(&message)) {
    ++stats_.forbidden;
    sendError(peer, request->id, ErrorCode::kForbidden, std::string(kWhy));
  } else if (!std::holds_alternative<codec::Disconnect>(message)) {
    sendDisconnect(peer, kWhy);
  }
}

std::string BrokerCore::nameOf(std::string_view userId) const {
  if (userId.empty()) return "anonymous";
  const core::Identity* who = keys_->lookup(userId);
  return who ? who->name : "an unlisted key";
}

void BrokerCore::replaceKeys(std::shared_ptr<const core::AuthorizedKeys> keys) {
  auto changed = core::AuthorizedKeys::changedNames(*keys_, *keys);
  keys_ = std::move(keys);
  ++stats_.keyReloads;
  if (changed.empty()) return;
  auto isChanged = [&](const std::string& name) { return std::binary_search(changed.begin(), changed.end(), name); };
  std::vector<PeerId> workers;
  for (const auto& [peer, worker] : table_->workers())
    if (isChanged(worker->name)) workers.push_back(peer);
  for (const auto& peer : workers) {
    removeWorker(peer, "its key or layer changed in strata.authorized_keys");
    sendDisconnect(peer, "its key or layer changed in strata.authorized_keys: register again");
  }
  auto sessions = events_->endSessionsOf(isChanged, "its key or layer changed in strata.authorized_keys");
  logger().information("keys changed names=%z workers_sent_away=%z subscriber_sessions_ended=%z", changed.size(),
                       workers.size(), sessions);
}

void BrokerCore::onOversized(const PeerId& peer, std::string_view userId, FrameList& frames, TimePoint now) {
  now_ = now;
  ++taken_;
  ++stats_.tooLarge;
  std::string key = nameOf(userId);
  if (badInputLog_.allow(key, now)) {
    logger().warning("dropped an oversized message from %s (%z more held back since the last line)", key,
                     badInputLog_.suppressed(key));
  }
  if (auto id = codec::peekRequestId(frames.front().to_string_view())) {
    sendError(peer, *id, ErrorCode::kTooLarge, "message exceeds the broker's size or frame limits");
  }
}

void BrokerCore::handleMalformed(const PeerId& peer, std::string_view sender, FrameList& frames,
                                 codec::DecodeError error, TimePoint now) {
  std::string key(sender);
  if (auto refusal = codec::versionRefusal(codec::Frames(views_.data(), views_.size()))) {
    // A peer of an older version would not understand our answer: tell it in its own.
    ++stats_.otherVersion;
    if (badInputLog_.allow(key, now)) {
      logger().warning("refused %s: it speaks protocol version %u, this broker version %u", key,
                       static_cast<unsigned>(*codec::peekVersion(views_.front())),
                       static_cast<unsigned>(codec::kVersion));
    }
    out_.clear();
    for (auto& frame : *refusal) out_.emplace_back(frame.data(), frame.size());
    send(peer, out_);
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
                               codec::Request& request, TimePoint now) {
  ++stats_.requests;
  if (core::isReservedService(request.service)) {
    events_->onSeen(peer, now);  // a subscriber's client pings (strata.ping) while it waits
    handleReserved(peer, request);
    return;
  }
  auto timeout = std::chrono::milliseconds(request.timeoutMs);
  if (Pending* held = pending_->find(request.id)) {
    if (held->clientName != who.name) {
      // Another identity must never receive this request's answer.
      sendError(peer, request.id, ErrorCode::kMalformed, "request id already in use");
      return;
    }
    // A retry of a request still in hand: answer it where the retry came from, once.
    held->client = peer;
    if (held->state != Pending::State::kAnswered) return;
    // It timed out at a worker that still holds it; the retry starts it afresh.
    writeForWorkers(frames, request, who);
    std::swap(held->frames, frames);
    pending_->apply(*held, {Move::kEnqueue, now, timeout});
    dispatch(*held->service);
    return;
  }
  bool durable = isDurable(request);
  if (durable && !journal_) {
    sendError(peer, request.id, ErrorCode::kUnavailable, "this broker keeps no journal (strata.journal)");
    return;
  }
  Service* service = table_->find(request.service);
  if (!service || service->workers.empty()) {
    if (!durable) {
      ++stats_.unknownService;
      sendError(peer, request.id, ErrorCode::kUnknownService,
                "no worker offers service '" + std::string(request.service) + "'");
      return;
    }
    // A durable request waits for a worker; the policy is checked when one is there.
    service = &table_->named(request.service);
  }
  if (service->layer >= 0 && !policy_.allows(who.layer, service->layer, service->name)) {
    ++stats_.forbidden;
    sendError(peer, request.id, ErrorCode::kForbidden, core::mayNotCall(who.layer, service->name, service->layer));
    return;
  }
  if (service->queued >= settings_.queueMax) {
    ++stats_.rejectedFull;
    sendError(peer, request.id, ErrorCode::kUnavailable, "service '" + service->name + "' has a full queue");
    return;
  }
  writeForWorkers(frames, request, who);
  if (durable) {
    // The journal keeps the request as a worker would get it, caller included, so that
    // whoever adopts it later knows who asked.
    JournalEntry entry{request.id, service->name, who.name, unixMs() + static_cast<std::int64_t>(request.timeoutMs),
                       {}};
    for (const auto& frame : frames) entry.frames.push_back(frame.to_string());
    journal_->append(entry);
    toAccept_.emplace_back(peer, request.id);
    ++stats_.durable;
    ++durableHeld_;
  }
  Pending& p = pending_->create(request.id, *service);
  p.arrived = now;
  ++service->counters.requests;
  p.client = peer;
  p.clientName = who.name;
  p.callerLayer = who.layer;
  p.durable = durable;
  // A swap, not a move: the caller's list gets back a spare one with its capacity.
  std::swap(p.frames, frames);
  pending_->apply(p, {Move::kEnqueue, now, timeout});
  dispatch(*service);
}

void BrokerCore::writeForWorkers(FrameList& frames, codec::Request& request, const core::Identity& who) {
  // Whatever the client put in the caller field is overwritten, so it can never claim
  // another name. Written once, when the request comes; each dispatch then only copies it
  // and patches the time left. An inline body is copied along with the envelope.
  request.caller = codec::Caller{static_cast<std::uint8_t>(who.layer), who.name};
  zmq::message_t envelope(codec::envelopeSize(request));
  codec::writeEnvelope(request, envelope.data<char>());
  frames.front() = std::move(envelope);
}

void BrokerCore::dispatch(Service& service) {
  while (!service.queue.empty() && !service.workers.empty()) {
    Pending* p = pending_->find(service.queue.front());
    if (!p || p->state != Pending::State::kQueued || p->service != &service) {
      service.queue.pop_front();  // stale: expired or answered while it waited
      continue;
    }
    Worker* chosen = table_->choose(service);
    if (!chosen) return;
    service.queue.pop_front();
    if (p->durable && !policy_.allows(p->callerLayer, service.layer, service.name)) {
      ++stats_.forbidden;
      sendError(p->client, p->id, ErrorCode::kForbidden, core::mayNotCall(p->callerLayer, service.name, service.layer));
      forget(p->id);
      pending_->apply(*p, {Move::kFinish});
      continue;
    }
    pending_->apply(*p, {Move::kDispatch, now_, {}, chosen});
    --chosen->credit;
    chosen->outstanding.insert(p->id);
    sendToWorker(*chosen, *p);
  }
}

void BrokerCore::sendToWorker(Worker& worker, Pending& p) {
  // The envelope as it was made for workers when the request came (writtenForWorkers),
  // with the time left rather than the time the client first gave. Body frames go on as
  // they are; ZeroMQ shares the buffer of a large frame instead of copying it.
  const auto& envelope = p.frames.front();
  out_.clear();
  out_.emplace_back(envelope.data(), envelope.size());
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(p.deadline - now_).count();
  codec::patchTimeout(out_.front().data<char>(), static_cast<std::uint32_t>(std::max<long long>(1, left)));
  for (std::size_t i = 1; i < p.frames.size(); ++i) out_.push_back(copyOf(p.frames[i]));
  send(worker.peer, out_);
}

SendResult BrokerCore::send(const PeerId& peer, FrameList& frames) {
  return noteSent(peer, outbox_.post(peer, frames), 1);
}

SendResult BrokerCore::sendNow(const PeerId& peer, FrameList& frames) {
  return noteSent(peer, outbox_.send(peer, frames), 1);
}

void BrokerCore::onUnsent(const PeerId& peer, std::size_t count, SendResult result) { noteSent(peer, result, count); }

SendResult BrokerCore::noteSent(const PeerId& peer, SendResult result, std::size_t count) {
  if (result == SendResult::kFull) {
    // The peer reads slower than it is sent to. What was not sent is settled as if lost:
    // a request by its deadline, an answer by the client's retry.
    stats_.sendsFull += count;
    if (badInputLog_.allow("full:" + peer, now_)) {
      logger().warning("a peer's queue is full; dropped %z message(s) to it (%z more held back since the last line)",
                       count, badInputLog_.suppressed("full:" + peer));
    }
  }
  return result;
}

void BrokerCore::handleWorkerAnswer(const PeerId& peer, FrameList& frames, const MessageId& id, bool final) {
  Worker& worker = *table_->worker(peer);
  if (final) ServiceTable::returnCredit(worker, id);
  Pending* p = pending_->find(id);
  // Not ours (any more): answered by a timeout, or moved to another worker. Dropped.
  bool ours = p && p->worker == &worker;
  if (ours && p->state == Pending::State::kAtWorker) {
    if (final) {
      bool error = std::holds_alternative<codec::Error>(decoded_);
      ++(error ? stats_.errors : stats_.replies);
      auto& counters = p->service->counters;
      ++(error ? counters.errors : counters.replies);
      counters.durations.observe(std::chrono::duration<double>(now_ - p->arrived).count());
    }
    send(p->client, frames);
  }
  if (!final) return;
  if (ours) {
    if (p->durable) forget(id);
    pending_->apply(*p, {Move::kFinish});
  }
  for (Service* s : worker.services) dispatch(*s);
}

void BrokerCore::handleCredit(const PeerId& peer, std::uint32_t credit) {
  Worker& worker = *table_->worker(peer);
  ServiceTable::addCredit(worker, credit);
  for (Service* s : worker.services) dispatch(*s);
}

void BrokerCore::handleReady(const PeerId& peer, const core::Identity& who, const codec::Ready& ready,
                             TimePoint now) {
  if (table_->worker(peer)) removeWorker(peer, "it registered again");
  if (auto refusal = table_->refusal(who, ready)) {
    sendDisconnect(peer, *refusal);
    return;
  }
  Worker& worker = table_->add(peer, who, ready, now);
  logger().information("worker registered name=%s layer=%d credit=%u services=%z", who.name, who.layer,
                       static_cast<unsigned>(ready.credit), worker.services.size());
  if (nextHeartbeat_ == TimePoint{}) nextHeartbeat_ = now + settings_.heartbeat;
  for (Service* s : worker.services) dispatch(*s);
}

void BrokerCore::removeWorker(const PeerId& peer, const char* why) {
  auto worker = table_->detach(peer);
  if (!worker) return;
  std::size_t moved = 0;
  for (const auto& id : worker->outstanding) {
    Pending* p = pending_->find(id);
    if (!p || p->worker != worker.get()) continue;
    if (p->state == Pending::State::kAnswered) {
      pending_->apply(*p, {Move::kFinish});
      continue;
    }
    pending_->apply(*p, {Move::kRequeueFront});
    ++moved;
  }
  stats_.requeued += moved;
  logger().information("worker removed name=%s reason=\"%s\" requests_moved=%z", worker->name, std::string(why),
                       moved);
  for (Service* s : worker->services) {
    if (s->workers.empty()) {
      failQueued(*s);
    } else {
      dispatch(*s);
    }
  }
}

void BrokerCore::failQueued(Service& s) {
  // Nobody left to serve what waits: answer now rather than at the deadline. Durable
  // requests wait for the next worker, until their deadline.
  std::deque<MessageId> keep;
  while (!s.queue.empty()) {
    MessageId id = s.queue.front();
    s.queue.pop_front();
    Pending* p = pending_->find(id);
    if (!p || p->state != Pending::State::kQueued || p->service != &s) continue;
    if (p->durable) {
      keep.push_back(id);
      continue;
    }
    sendError(p->client, id, ErrorCode::kUnavailable, "the last worker of '" + s.name + "' is gone");
    pending_->apply(*p, {Move::kFinish});
  }
  s.queue = std::move(keep);
}

void BrokerCore::onTick(TimePoint now) {
  now_ = now;
  events_->onTick(now);
  takeOverIfDue(now);
  while (Pending* due = pending_->popDue(now)) {
    ++stats_.timeouts;
    if (due->state != Pending::State::kAnswered) {
      auto& counters = due->service->counters;
      ++counters.errors;
      counters.durations.observe(std::chrono::duration<double>(now - due->arrived).count());
    }
    sendError(due->client, due->id, ErrorCode::kTimeout, "deadline passed before a worker answered");
    if (due->durable) forget(due->id);
    pending_->apply(*due, {Move::kTimeOut});  // a queued one is gone; its queue entry is skipped
  }
  checkHeartbeats(now);
}

void BrokerCore::checkHeartbeats(TimePoint now) {
  if (nextHeartbeat_ == TimePoint{} || now < nextHeartbeat_) return;
  nextHeartbeat_ = now + settings_.heartbeat;
  std::vector<PeerId> dead;
  for (const auto& [peer, worker] : table_->workers()) {
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
  if (table_->workerCount() == 0) nextHeartbeat_ = TimePoint{};
}

std::chrono::milliseconds BrokerCore::timeUntilNextTick(TimePoint now) const {
  constexpr std::chrono::milliseconds kIdle{1000};
  auto next = now + kIdle;
  next = std::min(next, pending_->nextDeadline());
  if (nextHeartbeat_ != TimePoint{}) next = std::min(next, nextHeartbeat_);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
  // Round up, so the loop does not wake a fraction of a millisecond early and spin.
  if (next > now + wait) wait += std::chrono::milliseconds(1);
  return std::max(wait, std::chrono::milliseconds(0));
}

void BrokerCore::describeSelf(std::string name, TimePoint started) {
  name_ = std::move(name);
  started_ = started;
}

void BrokerCore::handleReserved(const PeerId& peer, const codec::Request& request) {
  auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(now_ - started_);
  auto answer = answerReserved(request, *table_, stats_, *pending_, *events_, Self{name_, uptime});
  if (!answer.ok) {
    if (answer.noSuchService) ++stats_.unknownService;
    sendError(peer, request.id, answer.code, answer.text);
    return;
  }
  ++stats_.replies;
  codec::Reply reply{request.id, {{"content-type", "application/json"}}, {answer.body}};
  sendEncoded(peer, reply);
}

void BrokerCore::forget(const MessageId& id) {
  if (!journal_) return;
  journal_->remove(id);
  if (durableHeld_ > 0) --durableHeld_;
}

void BrokerCore::setJournal(Journal* journal, TimePoint now) {
  journal_ = journal;
  if (!journal_) return;
  auto adopted = adopt(journal_->loadPending(), now);
  journal_->commit();
  if (adopted > 0) logger().information("journal restored durable_requests=" + std::to_string(adopted));
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
    if (pending_->find(entry.id)) continue;
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
    Pending& p = pending_->create(entry.id, table_->named(entry.service));
    p.clientName = entry.clientName;  // its client may retry the id to hear the answer
    p.durable = true;
    p.arrived = now;
    ++durableHeld_;
    p.callerLayer = request->caller.name.empty() ? core::kMaxLayer : request->caller.layer;
    for (const auto& f : entry.frames) p.frames.emplace_back(f.data(), f.size());
    pending_->apply(p, {Move::kEnqueue, now, std::chrono::milliseconds(left)});
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
      logger().information("journal takeover durable_requests=" + std::to_string(adopted) +
                           " reason=\"a broker of the pool stopped renewing its lease\"");
      for (const auto& [name, service] : table_->services()) dispatch(*service);
    }
  } catch (const std::exception& e) {
    logger().error("journal take-over failed: %s", std::string(e.what()));
  }
}

void BrokerCore::flushJournal() {
  if (!journal_ || !journal_->hasUncommitted()) return;
  try {
    // Real time, not the core's clock: what the disk took is the figure.
    auto started = std::chrono::steady_clock::now();
    journal_->commit();
    journalCommits_.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
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
    codec::Partial accepted{id, {{codec::kAcceptedHeader, "1"}}, {}};
    sendEncoded(peer, accepted);
  }
  toAccept_.clear();
}

void BrokerCore::flushEvents() { events_->flush(); }

std::vector<ServiceInfo> BrokerCore::services(bool everyCounted) const { return table_->infos(everyCounted); }

std::array<std::size_t, core::kMaxLayer + 1> BrokerCore::workersByLayer() const {
  std::array<std::size_t, core::kMaxLayer + 1> out{};
  for (const auto& [peer, worker] : table_->workers()) {
    if (worker->layer >= core::kMinLayer && worker->layer <= core::kMaxLayer) ++out[static_cast<std::size_t>(worker->layer)];
  }
  return out;
}

std::size_t BrokerCore::journaled() const { return durableHeld_; }
std::size_t BrokerCore::held() const { return pending_->size(); }

std::size_t BrokerCore::workerCount() const { return table_->workerCount(); }

void BrokerCore::sendError(const PeerId& peer, const MessageId& id, ErrorCode code, std::string_view text) {
  ++stats_.errors;
  sendEncoded(peer, codec::Error{id, code, text});
}

void BrokerCore::sendDisconnect(const PeerId& peer, std::string_view reason) {
  sendEncoded(peer, codec::Disconnect{reason});
}

void BrokerCore::sendEncoded(const PeerId& peer, const codec::Message& message) {
  out_.clear();
  for (auto& frame : codec::encode(message)) out_.emplace_back(frame.data(), frame.size());
  send(peer, out_);
}

}  // namespace strata::broker
