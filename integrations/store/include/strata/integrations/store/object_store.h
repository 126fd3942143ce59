#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <strata/integrations/sql/connection_pool.h>
#include <strata/integrations/sql/dialect.h>
#include <strata/integrations/sql/request_log.h>

namespace strata::integrations::store {

// An object's attributes: each name with its value as JSON text, sorted by name.
using Attributes = std::map<std::string, std::string, std::less<>>;

struct StoredObject {
  std::string key;
  std::int64_t revision = 0;  // of the change that last wrote it
  Attributes attributes;
};

// One entry of the change log. Revisions count every change of the store, all
// collections together, from 1 with no gaps: the database hands them out in commit order.
struct Change {
  enum class Op { kCreate, kUpdate, kDelete };
  std::int64_t revision = 0;
  std::string collection;
  std::string key;
  Op op = Op::kUpdate;
  Attributes attributes;             // after the change; empty for a delete
  std::vector<std::string> changed;  // the attributes whose value it changed (a delete: all)
};

// What a write asks for. put replaces the object's attributes, patch sets the given ones
// and removes those in `removed`, remove deletes the object.
struct Write {
  enum class Kind { kPut, kPatch, kDelete };
  Kind kind = Kind::kPut;
  std::string collection;
  std::string key;
  Attributes attributes;
  std::set<std::string, std::less<>> removed;
  std::optional<std::int64_t> expect;  // the revision it must find; 0: the object must not exist
};

struct WriteResult {
  enum class Status { kApplied, kUnchanged, kConflict, kRefused };
  Status status = Status::kApplied;
  std::string reply;  // the reply body: stored with the request id when applied or unchanged
  std::string text;   // why, for a conflict or a refusal
};

// The head of the change log.
struct LogHead {
  std::int64_t revision = 0;  // the last change
  std::int64_t pruned = 0;    // every change up to this one has left the log
};

// Objects and their change log in SQLite or PostgreSQL, each write applied once per
// request id. Tables (created when missing):
//   strata_store_meta(id = 1, revision, pruned, schema)  the log's head, locked by each write
//   strata_store_objects(collection, key, revision, attributes)
//   strata_store_changes(revision, collection, key, op, attributes, changed)
// and the SQL integration's request log. Thread-safe.
class ObjectStore {
 public:
  struct Settings {
    sql::Dialect dialect = sql::Dialect::kSqlite;
    std::string database;
    std::size_t poolSize = 4;
    std::int64_t retention = 100000;  // changes kept in the log
    long long requestRetentionMs = 7LL * 24 * 3600 * 1000;
  };

  // Decides whether the write, as it would change the object, may happen: nullopt, or why not.
  using Check = std::function<std::optional<std::string>(const Change& proposed)>;
  // The reply body for the change made (or, when nothing changed, for the object as it is).
  using Reply = std::function<std::string(const Change& change, bool changed)>;

  // Opens the database and creates the tables. Throws Poco::Exception from the connector.
  explicit ObjectStore(Settings settings);

  // Applies the write once for requestId (32 hex digits): a repeated id answers the reply
  // stored the first time. Throws Poco::Exception (the database failed; nothing changed)
  // and sql::PoolExhausted.
  WriteResult write(const std::string& requestId, const Write& write, const Check& check, const Reply& reply);

  std::optional<StoredObject> get(const std::string& collection, const std::string& key);

  struct Page {
    std::vector<StoredObject> objects;
    std::int64_t revision = 0;  // the log's head as the page was read
    bool more = false;
  };
  // Objects of a collection whose key starts with prefix and sorts after afterKey (byte
  // order), at most limit.
  Page list(const std::string& collection, const std::string& prefix, const std::string& afterKey, std::size_t limit);
  // Every matching object as of one moment, in pages of pageSize; returns that moment's
  // head revision. onPage runs inside the read transaction.
  std::int64_t snapshot(const std::string& collection, const std::string& prefix, std::size_t pageSize,
                        const std::function<void(std::int64_t head, std::vector<StoredObject>& page)>& onPage);

  // Changes after `after` (and up to `upTo`, when given), at most limit, in order; of one
  // collection when collection is not empty.
  std::vector<Change> changes(std::int64_t after, std::size_t limit, const std::string& collection = {},
                              std::optional<std::int64_t> upTo = std::nullopt);
  LogHead head();

  sql::Dialect dialect() const { return settings_.dialect; }

 private:
  std::string ph(int position) const;
  // One page of objects in key order after afterKey, at most limit, on session.
  std::vector<StoredObject> readPage(Poco::Data::Session& session, const std::string& collection,
                                     const std::string& prefix, const std::string& afterKey, std::size_t limit) const;
  static Poco::Int64 headIn(Poco::Data::Session& session);
  void createTables(Poco::Data::Session& session);
  void prune(Poco::Data::Session& session, std::int64_t revision);

  Settings settings_;
  sql::ConnectionPool pool_;
  sql::RequestLog requests_;
};

// JSON helpers shared by the store's parts.
// A JSON object's members as Attributes. Throws std::invalid_argument when it is not one.
Attributes parseAttributes(std::string_view json);
// Attributes as a JSON object, only those keep(name) accepts when keep is given.
std::string attributesJson(const Attributes& attributes, const std::function<bool(const std::string&)>& keep = {});

}  // namespace strata::integrations::store
