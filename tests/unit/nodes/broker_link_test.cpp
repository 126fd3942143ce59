// The worker's view of one broker as a pure transition table: (state, event, now) ->
// (state, actions). Time comes from a ManualClock; there is no socket.

#include <strata/nodes/broker_link.h>

#include <chrono>
#include <ostream>

#include <gtest/gtest.h>

#include <strata/core/clock.h>

namespace strata::nodes {

// gtest prints Actions when an expectation fails.
void PrintTo(const BrokerLink::Actions& a, std::ostream* os) {
  *os << "{reconnect=" << a.reconnect << " sendReady=" << a.sendReady << " sendHeartbeat=" << a.sendHeartbeat << "}";
}

namespace {

using namespace std::chrono_literals;
using Actions = BrokerLink::Actions;
using State = BrokerLink::State;

constexpr std::chrono::milliseconds kHeartbeat = 1000ms;
constexpr int kLiveness = 3;

const Actions kNothing{};
const Actions kReady{false, true, false};
const Actions kHeartbeatOnly{false, false, true};
const Actions kReconnectAndReady{true, true, false};

struct Fixture {
  core::ManualClock clock;
  BrokerLink link{kHeartbeat, kLiveness};

  Actions start() { return link.start(clock.now()); }
  Actions tickAfter(std::chrono::milliseconds d) {
    clock.advance(d);
    return link.onTick(clock.now());
  }
  Actions messageAfter(std::chrono::milliseconds d, bool disconnect = false) {
    clock.advance(d);
    return link.onMessage(clock.now(), disconnect);
  }
};

// ---- Idle ----

TEST(BrokerLink, StartsIdle) {
  Fixture f;
  EXPECT_EQ(f.link.state(), State::kIdle);
}

TEST(BrokerLink, IdleLinkDoesNothingOnTick) {
  Fixture f;
  EXPECT_EQ(f.tickAfter(0ms), kNothing);
  EXPECT_EQ(f.tickAfter(1h), kNothing);
  EXPECT_EQ(f.link.state(), State::kIdle);
}

TEST(BrokerLink, IdleLinkIgnoresMessages) {
  Fixture f;
  EXPECT_EQ(f.messageAfter(10ms), kNothing);
  EXPECT_EQ(f.messageAfter(10ms, true), kNothing);
  EXPECT_EQ(f.link.state(), State::kIdle);
}

// ---- Registration ----

TEST(BrokerLink, StartSendsReady) {
  Fixture f;
  EXPECT_EQ(f.start(), kReady);
  EXPECT_EQ(f.link.state(), State::kRegistering);
}

TEST(BrokerLink, MessageFromBrokerMovesRegisteringToActive) {
  Fixture f;
  f.start();
  EXPECT_EQ(f.messageAfter(5ms), kNothing);
  EXPECT_EQ(f.link.state(), State::kActive);
}

TEST(BrokerLink, StaysRegisteringUntilBrokerSpeaks) {
  Fixture f;
  f.start();
  f.tickAfter(1000ms);
  f.tickAfter(1000ms);
  EXPECT_EQ(f.link.state(), State::kRegistering);
}

// ---- Heartbeats ----

TEST(BrokerLink, SendsNoHeartbeatBeforeInterval) {
  Fixture f;
  f.start();
  EXPECT_EQ(f.tickAfter(999ms), kNothing);
}

TEST(BrokerLink, SendsHeartbeatWhenIntervalHasPassed) {
  Fixture f;
  f.start();
  EXPECT_EQ(f.tickAfter(1000ms), kHeartbeatOnly);
}

TEST(BrokerLink, SendsHeartbeatOncePerInterval) {
  Fixture f;
  f.start();
  f.messageAfter(0ms);
  ASSERT_EQ(f.tickAfter(1000ms), kHeartbeatOnly);
  EXPECT_EQ(f.tickAfter(0ms), kNothing);
  EXPECT_EQ(f.tickAfter(999ms), kNothing);
  EXPECT_EQ(f.tickAfter(1ms), kHeartbeatOnly);
}

TEST(BrokerLink, OtherTrafficPostponesHeartbeat) {
  Fixture f;
  f.start();
  f.clock.advance(600ms);
  f.link.onSent(f.clock.now());
  EXPECT_EQ(f.tickAfter(400ms), kNothing);   // 1000 ms after start, 400 ms after the reply
  EXPECT_EQ(f.tickAfter(599ms), kNothing);
  EXPECT_EQ(f.tickAfter(1ms), kHeartbeatOnly);
}

TEST(BrokerLink, MessagesFromBrokerDoNotReplaceOwnHeartbeats) {
  Fixture f;
  f.start();
  f.messageAfter(500ms);
  EXPECT_EQ(f.tickAfter(500ms), kHeartbeatOnly);
}

// ---- A silent broker ----

TEST(BrokerLink, KeepsLinkSilentForHeartbeatTimesLiveness) {
  Fixture f;
  f.start();
  f.messageAfter(0ms);
  f.tickAfter(1000ms);
  f.tickAfter(1000ms);
  EXPECT_EQ(f.tickAfter(1000ms), kHeartbeatOnly);  // exactly 3 s of silence
  EXPECT_EQ(f.link.state(), State::kActive);
}

TEST(BrokerLink, ReconnectsAndSendsReadyAfterSilenceBeyondLiveness) {
  Fixture f;
  f.start();
  f.messageAfter(0ms);
  f.tickAfter(3000ms);
  EXPECT_EQ(f.tickAfter(1ms), kReconnectAndReady);
  EXPECT_EQ(f.link.state(), State::kRegistering);
}

TEST(BrokerLink, ReconnectsWhenBrokerNeverAnswersReady) {
  Fixture f;
  f.start();
  EXPECT_EQ(f.tickAfter(3001ms), kReconnectAndReady);
}

TEST(BrokerLink, MessageFromBrokerResetsSilence) {
  Fixture f;
  f.start();
  f.messageAfter(2500ms);
  EXPECT_EQ(f.tickAfter(501ms), kHeartbeatOnly);  // 3001 ms after start, 501 ms after the message
  EXPECT_EQ(f.link.state(), State::kActive);
}

TEST(BrokerLink, OwnTrafficDoesNotCountAsHearingFromBroker) {
  Fixture f;
  f.start();
  f.clock.advance(2900ms);
  f.link.onSent(f.clock.now());
  EXPECT_EQ(f.tickAfter(101ms), kReconnectAndReady);
}

TEST(BrokerLink, GivesNewConnectionFullLivenessPeriod) {
  Fixture f;
  f.start();
  ASSERT_EQ(f.tickAfter(3001ms), kReconnectAndReady);
  EXPECT_EQ(f.tickAfter(3000ms), kHeartbeatOnly);
  EXPECT_EQ(f.tickAfter(1ms), kReconnectAndReady);
}

// ---- DISCONNECT ----

TEST(BrokerLink, DisconnectFromBrokerReconnectsAndSendsReady) {
  Fixture f;
  f.start();
  f.messageAfter(10ms);
  ASSERT_EQ(f.link.state(), State::kActive);
  EXPECT_EQ(f.messageAfter(10ms, true), kReconnectAndReady);
  EXPECT_EQ(f.link.state(), State::kRegistering);
}

TEST(BrokerLink, RefusedRegistrationIsRetriedAHeartbeatLater) {
  Fixture f;
  f.start();
  // A DISCONNECT answering READY is a refusal: no new handshake at once.
  EXPECT_EQ(f.messageAfter(10ms, true), kNothing);
  EXPECT_EQ(f.link.state(), State::kRegistering);
  EXPECT_LE(f.link.nextDue(), f.clock.now() + kHeartbeat);
  EXPECT_FALSE(f.tickAfter(kHeartbeat - 1ms).reconnect);
  EXPECT_EQ(f.tickAfter(1ms), kReconnectAndReady);
}

TEST(BrokerLink, RepeatedRefusalsWaitAHeartbeatEachTime) {
  Fixture f;
  f.start();
  f.messageAfter(10ms, true);
  EXPECT_EQ(f.messageAfter(10ms, true), kNothing);  // a second refusal does not push the retry back
  EXPECT_EQ(f.tickAfter(kHeartbeat - 10ms), kReconnectAndReady);
  EXPECT_EQ(f.messageAfter(10ms, true), kNothing);
  EXPECT_EQ(f.tickAfter(kHeartbeat), kReconnectAndReady);
}

TEST(BrokerLink, RefusalFollowedByTheBrokersTrafficNeedsNoRetry) {
  Fixture f;
  f.start();
  f.messageAfter(10ms, true);
  // The broker talks to us after all (it took a later READY): we are registered, and the
  // pending retry, which would tear that down, is dropped.
  EXPECT_EQ(f.messageAfter(10ms), kNothing);
  EXPECT_EQ(f.link.state(), State::kActive);
  EXPECT_FALSE(f.tickAfter(kHeartbeat).reconnect);
  EXPECT_EQ(f.link.state(), State::kActive);
}

// ---- When the loop must wake ----

TEST(BrokerLink, NextDueIsHeartbeatAfterStart) {
  Fixture f;
  auto start = f.clock.now();
  f.start();
  EXPECT_EQ(f.link.nextDue(), start + kHeartbeat);
}

TEST(BrokerLink, NextDueMovesWithOwnTraffic) {
  Fixture f;
  auto start = f.clock.now();
  f.start();
  f.clock.advance(400ms);
  f.link.onSent(f.clock.now());
  EXPECT_EQ(f.link.nextDue(), start + 400ms + kHeartbeat);
}

TEST(BrokerLink, NextDueIsLivenessExpiryWhenThatComesFirst) {
  Fixture f;
  auto start = f.clock.now();
  f.start();
  f.clock.advance(2500ms);
  f.link.onSent(f.clock.now());
  // The heartbeat would be due at 3500 ms, but silence runs out just after 3000 ms.
  EXPECT_EQ(f.link.nextDue(), start + kHeartbeat * kLiveness + 1ms);
}

TEST(BrokerLink, TickAtNextDueHasWorkToDo) {
  Fixture f;
  f.start();
  f.clock.advance(2500ms);
  f.link.onSent(f.clock.now());
  auto due = f.link.nextDue();
  EXPECT_NE(f.link.onTick(due), kNothing);
}

TEST(BrokerLink, ReportsHeartbeatInterval) {
  Fixture f;
  EXPECT_EQ(f.link.heartbeat(), kHeartbeat);
}

}  // namespace
}  // namespace strata::nodes
