#include <strata/core/sqlite.h>

#include <sqlite3.h>

#include <stdexcept>

#include <strata/core/errors.h>

namespace strata::core {

namespace {

constexpr int kBusyTimeoutMs = 5000;

}  // namespace

SqliteDatabase::SqliteDatabase(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw ConfigError("cannot open " + file.string() + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);  // another connection may hold the write lock
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
  } catch (const std::exception& e) {
    sqlite3_close(db_);
    throw ConfigError("cannot prepare " + file.string() + ": " + e.what());
  }
}

SqliteDatabase::~SqliteDatabase() { sqlite3_close(db_); }

SqliteDatabase::SqliteDatabase(SqliteDatabase&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

void SqliteDatabase::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string text = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw std::runtime_error(text);
  }
}

SqliteStatement::SqliteStatement(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db));
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::bindBlob(int index, std::string_view blob) {
  sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
}

void SqliteStatement::bindText(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void SqliteStatement::bindInt(int index, long long value) { sqlite3_bind_int64(stmt_, index, value); }

bool SqliteStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw std::runtime_error(sqlite3_errmsg(db_));
}

std::string_view SqliteStatement::blob(int column) {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return {data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

long long SqliteStatement::integer(int column) { return sqlite3_column_int64(stmt_, column); }

}  // namespace strata::core
