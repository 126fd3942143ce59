#include "watch_relay.h"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/codecs/payload.h>
#include <strata/integrations/http/error_status.h>

namespace strata::integrations::http {

namespace {

using Poco::JSON::Object;

Object::Ptr parseObject(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string stringify(const Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

// A refusal that asking again will not change.
bool isFinal(codecs::ErrorCode code) {
  switch (code) {
    case codecs::ErrorCode::kForbidden:
    case codecs::ErrorCode::kMalformed:
    case codecs::ErrorCode::kUnknownService:
    case codecs::ErrorCode::kTooLarge: return true;
    default: return false;
  }
}

}  // namespace

std::string sseEvent(std::string_view type, std::string_view id, std::string_view data) {
  std::string out;
  out.reserve(data.size() + type.size() + id.size() + 32);
  if (!type.empty()) out.append("event: ").append(type).append("\n");
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  // A line break inside data would end the field: each line is a data line of its own.
  std::size_t start = 0;
  while (start <= data.size()) {
    auto end = data.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = data.size();
    out.append("data: ").append(data.substr(start, end - start)).append("\n");
    if (end == data.size()) break;
    start = end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
  }
  out.append("\n");
  return out;
}

WatchRelay::WatchRelay(BusStreamCall call, std::shared_ptr<Stream> out, Target target, Options options)
    : call_(std::move(call)), out_(std::move(out)), target_(std::move(target)), options_(std::move(options)) {
  sent_ = target_.after;
}

void WatchRelay::start() { ask(); }

void WatchRelay::ask() {
  BusRequest request;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    // The browser went away: no more requests (those in flight end by themselves).
    if (stopped_ || out_->closed()) {
      stopped_ = true;
      return;
    }
    generation = ++generation_;
    Object body;
    body.set("collection", target_.collection);
    if (!target_.prefix.empty()) body.set("prefix", target_.prefix);
    if (sent_ > 0) body.set("after", sent_);
    request.service = options_.service;
    request.body = stringify(body);
    request.headers = target_.headers;
    request.headers.emplace_back(codecs::kContentTypeHeader, codecs::kJsonType);
    request.timeout = options_.streamTimeout;
  }
  auto self = shared_from_this();
  bool sent = call_(
      request, [self, generation](BusReply&& reply) { self->onPartial(generation, std::move(reply)); },
      [self, generation](BusReply&& reply) { self->onFinal(generation, std::move(reply)); });
  if (!sent) retryLater();
}

void WatchRelay::retryLater() {
  std::weak_ptr<WatchRelay> weak = shared_from_this();
  out_->after(options_.retryDelay, [weak] {
    if (auto self = weak.lock()) self->ask();
  });
}

void WatchRelay::onPartial(std::uint64_t generation, BusReply&& reply) {
  bool askAgain = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || generation != generation_) return;
    auto body = parseObject(reply.body);
    auto type = body ? body->optValue<std::string>("type", "") : "";
    if (type == "snapshot") {
      out_->send(sseEvent("snapshot", "", reply.body));
      return;
    }
    if (type != "changes") return;  // nothing else comes as a partial
    auto from = body->optValue<std::int64_t>("from", 0);
    auto to = body->optValue<std::int64_t>("to", 0);
    if (to <= sent_) return;  // sent already (a request resent after a broker was lost)
    if (from > sent_) {
      // Something between went missing: ask again from what was sent.
      ++generation_;
      askAgain = true;
    } else {
      std::string data = reply.body;
      if (from < sent_) {
        // Partly sent already: only the changes after sent_ go out.
        auto changes = body->getArray("changes");
        Poco::JSON::Array::Ptr kept = new Poco::JSON::Array;
        for (std::size_t i = 0; changes && i < changes->size(); ++i) {
          auto change = changes->getObject(static_cast<unsigned>(i));
          if (change && change->optValue<std::int64_t>("revision", 0) > sent_) kept->add(change);
        }
        body->set("from", sent_);
        body->set("changes", kept);
        data = stringify(*body);
      }
      out_->send(sseEvent("changes", std::to_string(to), data));
      sent_ = to;
    }
  }
  if (askAgain) ask();
}

void WatchRelay::onFinal(std::uint64_t generation, BusReply&& reply) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || generation != generation_) return;
  }
  if (!reply.ok()) {
    if (isFinal(*reply.error)) {
      fail(codecs::errorCodeName(*reply.error), reply.errorText);
    } else {
      retryLater();  // the store or its broker is away for now
    }
    return;
  }
  auto body = parseObject(reply.body);
  auto type = body ? body->optValue<std::string>("type", "") : "";
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (type == "ready") {
      auto revision = body->optValue<std::int64_t>("revision", 0);
      out_->send(sseEvent("ready", std::to_string(revision), reply.body));
      sent_ = revision;
    } else if (type == "end") {
      sent_ = std::max(sent_, body->optValue<std::int64_t>("to", sent_));
    } else if (type == "reset") {
      out_->send(sseEvent("reset", "", reply.body));
      sent_ = 0;
    } else {
      type.clear();
    }
  }
  if (type.empty()) {
    fail("internal", "the store answered the watch with something that is not a watch answer");
    return;
  }
  ask();
}

void WatchRelay::fail(std::string_view code, std::string_view message) {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  out_->send(sseEvent("refused", "", errorBody(code, message)));
  out_->close();
}

}  // namespace strata::integrations::http
