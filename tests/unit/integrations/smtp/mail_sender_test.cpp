// MailSender with a scripted transport: retries with backoff on transient failures, a
// dead letter on a permanent one or after the last attempt, and nothing sent twice.

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include <unistd.h>

#include <strata/integrations/smtp/mail_sender.h>

#include "cluster.h"

namespace strata::integrations::smtp {
namespace {

using namespace std::chrono_literals;
using Outcome = DeliveryResult::Outcome;

bool waitFor(const std::function<bool()>& condition) { return test::waitUntil(condition, 10s); }

class ScriptedTransport final : public MailTransport {
 public:
  explicit ScriptedTransport(std::deque<DeliveryResult> script) : script_(std::move(script)) {}
  DeliveryResult deliver(const OutboundMail& mail) override {
    std::lock_guard lock(mutex_);
    calls_.push_back({mail.id, std::chrono::steady_clock::now()});
    if (script_.empty()) return {Outcome::kSent, "250 OK"};
    auto next = script_.front();
    script_.pop_front();
    return next;
  }
  struct Call {
    std::string id;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  std::mutex mutex_;
  std::deque<DeliveryResult> script_;
  std::vector<Call> calls_;
};

class MailSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("smtp-sender-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    outbox_ = std::make_unique<Outbox>(dir_ / "outbox.db");
  }
  void TearDown() override {
    outbox_.reset();
    std::filesystem::remove_all(dir_);
  }
  void queue(const std::string& id) {
    outbox_->enqueue({id, "a@a.example", {"b@b.example"}, "From: a@a.example\r\n\r\nx\r\n"}, MailSender::systemNow());
  }
  MailState stateOf(const std::string& id) { return outbox_->status(id)->state; }

  std::filesystem::path dir_;
  std::unique_ptr<Outbox> outbox_;
  MailSender::Log log_ = [](strata_log_level, const std::string&) {};
};

TEST(RetryPolicy, DoublesFromTheBaseUpToTheCap) {
  RetryPolicy policy{100ms, 10};
  EXPECT_EQ(policy.delayAfter(1), 100ms);
  EXPECT_EQ(policy.delayAfter(2), 200ms);
  EXPECT_EQ(policy.delayAfter(4), 800ms);
  EXPECT_EQ(policy.delayAfter(1000), RetryPolicy::kMaxDelay);
}

TEST_F(MailSenderTest, RetriesATransientFailureWithBackoffThenSendsOnce) {
  ScriptedTransport transport({{Outcome::kTransient, "451 try later"}, {Outcome::kTransient, "451 try later"}});
  MailSender sender(*outbox_, transport, RetryPolicy{50ms, 5}, log_);
  queue("m1");
  sender.start();
  ASSERT_TRUE(waitFor([&] { return stateOf("m1") == MailState::kSent; }));
  auto calls = transport.calls();
  ASSERT_EQ(calls.size(), 3u);
  // The outbox keeps due times in whole milliseconds of the wall clock, so a retry may
  // start up to one millisecond before its backoff has fully passed on this clock.
  constexpr auto kDueResolution = 1ms;
  EXPECT_GE(calls[1].at - calls[0].at, 50ms - kDueResolution);
  EXPECT_GE(calls[2].at - calls[1].at, 100ms - kDueResolution);  // doubled
  EXPECT_EQ(outbox_->status("m1")->attempts, 3);
}

TEST_F(MailSenderTest, APermanentFailureIsADeadLetterNeverRetried) {
  ScriptedTransport transport({{Outcome::kPermanent, "550 5.1.1 no such user"}});
  MailSender sender(*outbox_, transport, RetryPolicy{10ms, 5}, log_);
  queue("m1");
  sender.start();
  ASSERT_TRUE(waitFor([&] { return stateOf("m1") == MailState::kDead; }));
  queue("m2");  // the sender goes on with the next mail
  sender.wake();
  ASSERT_TRUE(waitFor([&] { return stateOf("m2") == MailState::kSent; }));
  EXPECT_EQ(outbox_->status("m1")->lastReply, "550 5.1.1 no such user");
  auto calls = transport.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "m1");
  EXPECT_EQ(calls[1].id, "m2");
}

TEST_F(MailSenderTest, GivesUpAfterMaxAttempts) {
  ScriptedTransport transport({{Outcome::kTransient, "connection refused"},
                               {Outcome::kTransient, "connection refused"},
                               {Outcome::kTransient, "connection refused"}});
  MailSender sender(*outbox_, transport, RetryPolicy{5ms, 3}, log_);
  queue("m1");
  sender.start();
  ASSERT_TRUE(waitFor([&] { return stateOf("m1") == MailState::kDead; }));
  EXPECT_EQ(transport.calls().size(), 3u);
  EXPECT_NE(outbox_->status("m1")->lastReply.find("gave up after 3 attempts: connection refused"), std::string::npos);
}

TEST_F(MailSenderTest, WakesForMailQueuedWhileIdle) {
  ScriptedTransport transport({});
  MailSender sender(*outbox_, transport, RetryPolicy{10ms, 3}, log_);
  sender.start();
  ASSERT_TRUE(waitFor([&] { return transport.calls().empty(); }));
  auto queuedAt = std::chrono::steady_clock::now();
  queue("m1");
  sender.wake();
  ASSERT_TRUE(waitFor([&] { return stateOf("m1") == MailState::kSent; }));
  EXPECT_LT(transport.calls().at(0).at - queuedAt, 5s);  // not the idle wait
}

TEST_F(MailSenderTest, StopsPromptlyWhileMailWaitsForItsRetry) {
  ScriptedTransport transport({{Outcome::kTransient, "451"}});
  auto sender = std::make_unique<MailSender>(*outbox_, transport, RetryPolicy{std::chrono::hours(1), 3}, log_);
  queue("m1");
  sender->start();
  ASSERT_TRUE(waitFor([&] { return transport.calls().size() == 1 && stateOf("m1") == MailState::kQueued; }));
  auto before = std::chrono::steady_clock::now();
  sender.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

}  // namespace
}  // namespace strata::integrations::smtp
