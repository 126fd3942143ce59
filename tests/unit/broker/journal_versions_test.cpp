// A durable journal written by a broker of protocol version 1 is read, not misread: each
// stored v1 request reaches a worker as the same request in version 2, and an entry the
// broker cannot read stays in the journal instead of being guessed at. A real SQLite
// journal in a temporary directory; the core is driven as in the other broker tests.

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/broker/journal.h>

#include "../core/temp_dir.h"
#include "broker_harness.h"

namespace strata::broker {
namespace {

using namespace std::string_literals;
using core::MessageId;
using test::Harness;
using test::kFront;
using test::kLogicA;
using test::peerOf;
using test::ready;
using test::sentAs;

std::int64_t unixMsFromNow(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch() + d)
      .count();
}

// A REQUEST as version 1 framed it: every field a frame of its own.
std::vector<std::string> version1Request(const MessageId& id, const std::string& service, const std::string& caller,
                                         const std::string& body) {
  return {"ST\x01\x01"s, std::string(id.bytes()), service, codecs::encodeU32(60'000), caller,
          "\x05" "trace" "\x00\x01" "7"s, body};
}

TEST(JournalVersions, Version1RequestReachesTheWorkerAsTheSameRequestInVersion2) {
  core::test::TempDir dir;
  auto id = MessageId::generate();
  {
    SqliteJournal old(dir.path() / "journal.db");
    old.append({id, "orders", std::string(kFront), unixMsFromNow(std::chrono::minutes(1)),
                version1Request(id, "orders", "\x04" + std::string(kFront), "payload")});
    old.commit();
  }
  SqliteJournal journal(dir.path() / "journal.db");
  Harness h;
  h.broker.setJournal(&journal, h.clock.now());
  EXPECT_EQ(h.broker.stats().restored, 1u);
  h.send(kLogicA, ready(1, {"orders"}));
  auto sent = h.takeOne();
  EXPECT_EQ(sent.peer, peerOf(kLogicA));
  auto request = sentAs<codecs::Request>(sent);
  EXPECT_EQ(request.id, id);
  EXPECT_EQ(request.service, "orders");
  EXPECT_EQ(request.caller.name, kFront);
  EXPECT_EQ(request.caller.layer, 4);
  ASSERT_EQ(request.headers.size(), 1u);
  EXPECT_EQ(request.headers[0].key, "trace");
  EXPECT_EQ(request.body, (std::vector<std::string_view>{"payload"}));
}

TEST(JournalVersions, UnreadableEntryStaysInTheJournalAndIsNotDelivered) {
  core::test::TempDir dir;
  auto id = MessageId::generate();
  SqliteJournal journal(dir.path() / "journal.db");
  journal.append({id, "orders", std::string(kFront), unixMsFromNow(std::chrono::minutes(1)),
                  {"ST\x07\x01"s, "of a version nobody speaks"}});
  journal.commit();
  Harness h;
  h.broker.setJournal(&journal, h.clock.now());
  EXPECT_EQ(h.broker.stats().restored, 0u);
  h.send(kLogicA, ready(1, {"orders"}));
  EXPECT_TRUE(h.take().empty());
  auto left = journal.loadPending();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, id);
}

}  // namespace
}  // namespace strata::broker
