#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include <strata/integrations/sql/dialect.h>

namespace strata::integrations::sql {

// All sessions stayed busy for as long as a caller could wait.
class PoolExhausted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Database sessions shared by the handler threads: at most `size` are open, each used by
// one thread at a time (a Poco::Data::Session is not thread-safe). Sessions open lazily
// and are set up once when they open: on SQLite WAL, synchronous=FULL, a busy timeout and
// foreign keys. A lease that saw its connection fail is discarded instead of returned.
//
// Thread-safe. Must outlive every lease.
class ConnectionPool {
 public:
  // How long SQLite waits for another connection's write lock before SQLITE_BUSY.
  static constexpr std::chrono::milliseconds kSqliteBusyTimeout{10000};
  // How long opening a session may take (Poco retries a failing SQLite open until then).
  static constexpr std::chrono::seconds kOpenTimeout{10};
  // How long acquire() waits for a free session.
  static constexpr std::chrono::milliseconds kAcquireTimeout{30000};
  // After a session failed to open, how long acquire() answers with that failure at once
  // instead of trying again.
  static constexpr std::chrono::milliseconds kReopenPause{1000};

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Poco::Data::Session> session)
        : pool_(&pool), session_(std::move(session)) {}
    ~Lease() { release(); }
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), session_(std::move(other.session_)), discard_(other.discard_) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Poco::Data::Session& session() { return *session_; }
    // The session is in an unknown state (a failed rollback, a lost connection): close
    // it rather than hand it to the next caller.
    void discard() { discard_ = true; }

   private:
    void release() noexcept;
    ConnectionPool* pool_;
    std::unique_ptr<Poco::Data::Session> session_;
    bool discard_ = false;
  };

  // Opens one session at once, so that a bad database or connection string fails here.
  // Throws Poco::Exception from the connector.
  ConnectionPool(Dialect dialect, std::string database, std::size_t size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A free session, opening one if fewer than size are open. Throws PoolExhausted after
  // kAcquireTimeout, Poco::Exception when a new session does not open (or, for
  // kReopenPause after that, at once with the same text).
  Lease acquire();

  Dialect dialect() const { return dialect_; }

  // The libpq key=value form of a postgresql:// or postgres:// URI (Poco's connector reads
  // only key=value); any other text is returned as it is. Throws std::invalid_argument
  // for a URI whose parts would need quoting.
  static std::string libpqKeyValues(const std::string& connection);

 private:
  std::unique_ptr<Poco::Data::Session> open();
  void giveBack(std::unique_ptr<Poco::Data::Session> session, bool discard) noexcept;

  Dialect dialect_;
  std::string connection_;
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
  std::size_t open_ = 0;  // idle plus leased
  // The last session that did not open: when, and why.
  std::optional<std::chrono::steady_clock::time_point> refusedAt_;
  std::string refusal_;
};

// Opens a transaction for work that writes or not. On SQLite, IMMEDIATE takes the write
// lock now, so that two writers queue on the busy timeout instead of one failing when its
// read lock cannot be upgraded. On PostgreSQL work that does not write runs READ ONLY: a
// SELECT with an effect (nextval, a function that writes, FOR UPDATE) is refused there
// with SQLSTATE 25006 instead of done unnoticed.
void beginTransaction(Poco::Data::Session& session, Dialect dialect, bool writes);
void commitTransaction(Poco::Data::Session& session, Dialect dialect);
void rollbackTransaction(Poco::Data::Session& session, Dialect dialect);

}  // namespace strata::integrations::sql
