#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <strata/integrations/smtp/mail_transport.h>
#include <strata/integrations/smtp/outbox.h>
#include <strata/plugin_abi.h>

namespace strata::integrations::smtp {

// How long to wait before attempt n+1 after n failed ones: base * 2^(n-1), capped.
struct RetryPolicy {
  static constexpr std::chrono::milliseconds kMaxDelay{std::chrono::hours(1)};
  std::chrono::milliseconds base{1'000};
  int maxAttempts = 8;
  std::chrono::milliseconds delayAfter(int failedAttempts) const;
};

// The one thread that delivers queued mail: claims the oldest due entry, hands it to the
// transport, records sent, a retry with backoff, or dead (5xx, or the last attempt
// failed). It commits 'sent' right after the server's 250, before QUIT, so the window in
// which a crash leaves a delivered mail in 'sending' is one SQLite COMMIT long.
class MailSender {
 public:
  using Log = std::function<void(strata_log_level, const std::string&)>;
  using Now = std::function<std::int64_t()>;  // Unix milliseconds

  MailSender(Outbox& outbox, MailTransport& transport, RetryPolicy policy, Log log, Now now = systemNow);
  ~MailSender();  // stop()
  MailSender(const MailSender&) = delete;
  MailSender& operator=(const MailSender&) = delete;

  void start();
  // Something was queued: look again now. Any thread.
  void wake();
  // Ends the thread after the delivery in progress, if any. Idempotent.
  void stop();

  static std::int64_t systemNow();

 private:
  void run();
  void deliver(const OutboxEntry& entry);

  Outbox& outbox_;
  MailTransport& transport_;
  RetryPolicy policy_;
  Log log_;
  Now now_;
  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace strata::integrations::smtp
