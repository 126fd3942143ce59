#include <strata/integrations/sql/connection_pool.h>

#include <mutex>

#include <libpq-fe.h>

#include <Poco/Data/DataException.h>
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/URI.h>

namespace strata::integrations::sql {

namespace {

void registerConnectors() {
  static std::once_flag once;
  std::call_once(once, [] {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::PostgreSQL::Connector::registerConnector();
  });
}

void appendPair(std::string& out, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  if (value.find_first_of(" '\\=") != std::string::npos) {
    throw std::invalid_argument("the connection URI's " + key + " holds a space, quote, backslash or '='");
  }
  if (!out.empty()) out += ' ';
  out += key + '=' + value;
}

// Poco's PostgreSQL connector never finishes the PGconn of a connect that failed, and
// libpq keeps that attempt's socket open until it is finished: a server that is down
// would use up the process's file descriptors, one per call. So the connection is tried
// with libpq first, and always finished; Poco opens its own only after that succeeded.
void tryPostgres(const std::string& connection, std::chrono::seconds timeout) {
  // A connect_timeout of the user's own comes later in the text and wins.
  std::string conninfo = "connect_timeout=" + std::to_string(timeout.count()) + " " + connection;
  PGconn* conn = PQconnectdb(conninfo.c_str());
  bool ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
  std::string error = conn != nullptr ? PQerrorMessage(conn) : "libpq is out of memory";
  PQfinish(conn);
  if (ok) return;
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  throw Poco::Data::ConnectionFailedException("Connection Error: " + error);
}

}  // namespace

std::string ConnectionPool::libpqKeyValues(const std::string& connection) {
  if (!connection.starts_with("postgresql://") && !connection.starts_with("postgres://")) return connection;
  Poco::URI uri(connection);
  std::string out;
  appendPair(out, "host", uri.getHost());
  if (uri.getPort() != 0) appendPair(out, "port", std::to_string(uri.getPort()));
  const std::string& userInfo = uri.getUserInfo();
  auto colon = userInfo.find(':');
  appendPair(out, "user", userInfo.substr(0, colon));
  if (colon != std::string::npos) appendPair(out, "password", userInfo.substr(colon + 1));
  std::string path = uri.getPath();
  if (path.starts_with('/')) path.erase(0, 1);
  appendPair(out, "dbname", path);
  for (const auto& [key, value] : uri.getQueryParameters()) appendPair(out, key, value);
  return out;
}

ConnectionPool::ConnectionPool(Dialect dialect, std::string database, std::size_t size)
    : dialect_(dialect), connection_(std::move(database)), size_(size) {
  registerConnectors();
  if (dialect_ == Dialect::kPostgresql) connection_ = libpqKeyValues(connection_);
  idle_.push_back(open());
  open_ = 1;
}

ConnectionPool::~ConnectionPool() = default;

std::unique_ptr<Poco::Data::Session> ConnectionPool::open() {
  if (dialect_ == Dialect::kPostgresql) tryPostgres(connection_, kOpenTimeout);
  auto session = std::make_unique<Poco::Data::Session>(std::string(connectorName(dialect_)), connection_,
                                                       static_cast<std::size_t>(kOpenTimeout.count()));
  if (dialect_ == Dialect::kSqlite) {
    using Poco::Data::Keywords::now;
    // journal_mode answers with a row; the others with none.
    *session << "PRAGMA journal_mode = WAL", now;
    *session << "PRAGMA synchronous = FULL", now;
    *session << "PRAGMA busy_timeout = " + std::to_string(kSqliteBusyTimeout.count()), now;
    *session << "PRAGMA foreign_keys = ON", now;
  }
  return session;
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  if (!freed_.wait_for(lock, kAcquireTimeout, [&] { return !idle_.empty() || open_ < size_; })) {
    throw PoolExhausted("all " + std::to_string(size_) + " database sessions stayed busy for " +
                        std::to_string(kAcquireTimeout.count()) + " ms");
  }
  if (!idle_.empty()) {
    auto session = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(session));
  }
  // The database refused a session a moment ago: say so again at once rather than have
  // every caller knock on a server that is down or restarting.
  auto ago = refusedAt_ ? std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                               *refusedAt_)
                        : kReopenPause;
  if (ago < kReopenPause) {
    throw Poco::Data::ConnectionFailedException(refusal_ + " (" + std::to_string(ago.count()) +
                                                " ms ago; the next attempt within " +
                                                std::to_string(kReopenPause.count()) + " ms)");
  }
  ++open_;  // reserve the slot, then open without holding the lock
  lock.unlock();
  try {
    return Lease(*this, open());
  } catch (const Poco::Exception& e) {
    lock.lock();
    --open_;
    refusedAt_ = std::chrono::steady_clock::now();
    refusal_ = e.displayText();
    freed_.notify_one();
    throw;
  } catch (...) {
    lock.lock();
    --open_;
    freed_.notify_one();
    throw;
  }
}

void ConnectionPool::giveBack(std::unique_ptr<Poco::Data::Session> session, bool discard) noexcept {
  bool keep = !discard;
  try {
    keep = keep && session->isConnected();
  } catch (...) {
    keep = false;
  }
  {
    std::lock_guard lock(mutex_);
    if (keep) {
      idle_.push_back(std::move(session));
    } else {
      --open_;
    }
  }
  freed_.notify_one();
  if (!keep) {
    try {
      session.reset();
    } catch (...) {
      // Closing a broken connection may fail; the slot is free either way.
    }
  }
}

void ConnectionPool::Lease::release() noexcept {
  if (session_) pool_->giveBack(std::move(session_), discard_);
}

void beginTransaction(Poco::Data::Session& session, Dialect dialect, bool writes) {
  if (dialect == Dialect::kSqlite) {
    session << (writes ? "BEGIN IMMEDIATE" : "BEGIN"), Poco::Data::Keywords::now;
    return;
  }
  session.begin();
  if (!writes) session << "SET TRANSACTION READ ONLY", Poco::Data::Keywords::now;
}

void commitTransaction(Poco::Data::Session& session, Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    session << "COMMIT", Poco::Data::Keywords::now;
  } else {
    session.commit();
  }
}

void rollbackTransaction(Poco::Data::Session& session, Dialect dialect) {
  if (dialect == Dialect::kSqlite) {
    session << "ROLLBACK", Poco::Data::Keywords::now;
  } else {
    session.rollback();
  }
}

}  // namespace strata::integrations::sql
