#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <strata/core/message_id.h>
#include <strata/core/sqlite.h>

namespace strata::broker {

// A durable request as the journal keeps it: enough to queue it again after a crash.
struct JournalEntry {
  core::MessageId id;
  std::string service;
  std::string clientName;
  std::int64_t deadlineUnixMs = 0;  // wall clock, since the broker's steady clock restarts with it
  std::vector<std::string> frames;  // the request as it goes to a worker
};

// Where durable requests wait until a worker has answered them. Writes are grouped:
// append() and remove() take effect at the next commit(), which returns only once the
// data is on disk; the broker acknowledges a durable request only after that.
class Journal {
 public:
  virtual ~Journal() = default;
  virtual void append(const JournalEntry& entry) = 0;
  virtual void remove(const core::MessageId& id) = 0;
  // Throws std::runtime_error when the write did not reach the disk; nothing is acknowledged then.
  virtual void commit() = 0;
  virtual bool hasUncommitted() const = 0;
  virtual std::vector<JournalEntry> loadPending() = 0;
  // A journal shared by several brokers: renews this broker's hold on its requests and
  // takes over those whose holder has stopped renewing (it died). Each request is held by
  // one broker at a time. A journal of one broker has nothing to take over.
  virtual std::vector<JournalEntry> takeOver() { return {}; }
  virtual std::chrono::milliseconds takeOverInterval() const { return std::chrono::milliseconds(0); }
};

// The embedded journal: a SQLite file in WAL mode with synchronous=FULL.
class SqliteJournal final : public Journal {
 public:
  // Throws ConfigError if the file cannot be opened or prepared.
  explicit SqliteJournal(const std::filesystem::path& file);
  ~SqliteJournal() override;
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  void append(const JournalEntry& entry) override;
  void remove(const core::MessageId& id) override;
  void commit() override;
  bool hasUncommitted() const override { return inTransaction_; }
  std::vector<JournalEntry> loadPending() override;

 private:
  void begin();

  core::SqliteDatabase db_;
  bool inTransaction_ = false;
};

// A journal shared by the brokers of a pool, in PostgreSQL. Every request is held by the
// broker that journaled it under a lease it renews; when a broker dies its lease runs out
// and a surviving broker's takeOver() claims its requests, one claimer per request (an
// UPDATE ... WHERE the lease has run out, row by row).
class PostgresJournal final : public Journal {
 public:
  // conninfo: a libpq connection string or URI. Throws ConfigError if it cannot connect.
  PostgresJournal(const std::string& conninfo, std::string owner, std::chrono::milliseconds lease);
  ~PostgresJournal() override;
  PostgresJournal(const PostgresJournal&) = delete;
  PostgresJournal& operator=(const PostgresJournal&) = delete;

  void append(const JournalEntry& entry) override;
  void remove(const core::MessageId& id) override;
  void commit() override;
  bool hasUncommitted() const override { return inTransaction_; }
  std::vector<JournalEntry> loadPending() override { return takeOver(); }
  std::vector<JournalEntry> takeOver() override;
  std::chrono::milliseconds takeOverInterval() const override { return lease_ / 3; }

 private:
  struct Connection;
  void begin();

  std::unique_ptr<Connection> connection_;
  std::string owner_;
  std::chrono::milliseconds lease_;
  bool inTransaction_ = false;
};

}  // namespace strata::broker
