#include "pool_view.h"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace strata::admin {

namespace {

// {"url":..,"reachable":..,key:value} as one line of JSON.
std::string entryJson(const std::string& url, bool reachable, const std::string& key, const Poco::Dynamic::Var& value) {
  Poco::JSON::Object out;
  out.set("url", url);
  out.set("reachable", reachable);
  out.set(key, value);
  std::ostringstream text;
  Poco::JSON::Stringifier::condense(out, text);
  return text.str();
}

std::string entry(const std::string& url, const std::string& stats) {
  return entryJson(url, true, "stats", Poco::JSON::Parser().parse(stats).extract<Poco::JSON::Object::Ptr>());
}

std::string unreachable(const std::string& url, const std::string& why) { return entryJson(url, false, "error", why); }

}  // namespace

PoolView::PoolView(std::vector<std::string> peers, std::optional<std::string> token,
                   std::function<std::string()> ownStats)
    : peers_(std::move(peers)), token_(std::move(token)), ownStats_(std::move(ownStats)) {}

std::string PoolView::fetch(const std::string& url) const {
  try {
    Poco::URI uri(url);
    Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
    session.setTimeout(Poco::Timespan(static_cast<long>(kPeerTimeout.count() * 1000)));
    auto path = uri.getPath();
    while (!path.empty() && path.back() == '/') path.pop_back();
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path + "/api/stats",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    if (token_) request.set("Authorization", "Bearer " + *token_);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      return unreachable(url, "/api/stats answered " + std::to_string(static_cast<int>(response.getStatus())) +
                                  (response.getStatus() == Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED
                                       ? " (the pool's brokers must share strata.admin.token_file)"
                                       : ""));
    }
    return entry(url, body);
  } catch (const Poco::Exception& e) {
    return unreachable(url, e.displayText());
  }
}

std::string PoolView::json() {
  std::string own = entry("", ownStats_());
  std::vector<std::string> peers;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - takenAt_ >= kFresh || peerEntries_.size() != peers_.size()) {
      peerEntries_.clear();
      for (const auto& url : peers_) peerEntries_.push_back(fetch(url));
      takenAt_ = std::chrono::steady_clock::now();
    }
    peers = peerEntries_;
  }
  std::string out = "{\"brokers\":[" + own;
  for (const auto& p : peers) out += "," + p;
  return out + "]}";
}

}  // namespace strata::admin
