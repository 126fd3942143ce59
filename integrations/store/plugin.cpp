// The object store as a plug-in: reads strata.plugin.store.* through the host, builds a
// StoreService and offers store.put, store.patch, store.delete, store.get, store.list and
// store.watch. Everything else is in strata_store_core.
#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include <strata/codecs/payload.h>
#include <strata/integrations/sql/request_log.h>
#include <strata/integrations/store/store_service.h>
#include <strata/plugin.h>

namespace {

using strata::integrations::store::Caller;
using strata::integrations::store::StoreConfig;
using strata::integrations::store::StoreResult;
using strata::integrations::store::StoreService;
using strata::integrations::store::WatchSink;

constexpr std::string_view kJson = "application/json";


// A watch stream: the partial replies of a detached store.watch request.
class StreamSink final : public WatchSink {
 public:
  explicit StreamSink(strata::plugin::LaterReply reply) : reply_(std::move(reply)) {}
  void send(std::string body) override {
    reply_.header("content-type", kJson);
    reply_.frame(body);
    reply_.partial();
  }
  void finish(std::string body) override {
    reply_.header("content-type", kJson);
    reply_.frame(body);
    reply_.finish();
  }

 private:
  strata::plugin::LaterReply reply_;
};

class StorePlugin : public strata::plugin::Plugin {
 public:
  explicit StorePlugin(strata::plugin::Host& host) {
    std::map<std::string, std::string> keys;
    for (const auto& key : host.configKeys()) keys.emplace(key, host.config(key).value_or(""));
    service_ = std::make_unique<StoreService>(StoreConfig::fromKeys(keys, host.dataDir()));
    for (auto name : {StoreService::kPut, StoreService::kPatch, StoreService::kDelete}) {
      host.addService(std::string(name), [this, name](const auto& request, auto& reply) {
        answer(reply, service_->write(name, strata::integrations::sql::RequestLog::keyOf(request.id()), callerOf(request), request.body()));
      });
    }
    host.addService(std::string(StoreService::kGet), [this](const auto& request, auto& reply) {
      answer(reply, service_->get(callerOf(request), request.body()));
    });
    host.addService(std::string(StoreService::kList), [this](const auto& request, auto& reply) {
      answer(reply, service_->list(callerOf(request), request.body()));
    });
    host.addService(std::string(StoreService::kWatch), [this](const auto& request, auto& reply) {
      bool detached = false;
      StoreService::WatchReply out;
      out.partial = [&reply](std::string body) {
        reply.header("content-type", kJson);
        reply.frame(body);
        reply.partial();
      };
      out.detach = [&reply, &detached]() -> std::unique_ptr<WatchSink> {
        auto later = reply.detach();
        if (!later) return nullptr;
        detached = true;
        return std::make_unique<StreamSink>(std::move(*later));
      };
      auto result = service_->watch(callerOf(request), request.body(), request.timeLeft(), out);
      if (!detached) answer(reply, result);
    });
    const auto& config = service_->config();
    host.info("store: ready on " + std::string(strata::integrations::sql::connectorName(config.database.dialect)) +
              ", keeping " + std::to_string(config.database.retention) + " changes, at most " +
              std::to_string(config.feed.maxWatches) + " watches");
  }

 private:
  // The node that called, or the outside caller a gateway calls for: then only that
  // caller's layer counts (never further in than the node's own), and no key name's
  // rights pass through.
  static Caller callerOf(const strata::plugin::Request& request) {
    Caller caller{std::string(request.callerName()), request.callerLayer()};
    auto layer = request.header(strata::codecs::kPrincipalLayerHeader);
    if (!layer) return caller;
    int outside = (layer->size() == 1 && (*layer)[0] >= '0' && (*layer)[0] <= '4') ? (*layer)[0] - '0' : 4;
    return {std::string(), std::max(caller.layer, outside)};
  }

  static void answer(strata::plugin::Reply& reply, const StoreResult& result) {
    if (!result.ok()) {
      reply.error(result.code, result.text);
      return;
    }
    reply.header("content-type", kJson);
    reply.frame(result.body);
  }

  std::unique_ptr<StoreService> service_;
};

}  // namespace

STRATA_PLUGIN(StorePlugin, "store", "1.0.0",
              "objects with revisions, compare-and-set, attribute rights and watches, on SQLite or PostgreSQL",
              "connector", "database", "pool_size", "retention", "max_watches", "poll_ms", "watch_ms",
              "max_body_bytes", "read", "write", "collection.*")
