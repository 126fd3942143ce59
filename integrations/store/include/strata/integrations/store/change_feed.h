#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <strata/integrations/store/access.h>
#include <strata/integrations/store/object_store.h>

namespace strata::integrations::store {

// Where a watch's stream goes: the partial replies of one store.watch request.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  virtual void send(std::string body) = 0;
  virtual void finish(std::string body) = 0;  // the final reply; the last call
};

// What one watch follows, from which revision, for whom.
struct WatchSpec {
  std::string collection;
  std::string prefix;
  Caller caller;
  std::int64_t after = 0;                        // the last revision the watcher has
  std::chrono::steady_clock::time_point end;     // when its stream ends (the watcher renews it)
};

// Streams the change log to watches. One thread follows the log's head (woken by this
// node's writes, and polling for those of other store nodes on the same database), keeps
// the newest changes in memory, and sends each watch, in revision order, the changes of
// its collection and key prefix that touch an attribute its caller may read, with only
// those attributes, checked as each change is sent. A watch behind what memory holds
// catches up from the database.
//
// A stream is a sequence of partial replies {"type":"changes","from":F,"to":T,"changes":[...]}:
// together they cover every revision from the watch's `after` on, each (F, T] following
// the one before, so a watcher that sees F beyond what it holds knows it missed one. The
// final reply is {"type":"end","from":F,"to":T} (renew with after = T) or
// {"type":"reset",...} when the log no longer reaches back to the watcher's revision.
class ChangeFeed {
 public:
  struct Settings {
    std::chrono::milliseconds poll{50};  // how often the database is asked for others' changes
    std::size_t maxWatches = 10000;
    std::size_t memory = 10000;           // changes kept in memory
    std::size_t maxPartialBytes = 256 * 1024;
  };

  ChangeFeed(ObjectStore& store, const AccessRules& rules, Settings settings);
  ~ChangeFeed();  // ends every stream with "end"
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Takes one of the maxWatches places, before the caller detaches its answer: false
  // when none is free. release() gives back a place that add() never used.
  bool reserve();
  void release();
  // Starts streaming to sink, in a place reserve() took.
  void add(WatchSpec spec, std::unique_ptr<WatchSink> sink);
  // A write of this node committed: look now.
  void poke();
  std::size_t watches() const;

 private:
  struct Watch {
    WatchSpec spec;
    std::unique_ptr<WatchSink> sink;
    std::int64_t cursor = 0;  // every change up to here has been looked at
    std::int64_t sentTo = 0;  // the `to` of the last partial sent
  };
  enum class State {
    kCaughtUp,  // has every change up to the head
    kBehind,    // has more to get: serve it again without waiting
    kEnded,     // its time is up: end its stream
    kDone,      // its stream is over already (reset)
  };
  void run();
  void follow();  // reads new changes into memory
  // Sends w what it has not seen, up to one partial's worth.
  State serve(Watch& w);
  std::string changeJson(const Change& change, const Caller& caller, bool& visible) const;

  ObjectStore& store_;
  const AccessRules& rules_;
  Settings settings_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;
  bool stopping_ = false;
  std::list<Watch> added_;  // guarded by mutex_, moved into watches_ by the thread
  std::size_t count_ = 0;   // watches held, guarded by mutex_
  // The feed thread's own.
  std::list<Watch> watches_;
  std::deque<std::shared_ptr<const Change>> recent_;
  std::int64_t head_ = 0;  // the last revision read from the log
  std::thread thread_;
};

}  // namespace strata::integrations::store
