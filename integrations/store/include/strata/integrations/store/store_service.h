#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <strata/integrations/store/access.h>
#include <strata/integrations/store/change_feed.h>
#include <strata/integrations/store/object_store.h>
#include <strata/plugin_abi.h>

namespace strata::integrations::store {

// The store's settings: the keys under strata.plugin.store. (docs/integrations.md).
struct StoreConfig {
  static constexpr std::string_view kKeyPrefix = "strata.plugin.store.";
  static constexpr std::string_view kDefaultSqliteFile = "store.db";

  ObjectStore::Settings database;
  ChangeFeed::Settings feed;
  AccessRules rules;
  std::size_t maxBodyBytes = 1024 * 1024;
  std::chrono::milliseconds watchStream{30000};  // how long one watch stream lasts before renewal

  // Reads the keys given without the prefix. Throws strata::ConfigError naming the full
  // key on a bad value.
  static StoreConfig fromKeys(const std::map<std::string, std::string>& keys, const std::filesystem::path& dataDir);
};

// What a service call comes to: a body, or an error code (strata_error) and text.
struct StoreResult {
  strata_error code = STRATA_OK;
  std::string text;
  std::string body;
  static StoreResult success(std::string body) { return {STRATA_OK, {}, std::move(body)}; }
  static StoreResult failure(strata_error code, std::string text) { return {code, std::move(text), {}}; }
  bool ok() const { return code == STRATA_OK; }
};

// The services store.put, store.patch, store.delete, store.get, store.list and
// store.watch over JSON bodies (the shapes are in docs/integrations.md). Every answer
// holds only the attributes its caller may read. Thread-safe.
class StoreService {
 public:
  static constexpr std::string_view kPut = "store.put";
  static constexpr std::string_view kPatch = "store.patch";
  static constexpr std::string_view kDelete = "store.delete";
  static constexpr std::string_view kGet = "store.get";
  static constexpr std::string_view kList = "store.list";
  static constexpr std::string_view kWatch = "store.watch";

  explicit StoreService(StoreConfig config);
  ~StoreService();

  // requestId: the request's 16-byte id, in hex (32 digits).
  StoreResult write(std::string_view service, const std::string& requestId, const Caller& caller, std::string_view body);
  StoreResult get(const Caller& caller, std::string_view body);
  StoreResult list(const Caller& caller, std::string_view body);

  // How store.watch answers: partials sent at once (a snapshot's pages), and, for a
  // stream, the sink detach() hands back (nullptr: this caller cannot be answered later).
  struct WatchReply {
    std::function<void(std::string)> partial;
    std::function<std::unique_ptr<WatchSink>()> detach;
  };
  // The final answer, or an empty body with code STRATA_OK once the stream has been
  // handed to the feed (detach was called).
  StoreResult watch(const Caller& caller, std::string_view body, std::chrono::milliseconds timeLeft,
                    const WatchReply& reply);

  const StoreConfig& config() const { return config_; }
  std::size_t watches() const { return feed_->watches(); }

 private:
  StoreConfig config_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ChangeFeed> feed_;
};

}  // namespace strata::integrations::store
