// The change feed on a real SQLite file: what a watch is sent, from memory and from the
// database, with hidden changes, past the log's retention, and when its time is up.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <list>
#include <mutex>
#include <random>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/integrations/store/change_feed.h>

namespace strata::integrations::store {
namespace {

using namespace std::chrono_literals;
using Poco::JSON::Object;

// What one watch was sent.
struct Record {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> partials;
  std::string final;

  // Waits until condition (which takes the lock itself) holds, woken by each new answer.
  template <class Condition>
  bool waitFor(Condition condition) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::unique_lock lock(mutex);
      changed.wait_for(lock, 20ms);
    }
    return true;
  }
  bool finished() {
    std::lock_guard lock(mutex);
    return !final.empty();
  }
  bool sentUpTo(std::int64_t revision) {
    std::lock_guard lock(mutex);
    return !partials.empty() && partials.back().find("\"to\":" + std::to_string(revision)) != std::string::npos;
  }
  bool anySent() {
    std::lock_guard lock(mutex);
    return !partials.empty();
  }
};

class RecordingSink final : public WatchSink {
 public:
  explicit RecordingSink(Record& record) : record_(record) {}
  void send(std::string body) override {
    std::lock_guard lock(record_.mutex);
    record_.partials.push_back(std::move(body));
    record_.changed.notify_all();
  }
  void finish(std::string body) override {
    std::lock_guard lock(record_.mutex);
    record_.final = std::move(body);
    record_.changed.notify_all();
  }

 private:
  Record& record_;
};

Object::Ptr parse(const std::string& text) { return Poco::JSON::Parser().parse(text).extract<Object::Ptr>(); }

class ChangeFeedTest : public ::testing::Test {
 protected:
  void open(std::int64_t retention, std::size_t memory) {
    dir_ = std::filesystem::temp_directory_path() / ("strata-feed-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    ObjectStore::Settings settings;
    settings.database = (dir_ / "store.db").string();
    settings.retention = retention;
    store_ = std::make_unique<ObjectStore>(settings);
    rules_.setAttribute("c", "secret", {Who::parse("0-2"), std::nullopt});
    ChangeFeed::Settings feed;
    feed.memory = memory;
    feed.poll = 10ms;
    feed_ = std::make_unique<ChangeFeed>(*store_, rules_, feed);
  }
  void TearDown() override {
    feed_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void write(const std::string& key, const std::string& attributes) {
    Write w;
    w.kind = Write::Kind::kPatch;
    w.collection = "c";
    w.key = key;
    w.attributes = parseAttributes(attributes);
    store_->write(std::to_string(++ids_), w, [](const Change&) { return std::nullopt; },
                  [](const Change&, bool) { return std::string("{}"); });
    feed_->poke();
  }

  void watch(Record& record, std::int64_t after, int layer = 4, std::chrono::milliseconds length = 60s) {
    ASSERT_TRUE(feed_->reserve());
    feed_->add({"c", "", {"w", layer}, after, std::chrono::steady_clock::now() + length},
               std::make_unique<RecordingSink>(record));
  }

  // Every change revision the partials carry, checking that each (from, to] follows the last.
  static std::vector<std::int64_t> revisions(Record& record, std::int64_t after) {
    std::lock_guard lock(record.mutex);
    std::vector<std::int64_t> out;
    std::int64_t to = after;
    for (const auto& text : record.partials) {
      auto partial = parse(text);
      EXPECT_EQ(partial->getValue<std::int64_t>("from"), to) << text;
      to = partial->getValue<std::int64_t>("to");
      auto changes = partial->getArray("changes");
      for (unsigned i = 0; i < changes->size(); ++i) out.push_back(changes->getObject(i)->getValue<std::int64_t>("revision"));
    }
    return out;
  }

  // What each watch was sent; outlives the feed, which finishes every stream when it goes.
  Record& record() { return records_.emplace_back(); }

  std::list<Record> records_;
  std::filesystem::path dir_;
  AccessRules rules_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ChangeFeed> feed_;
  int ids_ = 0;
};

TEST_F(ChangeFeedTest, SendsEveryChangeInOrderInRangesThatFollowEachOther) {
  open(1000, 1000);
  Record& record = this->record();
  watch(record, 0);
  for (int i = 0; i < 30; ++i) write("k" + std::to_string(i % 3), R"({"n":)" + std::to_string(i) + "}");
  ASSERT_TRUE(record.waitFor([&] { return record.sentUpTo(30); }));
  std::vector<std::int64_t> all(30);
  for (int i = 0; i < 30; ++i) all[i] = i + 1;
  EXPECT_EQ(revisions(record, 0), all);
}

TEST_F(ChangeFeedTest, AChangeOfHiddenAttributesOnlyIsNotSentButItsRevisionIsCovered) {
  open(1000, 1000);
  write("a", R"({"name":"x","secret":"s"})");  // 1: a create, sent (without secret)
  Record& front = record();
  Record& back = record();
  watch(front, 1, 4);
  watch(back, 1, 2);
  write("a", R"({"secret":"t"})");  // 2: hidden from layer 4
  write("a", R"({"name":"y"})");    // 3
  ASSERT_TRUE(back.waitFor([&] { return revisions(back, 1).size() == 2; }));
  ASSERT_TRUE(front.waitFor([&] { return front.anySent(); }));
  EXPECT_EQ(revisions(front, 1), std::vector<std::int64_t>{3});
  std::lock_guard lock(front.mutex);
  for (const auto& text : front.partials) EXPECT_EQ(text.find("secret"), std::string::npos) << text;
}

TEST_F(ChangeFeedTest, AWatchBehindMemoryIsServedFromTheDatabase) {
  open(1000, 5);
  for (int i = 0; i < 40; ++i) write("k", R"({"n":)" + std::to_string(i) + "}");
  Record& record = this->record();
  watch(record, 3);
  ASSERT_TRUE(record.waitFor([&] { return revisions(record, 3).size() == 37; }));
  auto seen = revisions(record, 3);
  EXPECT_EQ(seen.front(), 4);
  EXPECT_EQ(seen.back(), 40);
}

TEST_F(ChangeFeedTest, AWatchPastTheLogsRetentionIsReset) {
  open(10, 5);
  for (int i = 0; i < 40; ++i) write("k", R"({"n":)" + std::to_string(i) + "}");
  Record& record = this->record();
  watch(record, 2);
  ASSERT_TRUE(record.waitFor([&] { return record.finished(); }));
  EXPECT_EQ(parse(record.final)->getValue<std::string>("type"), "reset") << record.final;
  // The feed's thread counts the watch out just after it sends the final answer.
  EXPECT_TRUE(record.waitFor([&] { return feed_->watches() == 0; })) << feed_->watches();
}

TEST_F(ChangeFeedTest, AStreamEndsWhenItsTimeIsUpSayingWhereToResume) {
  open(1000, 1000);
  write("k", R"({"n":1})");
  Record& record = this->record();
  watch(record, 0, 4, 50ms);
  ASSERT_TRUE(record.waitFor([&] { return record.finished(); }));
  auto end = parse(record.final);
  EXPECT_EQ(end->getValue<std::string>("type"), "end");
  EXPECT_EQ(end->getValue<std::int64_t>("to"), 1);
}

}  // namespace
}  // namespace strata::integrations::store
