// The object store on a real SQLite file: revisions, compare-and-set, once per request id,
// the change log and its pruning.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <strata/integrations/store/object_store.h>

namespace strata::integrations::store {
namespace {

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-store-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    settings_.database = (dir_ / "store.db").string();
    settings_.retention = 10;
    store_ = std::make_unique<ObjectStore>(settings_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  WriteResult put(const std::string& id, const std::string& key, const std::string& attributes,
                  std::optional<std::int64_t> expect = std::nullopt) {
    Write w;
    w.collection = "c";
    w.key = key;
    w.attributes = parseAttributes(attributes);
    w.expect = expect;
    return store_->write(id, w, allow, reply);
  }

  static std::optional<std::string> allow(const Change&) { return std::nullopt; }
  static std::string reply(const Change& change, bool changed) {
    return std::to_string(change.revision) + (changed ? " changed" : " same");
  }

  std::filesystem::path dir_;
  ObjectStore::Settings settings_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ObjectStoreTest, RevisionsCountChangesAndAnIdIsAppliedOnce) {
  EXPECT_EQ(put("01", "a", R"({"x":1})").reply, "1 changed");
  EXPECT_EQ(put("02", "b", R"({"x":1})").reply, "2 changed");
  EXPECT_EQ(put("01", "a", R"({"x":99})").reply, "1 changed");  // the stored reply, nothing done
  EXPECT_EQ(put("03", "a", R"({"x":1})").reply, "1 same");       // the same attributes: no revision
  EXPECT_EQ(store_->get("c", "a")->attributes.at("x"), "1");
  EXPECT_EQ(store_->head().revision, 2);
  auto log = store_->changes(0, 100);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].op, Change::Op::kCreate);
  EXPECT_EQ(log[1].key, "b");
}

TEST_F(ObjectStoreTest, AStaleExpectationChangesNothingAndTakesNoRevision) {
  put("01", "a", R"({"x":1})");
  auto stale = put("02", "a", R"({"x":2})", 5);
  EXPECT_EQ(stale.status, WriteResult::Status::kConflict);
  EXPECT_NE(stale.text.find("at revision 1, not the expected 5"), std::string::npos) << stale.text;
  EXPECT_EQ(put("03", "a", R"({"x":2})", 0).status, WriteResult::Status::kConflict);
  EXPECT_EQ(store_->head().revision, 1);
  // The refused id was not recorded: sent again with the right revision, it applies.
  EXPECT_EQ(put("02", "a", R"({"x":2})", 1).status, WriteResult::Status::kApplied);
  EXPECT_EQ(store_->get("c", "a")->revision, 2);
}

TEST_F(ObjectStoreTest, ARefusedWriteChangesNothing) {
  put("01", "a", R"({"x":1})");
  Write w;
  w.collection = "c";
  w.key = "a";
  w.kind = Write::Kind::kDelete;
  auto refused = store_->write("02", w, [](const Change&) { return std::optional<std::string>("no"); }, reply);
  EXPECT_EQ(refused.status, WriteResult::Status::kRefused);
  EXPECT_TRUE(store_->get("c", "a").has_value());
  EXPECT_EQ(store_->head().revision, 1);
}

TEST_F(ObjectStoreTest, TheLogKeepsItsRetentionAndSaysHowFarItWasPruned) {
  for (int i = 0; i < 40; ++i) put("id" + std::to_string(i), "k", R"({"i":)" + std::to_string(i) + "}");
  auto head = store_->head();
  EXPECT_EQ(head.revision, 40);
  EXPECT_EQ(head.pruned, 30);
  auto log = store_->changes(0, 100);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front().revision, 31);
  EXPECT_EQ(log.back().revision, 40);
}

TEST_F(ObjectStoreTest, ASnapshotIsOfOneRevisionAndAListPagesByKey) {
  for (int i = 0; i < 7; ++i) put("id" + std::to_string(i), "key" + std::to_string(i), "{}");
  put("other", "zz", "{}");
  std::size_t pages = 0, objects = 0;
  auto head = store_->snapshot("c", "key", 3, [&](std::int64_t at, std::vector<StoredObject>& page) {
    EXPECT_EQ(at, 8);
    if (pages++ == 0) put("during", "key9", "{}");  // another session writes meanwhile
    objects += page.size();
  });
  EXPECT_EQ(head, 8);
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(objects, 7u);  // of revision 8: not the object written while it was read
  EXPECT_TRUE(store_->get("c", "key9").has_value());
  auto page = store_->list("c", "key", "key4", 10);
  ASSERT_EQ(page.objects.size(), 3u);  // key5, key6 and key9
  EXPECT_EQ(page.objects[0].key, "key5");
  EXPECT_FALSE(page.more);
}

}  // namespace
}  // namespace strata::integrations::store
