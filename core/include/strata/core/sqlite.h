#pragma once

#include <filesystem>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace strata::core {

// An open SQLite database in WAL mode with synchronous=FULL: a COMMIT returns only once
// the write is on disk. Owns the handle; move-only. Throws ConfigError if it cannot open.
class SqliteDatabase {
 public:
  explicit SqliteDatabase(const std::filesystem::path& file);
  ~SqliteDatabase();
  SqliteDatabase(SqliteDatabase&& other) noexcept;
  SqliteDatabase& operator=(SqliteDatabase&&) = delete;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs SQL without results. Throws std::runtime_error with SQLite's message.
  void exec(const char* sql);

 private:
  sqlite3* db_ = nullptr;
};

// A prepared statement, finalized on every path out. Throws std::runtime_error on errors.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void bindBlob(int index, std::string_view blob);
  void bindText(int index, std::string_view text);
  void bindInt(int index, long long value);
  // True for a row, false when done.
  bool step();
  std::string_view blob(int column);
  long long integer(int column);

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace strata::core
