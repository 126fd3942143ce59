#include <strata/integrations/smtp/mail_sender.h>

#include <algorithm>
#include <exception>

namespace strata::integrations::smtp {

namespace {

// How long the thread sleeps when nothing is queued; wake() cuts it short.
constexpr std::chrono::milliseconds kIdleWait{60'000};
// After the outbox itself failed (disk full, I/O error): wait, then try again.
constexpr std::chrono::milliseconds kOutboxErrorWait{1'000};

}  // namespace

std::chrono::milliseconds RetryPolicy::delayAfter(int failedAttempts) const {
  auto delay = base;
  for (int i = 1; i < failedAttempts && delay < kMaxDelay; ++i) delay *= 2;
  return std::min(delay, kMaxDelay);
}

MailSender::MailSender(Outbox& outbox, MailTransport& transport, RetryPolicy policy, Log log, Now now)
    : outbox_(outbox), transport_(transport), policy_(policy), log_(std::move(log)), now_(std::move(now)) {}

MailSender::~MailSender() { stop(); }

std::int64_t MailSender::systemNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void MailSender::start() { thread_ = std::thread([this] { run(); }); }

void MailSender::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeup_.notify_one();
}

void MailSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void MailSender::run() {
  while (true) {
    std::chrono::milliseconds wait = kIdleWait;
    try {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        woken_ = false;  // anything queued before this point is seen by claimDue below
      }
      if (auto entry = outbox_.claimDue(now_())) {
        deliver(*entry);
        continue;
      }
      if (auto due = outbox_.nextDue()) {
        wait = std::clamp(std::chrono::milliseconds(*due - now_()), std::chrono::milliseconds(0), kIdleWait);
      }
    } catch (const std::exception& e) {
      log_(STRATA_LOG_ERROR, std::string("smtp outbox: ") + e.what());
      wait = kOutboxErrorWait;
    }
    std::unique_lock lock(mutex_);
    wakeup_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
  }
}

void MailSender::deliver(const OutboxEntry& entry) {
  const auto& id = entry.mail.id;
  auto result = transport_.deliver(entry.mail);
  auto now = now_();
  switch (result.outcome) {
    case DeliveryResult::Outcome::kSent:
      outbox_.markSent(id, result.reply, now);
      log_(STRATA_LOG_INFORMATION, "mail " + id + " sent (attempt " + std::to_string(entry.attempts) + ")");
      return;
    case DeliveryResult::Outcome::kPermanent:
      outbox_.markDead(id, result.reply, now);
      log_(STRATA_LOG_WARNING, "mail " + id + " refused, dead letter: " + result.reply);
      return;
    case DeliveryResult::Outcome::kTransient:
      if (entry.attempts >= policy_.maxAttempts) {
        outbox_.markDead(id, "gave up after " + std::to_string(entry.attempts) + " attempts: " + result.reply, now);
        log_(STRATA_LOG_WARNING, "mail " + id + " dead after " + std::to_string(entry.attempts) +
                                     " attempts: " + result.reply);
        return;
      }
      auto delay = policy_.delayAfter(entry.attempts);
      outbox_.markRetry(id, result.reply, now + delay.count(), now);
      log_(STRATA_LOG_NOTICE, "mail " + id + " not sent (attempt " + std::to_string(entry.attempts) + "), retry in " +
                                  std::to_string(delay.count()) + " ms: " + result.reply);
      return;
  }
}

}  // namespace strata::integrations::smtp
