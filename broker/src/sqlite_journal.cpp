#include <strata/broker/journal.h>

#include <sqlite3.h>

#include <stdexcept>

#include <strata/codecs/wire_codec.h>
#include <strata/core/errors.h>

namespace strata::broker {

namespace {

std::string packFrames(const std::vector<std::string>& frames) {
  std::string out;
  for (const auto& f : frames) out += codecs::encodeU32(static_cast<std::uint32_t>(f.size())) + f;
  return out;
}

std::vector<std::string> unpackFrames(std::string_view blob) {
  std::vector<std::string> frames;
  while (blob.size() >= 4) {
    auto size = codecs::readU32(blob.substr(0, 4));
    blob.remove_prefix(4);
    if (size > blob.size()) return {};  // torn entry: the decoder refuses it later
    frames.emplace_back(blob.substr(0, size));
    blob.remove_prefix(size);
  }
  return frames;
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() { return stmt_; }
  void blob(int i, std::string_view b) {
    sqlite3_bind_blob(stmt_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db_));
  }
  std::string_view column(int i) {
    auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

SqliteJournal::SqliteJournal(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw ConfigError("cannot open the journal " + file.string() + ": " + why);
  }
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS strata_journal (id BLOB PRIMARY KEY, service TEXT NOT NULL,"
         " client TEXT NOT NULL, deadline_ms INTEGER NOT NULL, frames BLOB NOT NULL)");
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    throw ConfigError("cannot prepare the journal " + file.string() + ": " + e.what());
  }
}

SqliteJournal::~SqliteJournal() {
  if (inTransaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
}

void SqliteJournal::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string text = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("journal: " + text);
  }
}

void SqliteJournal::begin() {
  if (inTransaction_) return;
  exec("BEGIN");
  inTransaction_ = true;
}

void SqliteJournal::append(const JournalEntry& entry) {
  begin();
  Statement s(db_, "INSERT OR REPLACE INTO strata_journal (id, service, client, deadline_ms, frames)"
                   " VALUES (?, ?, ?, ?, ?)");
  s.blob(1, entry.id.bytes());
  sqlite3_bind_text(s.get(), 2, entry.service.data(), static_cast<int>(entry.service.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 3, entry.clientName.data(), static_cast<int>(entry.clientName.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s.get(), 4, entry.deadlineUnixMs);
  s.blob(5, packFrames(entry.frames));
  s.step();
}

void SqliteJournal::remove(const core::MessageId& id) {
  begin();
  Statement s(db_, "DELETE FROM strata_journal WHERE id = ?");
  s.blob(1, id.bytes());
  s.step();
}

void SqliteJournal::commit() {
  if (!inTransaction_) return;
  inTransaction_ = false;
  // With synchronous=FULL, COMMIT returns after the WAL is synced: only then may the
  // broker acknowledge. A failed COMMIT leaves the file as it was.
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw std::runtime_error("journal commit failed: " + why);
  }
}

std::vector<JournalEntry> SqliteJournal::loadPending() {
  std::vector<JournalEntry> out;
  Statement s(db_, "SELECT id, service, client, deadline_ms, frames FROM strata_journal ORDER BY rowid");
  while (s.step()) {
    auto id = core::MessageId::fromBytes(s.column(0));
    if (!id) continue;
    out.push_back({*id, std::string(s.column(1)), std::string(s.column(2)), sqlite3_column_int64(s.get(), 3),
                   unpackFrames(s.column(4))});
  }
  return out;
}

}  // namespace strata::broker
