#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <strata/core/sqlite.h>
#include <strata/integrations/smtp/outbound_mail.h>

namespace strata::integrations::smtp {

// queued -> sending -> sent | dead; sending -> queued on a transient failure (with a later
// next attempt) and at start (a crash mid-delivery: see requeueInterrupted).
enum class MailState { kQueued, kSending, kSent, kDead };

std::string_view toString(MailState state);

struct MailStatus {
  MailState state = MailState::kQueued;
  int attempts = 0;
  std::string lastReply;  // the server's last reply, or why delivery failed
};

struct OutboxEntry {
  OutboundMail mail;
  int attempts = 0;  // including the one just claimed
};

// The durable queue of mail, in one SQLite file (WAL, synchronous=FULL): every method
// returns only after its COMMIT is on disk. Keyed by the request id, so a retried id never
// queues twice. Thread-safe (one connection behind a mutex). Times are Unix milliseconds.
// Throws strata::ConfigError when the file cannot be opened, std::runtime_error when a
// statement fails.
class Outbox {
 public:
  explicit Outbox(const std::filesystem::path& file);

  // Queues mail under mail.id, due at nowMs, unless that id is already known. Returns the
  // id's status: kQueued with attempts 0 for a fresh insert, whatever it is otherwise.
  MailStatus enqueue(const OutboundMail& mail, std::int64_t nowMs);

  std::optional<MailStatus> status(std::string_view id);

  // The oldest queued mail due at nowMs, moved to sending with its attempt counted.
  std::optional<OutboxEntry> claimDue(std::int64_t nowMs);

  // When the earliest queued mail is due, or nullopt when none is queued.
  std::optional<std::int64_t> nextDue();

  void markSent(std::string_view id, std::string_view reply, std::int64_t nowMs);
  void markRetry(std::string_view id, std::string_view reply, std::int64_t dueMs, std::int64_t nowMs);
  void markDead(std::string_view id, std::string_view reply, std::int64_t nowMs);

  // At start: mail left in sending by a crash goes back to queued, due now, and is sent
  // again (at least once: the server may have taken it before the crash). Returns how many.
  int requeueInterrupted(std::int64_t nowMs);

 private:
  void setState(std::string_view id, MailState state, std::string_view reply, std::int64_t dueMs, std::int64_t nowMs);

  std::mutex mutex_;
  core::SqliteDatabase db_;
};

}  // namespace strata::integrations::smtp
