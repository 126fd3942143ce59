#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <strata/nodes/client.h>

namespace strata::nodes {

// One object as a watch sees it: only the attributes its caller may read.
struct WatchedObject {
  std::string key;
  std::int64_t revision = 0;
  std::string attributes;  // a JSON object
};

struct WatchedChange {
  std::int64_t revision = 0;
  std::string op;  // "create", "update" or "delete"
  std::string key;
  std::string attributes;            // after the change, a JSON object ("{}" for a delete)
  std::vector<std::string> changed;  // the readable attributes it changed
};

// Follows the objects of a store collection whose keys start with a prefix (the store
// plug-in's store.watch): first every object as it is, then "ready", then each change
// in revision order, exactly once. It renews its stream before the store ends it and
// resumes from the last revision it has after a broker or a store node is lost, so no
// change is missed and none comes twice; when the store can no longer resume from there,
// onReset says so and a fresh snapshot follows. Callbacks run on the client's loop
// thread. Destroy it before its Client.
class ObjectWatch {
 public:
  struct Handlers {
    std::function<void(const WatchedObject&)> onObject;                 // the snapshot, one by one
    std::function<void(std::int64_t revision, std::size_t objects)> onReady;
    std::function<void(const WatchedChange&)> onChange;
    std::function<void(const std::string& why)> onReset;  // a fresh snapshot follows
    // The store refused the watch (forbidden, malformed): it is over.
    std::function<void(ErrorCode code, const std::string& text)> onError;
  };
  struct Options {
    std::string service = "store.watch";
    // The deadline of each stream request; the store ends a stream before it.
    std::chrono::milliseconds streamTimeout{60000};
    std::chrono::milliseconds snapshotTimeout{30000};
    // How long to wait before asking again after the store could not be reached.
    std::chrono::milliseconds retryDelay{500};
  };

  ObjectWatch(Client& client, std::string collection, std::string prefix, Handlers handlers, Options options);
  ObjectWatch(Client& client, std::string collection, std::string prefix, Handlers handlers)
      : ObjectWatch(client, std::move(collection), std::move(prefix), std::move(handlers), Options{}) {}
  ~ObjectWatch();
  ObjectWatch(const ObjectWatch&) = delete;
  ObjectWatch& operator=(const ObjectWatch&) = delete;

  // The revision everything up to has been delivered; 0 before the snapshot is ready.
  std::int64_t revision() const;
  // Stops it; no callback runs once this returns unless it runs on the loop thread.
  void cancel();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace strata::nodes
