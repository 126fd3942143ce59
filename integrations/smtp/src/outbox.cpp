#include <strata/integrations/smtp/outbox.h>

#include <stdexcept>

namespace strata::integrations::smtp {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
  envelope_from TEXT NOT NULL,
  recipients TEXT NOT NULL,
  data BLOB NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_reply TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_ms);
)sql";

constexpr char kRecipientSeparator = '\n';  // addr-specs never hold one

MailState stateOf(std::string_view text) {
  if (text == "queued") return MailState::kQueued;
  if (text == "sending") return MailState::kSending;
  if (text == "sent") return MailState::kSent;
  if (text == "dead") return MailState::kDead;
  throw std::runtime_error("outbox holds an unknown state '" + std::string(text) + "'");
}

std::string joinRecipients(const std::vector<std::string>& recipients) {
  std::string out;
  for (const auto& r : recipients) {
    if (!out.empty()) out += kRecipientSeparator;
    out += r;
  }
  return out;
}

std::vector<std::string> splitRecipients(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(kRecipientSeparator, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// BEGIN IMMEDIATE ... COMMIT, rolled back when the body throws.
template <class F>
auto inTransaction(core::SqliteDatabase& db, F&& body) {
  db.exec("BEGIN IMMEDIATE");
  try {
    auto result = body();
    db.exec("COMMIT");
    return result;
  } catch (...) {
    try {
      db.exec("ROLLBACK");
    } catch (const std::exception&) {
      // The original error says more; a failed rollback leaves SQLite's own rollback.
    }
    throw;
  }
}

}  // namespace

std::string_view toString(MailState state) {
  switch (state) {
    case MailState::kQueued: return "queued";
    case MailState::kSending: return "sending";
    case MailState::kSent: return "sent";
    case MailState::kDead: return "dead";
  }
  return "unknown";
}

Outbox::Outbox(const std::filesystem::path& file) : db_(file) { db_.exec(kSchema); }

MailStatus Outbox::enqueue(const OutboundMail& mail, std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  // One statement, one COMMIT: the row is the queue entry, and a known id stays as it is.
  core::SqliteStatement insert(db_.handle(),
                               "INSERT INTO outbox (id, state, envelope_from, recipients, data, next_attempt_ms, "
                               "created_ms, updated_ms) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?) "
                               "ON CONFLICT (id) DO NOTHING");
  insert.bindText(1, mail.id);
  insert.bindText(2, mail.envelopeFrom);
  insert.bindText(3, joinRecipients(mail.recipients));
  insert.bindBlob(4, mail.data);
  insert.bindInt(5, nowMs);
  insert.bindInt(6, nowMs);
  insert.bindInt(7, nowMs);
  insert.step();
  core::SqliteStatement select(db_.handle(), "SELECT state, attempts, last_reply FROM outbox WHERE id = ?");
  select.bindText(1, mail.id);
  if (!select.step()) throw std::runtime_error("outbox lost the row it just wrote");
  return {stateOf(select.blob(0)), static_cast<int>(select.integer(1)), std::string(select.blob(2))};
}

std::optional<MailStatus> Outbox::status(std::string_view id) {
  std::lock_guard lock(mutex_);
  core::SqliteStatement select(db_.handle(), "SELECT state, attempts, last_reply FROM outbox WHERE id = ?");
  select.bindText(1, id);
  if (!select.step()) return std::nullopt;
  return MailStatus{stateOf(select.blob(0)), static_cast<int>(select.integer(1)), std::string(select.blob(2))};
}

std::optional<OutboxEntry> Outbox::claimDue(std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  return inTransaction(db_, [&]() -> std::optional<OutboxEntry> {
    core::SqliteStatement select(db_.handle(),
                                 "SELECT id, envelope_from, recipients, data, attempts FROM outbox "
                                 "WHERE state = 'queued' AND next_attempt_ms <= ? "
                                 "ORDER BY next_attempt_ms, created_ms LIMIT 1");
    select.bindInt(1, nowMs);
    if (!select.step()) return std::nullopt;
    OutboxEntry entry;
    entry.mail.id = std::string(select.blob(0));
    entry.mail.envelopeFrom = std::string(select.blob(1));
    entry.mail.recipients = splitRecipients(select.blob(2));
    entry.mail.data = std::string(select.blob(3));
    entry.attempts = static_cast<int>(select.integer(4)) + 1;
    core::SqliteStatement update(db_.handle(),
                                 "UPDATE outbox SET state = 'sending', attempts = ?, updated_ms = ? WHERE id = ?");
    update.bindInt(1, entry.attempts);
    update.bindInt(2, nowMs);
    update.bindText(3, entry.mail.id);
    update.step();
    return entry;
  });
}

std::optional<std::int64_t> Outbox::nextDue() {
  std::lock_guard lock(mutex_);
  core::SqliteStatement select(db_.handle(),
                               "SELECT next_attempt_ms FROM outbox WHERE state = 'queued' "
                               "ORDER BY next_attempt_ms LIMIT 1");
  if (!select.step()) return std::nullopt;
  return select.integer(0);
}

void Outbox::markSent(std::string_view id, std::string_view reply, std::int64_t nowMs) {
  setState(id, MailState::kSent, reply, nowMs, nowMs);
}

void Outbox::markRetry(std::string_view id, std::string_view reply, std::int64_t dueMs, std::int64_t nowMs) {
  setState(id, MailState::kQueued, reply, dueMs, nowMs);
}

void Outbox::markDead(std::string_view id, std::string_view reply, std::int64_t nowMs) {
  setState(id, MailState::kDead, reply, nowMs, nowMs);
}

int Outbox::requeueInterrupted(std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  return inTransaction(db_, [&] {
    core::SqliteStatement update(db_.handle(),
                                 "UPDATE outbox SET state = 'queued', next_attempt_ms = ?, updated_ms = ?, "
                                 "last_reply = 'interrupted while sending; sending again' WHERE state = 'sending'");
    update.bindInt(1, nowMs);
    update.bindInt(2, nowMs);
    update.step();
    core::SqliteStatement changes(db_.handle(), "SELECT changes()");
    changes.step();
    return static_cast<int>(changes.integer(0));
  });
}

void Outbox::setState(std::string_view id, MailState state, std::string_view reply, std::int64_t dueMs,
                      std::int64_t nowMs) {
  std::lock_guard lock(mutex_);
  core::SqliteStatement update(db_.handle(),
                               "UPDATE outbox SET state = ?, last_reply = ?, next_attempt_ms = ?, updated_ms = ? "
                               "WHERE id = ?");
  update.bindText(1, toString(state));
  update.bindText(2, reply);
  update.bindInt(3, dueMs);
  update.bindInt(4, nowMs);
  update.bindText(5, id);
  update.step();
}

}  // namespace strata::integrations::smtp
