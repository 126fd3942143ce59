// The outbox on a real SQLite file: one row per request id, the state machine, and what
// survives closing and reopening the file.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <unistd.h>

#include <strata/integrations/smtp/outbox.h>

namespace strata::integrations::smtp {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("smtp-outbox-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static OutboundMail mail(const std::string& id) {
    return {id, "a@a.example", {"b@b.example", "c@c.example"}, "From: a@a.example\r\n\r\nbody " + id + "\r\n"};
  }

  std::filesystem::path file() const { return dir_ / "outbox.db"; }
  std::filesystem::path dir_;
};

TEST_F(OutboxTest, QueuesARetriedIdOnce) {
  Outbox outbox(file());
  EXPECT_EQ(outbox.enqueue(mail("one"), 1000).state, MailState::kQueued);
  auto again = mail("one");
  again.data = "different";
  EXPECT_EQ(outbox.enqueue(again, 2000).state, MailState::kQueued);
  auto entry = outbox.claimDue(3000);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->mail.data, mail("one").data);  // the first body, not the retry's
  EXPECT_FALSE(outbox.claimDue(3000));            // and only one row
  EXPECT_EQ(outbox.enqueue(mail("one"), 4000).state, MailState::kSending);
}

TEST_F(OutboxTest, ClaimsOnlyDueMailOldestFirstWithTheAttemptCounted) {
  Outbox outbox(file());
  outbox.enqueue(mail("late"), 5000);
  outbox.enqueue(mail("early"), 1000);
  EXPECT_EQ(outbox.nextDue(), 1000);
  EXPECT_FALSE(outbox.claimDue(999));
  auto first = outbox.claimDue(6000);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->mail.id, "early");
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->mail.recipients, (std::vector<std::string>{"b@b.example", "c@c.example"}));
  EXPECT_EQ(outbox.status("early")->state, MailState::kSending);
  outbox.markRetry("early", "451 try later", 9000, 6000);
  EXPECT_EQ(outbox.nextDue(), 5000);
  EXPECT_EQ(outbox.claimDue(6000)->mail.id, "late");
  EXPECT_FALSE(outbox.claimDue(8999));
  auto second = outbox.claimDue(9000);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->attempts, 2);
}

TEST_F(OutboxTest, SentAndDeadAreFinal) {
  Outbox outbox(file());
  outbox.enqueue(mail("s"), 1);
  outbox.enqueue(mail("d"), 1);
  outbox.claimDue(2);
  outbox.claimDue(2);
  outbox.markSent("s", "250 OK", 3);
  outbox.markDead("d", "550 no such user", 3);
  EXPECT_FALSE(outbox.claimDue(1'000'000));
  EXPECT_FALSE(outbox.nextDue());
  auto dead = outbox.status("d");
  EXPECT_EQ(dead->state, MailState::kDead);
  EXPECT_EQ(dead->lastReply, "550 no such user");
  EXPECT_EQ(outbox.requeueInterrupted(4), 0);
  EXPECT_EQ(outbox.status("s")->state, MailState::kSent);
  EXPECT_FALSE(outbox.status("never"));
}

TEST_F(OutboxTest, MailInterruptedWhileSendingIsQueuedAgainAfterReopening) {
  {
    Outbox outbox(file());
    outbox.enqueue(mail("crash"), 1);
    outbox.enqueue(mail("waiting"), 1);
    ASSERT_EQ(outbox.claimDue(2)->mail.id, "crash");
  }  // the process "dies" with 'crash' in sending
  Outbox reopened(file());
  EXPECT_EQ(reopened.status("crash")->state, MailState::kSending);
  EXPECT_EQ(reopened.requeueInterrupted(10), 1);
  auto status = reopened.status("crash");
  EXPECT_EQ(status->state, MailState::kQueued);
  EXPECT_EQ(status->attempts, 1);
  EXPECT_EQ(reopened.status("waiting")->state, MailState::kQueued);
  EXPECT_TRUE(reopened.claimDue(10));
  EXPECT_TRUE(reopened.claimDue(10));
}

}  // namespace
}  // namespace strata::integrations::smtp
