#include <strata/broker/journal.h>

#include <sqlite3.h>

#include <stdexcept>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>
#include <strata/core/sqlite.h>

namespace strata::broker {

namespace {

using core::SqliteStatement;

}  // namespace

SqliteJournal::SqliteJournal(const std::filesystem::path& file) : db_(file) {
  try {
    db_.exec("CREATE TABLE IF NOT EXISTS strata_journal (id BLOB PRIMARY KEY, service TEXT NOT NULL,"
             " client TEXT NOT NULL, deadline_ms INTEGER NOT NULL, frames BLOB NOT NULL)");
  } catch (const std::exception& e) {
    throw ConfigError("cannot prepare the journal " + file.string() + ": " + e.what());
  }
}

SqliteJournal::~SqliteJournal() {
  if (inTransaction_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteJournal::begin() {
  if (inTransaction_) return;
  db_.exec("BEGIN");
  inTransaction_ = true;
}

void SqliteJournal::append(const JournalEntry& entry) {
  begin();
  SqliteStatement s(db_.handle(), "INSERT OR REPLACE INTO strata_journal (id, service, client, deadline_ms, frames)"
                                  " VALUES (?, ?, ?, ?, ?)");
  s.bindBlob(1, entry.id.bytes());
  s.bindText(2, entry.service);
  s.bindText(3, entry.clientName);
  s.bindInt(4, entry.deadlineUnixMs);
  s.bindBlob(5, codecs::packFrames(entry.frames));
  s.step();
}

void SqliteJournal::remove(const core::MessageId& id) {
  begin();
  SqliteStatement s(db_.handle(), "DELETE FROM strata_journal WHERE id = ?");
  s.bindBlob(1, id.bytes());
  s.step();
}

void SqliteJournal::commit() {
  if (!inTransaction_) return;
  inTransaction_ = false;
  // With synchronous=FULL, COMMIT returns after the WAL is synced: only then may the
  // broker acknowledge. A failed COMMIT leaves the file as it was.
  if (sqlite3_exec(db_.handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_.handle());
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw std::runtime_error("journal commit failed: " + why);
  }
}

std::vector<JournalEntry> SqliteJournal::loadPending() {
  std::vector<JournalEntry> out;
  SqliteStatement s(db_.handle(), "SELECT id, service, client, deadline_ms, frames FROM strata_journal ORDER BY rowid");
  while (s.step()) {
    auto id = core::MessageId::fromBytes(s.blob(0));
    auto frames = codecs::unpackFrames(s.blob(4));
    if (!id || !frames) continue;  // torn: the request was never acknowledged
    out.push_back({*id, std::string(s.blob(1)), std::string(s.blob(2)), s.integer(3),
                   std::vector<std::string>(frames->begin(), frames->end())});
  }
  return out;
}

}  // namespace strata::broker
