#include <strata/integrations/store/object_store.h>

#include <chrono>
#include <stdexcept>

#include <Poco/Data/Statement.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/codecs/payload.h>

namespace strata::integrations::store {

using Poco::Data::Keywords::bind;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using sql::Dialect;

namespace {

constexpr int kSchema = 1;

const char* opName(Change::Op op) {
  switch (op) {
    case Change::Op::kCreate: return "create";
    case Change::Op::kUpdate: return "update";
    case Change::Op::kDelete: return "delete";
  }
  return "update";
}

Change::Op opOf(const std::string& name) {
  if (name == "create") return Change::Op::kCreate;
  if (name == "delete") return Change::Op::kDelete;
  return Change::Op::kUpdate;
}

// How many characters (code points) UTF-8 text holds: substr() counts in those.
std::size_t characters(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string namesJson(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& name : names) {
    if (out.size() > 1) out += ',';
    codecs::writeJsonString(name, out);
  }
  return out + "]";
}

std::vector<std::string> parseNames(const std::string& json) {
  Poco::JSON::Parser parser;
  auto array = parser.parse(json).extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> out;
  for (unsigned i = 0; i < array->size(); ++i) out.push_back(array->getElement<std::string>(i));
  return out;
}


// A read or write transaction on a leased session that rolls back unless committed; a
// session whose rollback fails is discarded rather than handed to the next caller.
class Transaction {
 public:
  Transaction(sql::ConnectionPool::Lease& lease, Dialect dialect, bool writes, bool repeatable = false)
      : lease_(lease), dialect_(dialect) {
    if (dialect == Dialect::kPostgresql && repeatable) {
      lease.session().begin();
      lease.session() << "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", now;
    } else {
      sql::beginTransaction(lease.session(), dialect, writes);
    }
    open_ = true;
  }
  ~Transaction() { rollback(); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    sql::commitTransaction(lease_.session(), dialect_);
    open_ = false;
  }
  void rollback() noexcept {
    if (!open_) return;
    open_ = false;
    try {
      sql::rollbackTransaction(lease_.session(), dialect_);
    } catch (...) {
      lease_.discard();
    }
  }

 private:
  sql::ConnectionPool::Lease& lease_;
  Dialect dialect_;
  bool open_ = false;
};

}  // namespace

Attributes parseAttributes(std::string_view json) {
  codecs::PayloadLimits limits;
  limits.maxBytes = std::max(limits.maxBytes, json.size());
  auto decoded = codecs::jsonCodec().decode(json, limits);
  if (!decoded.ok()) throw std::invalid_argument(decoded.error);
  if (decoded.value.type() != typeid(Poco::JSON::Object::Ptr)) throw std::invalid_argument("is not a JSON object");
  auto object = decoded.value.extract<Poco::JSON::Object::Ptr>();
  Attributes out;
  for (const auto& [name, member] : *object) out.emplace(name, codecs::jsonCodec().encode(member));
  return out;
}

std::string attributesJson(const Attributes& attributes, const std::function<bool(const std::string&)>& keep) {
  std::string out = "{";
  for (const auto& [name, value] : attributes) {
    if (keep && !keep(name)) continue;
    if (out.size() > 1) out += ',';
    codecs::writeJsonString(name, out);
    out += ':';
    out += value;
  }
  return out + "}";
}

ObjectStore::ObjectStore(Settings settings)
    : settings_(std::move(settings)),
      pool_(settings_.dialect, settings_.database, settings_.poolSize),
      requests_(settings_.dialect) {
  auto lease = pool_.acquire();
  // Two store nodes starting on one PostgreSQL database may race to create the tables:
  // the loser's CREATE fails once, and the second attempt finds them there.
  try {
    createTables(lease.session());
  } catch (const Poco::Exception&) {
    createTables(lease.session());
  }
  requests_.prune(lease.session(), sql::RequestLog::nowMs() - settings_.requestRetentionMs);
}

std::string ObjectStore::ph(int position) const {
  return (settings_.dialect == Dialect::kSqlite ? "?" : "$") + std::to_string(position);
}

void ObjectStore::createTables(Poco::Data::Session& session) {
  const bool pg = settings_.dialect == Dialect::kPostgresql;
  const std::string keyType = pg ? "TEXT COLLATE \"C\"" : "TEXT";
  session << "CREATE TABLE IF NOT EXISTS strata_store_meta (id INTEGER PRIMARY KEY CHECK (id = 1), "
             "revision BIGINT NOT NULL, pruned BIGINT NOT NULL, schema INTEGER NOT NULL)",
      now;
  session << "INSERT INTO strata_store_meta (id, revision, pruned, schema) VALUES (1, 0, 0, " +
                 std::to_string(kSchema) + ") ON CONFLICT (id) DO NOTHING",
      now;
  int schema = 0;
  session << "SELECT schema FROM strata_store_meta WHERE id = 1", into(schema), now;
  if (schema != kSchema) {
    throw Poco::DataException("the store's tables are of schema " + std::to_string(schema) + ", this node reads " +
                              std::to_string(kSchema));
  }
  session << "CREATE TABLE IF NOT EXISTS strata_store_objects (collection " + keyType + " NOT NULL, key " + keyType +
                 " NOT NULL, revision BIGINT NOT NULL, attributes TEXT NOT NULL, PRIMARY KEY (collection, key))",
      now;
  session << "CREATE TABLE IF NOT EXISTS strata_store_changes (revision BIGINT PRIMARY KEY, collection " + keyType +
                 " NOT NULL, key " + keyType + " NOT NULL, op TEXT NOT NULL, attributes TEXT NOT NULL, "
                 "changed TEXT NOT NULL)",
      now;
  session << "CREATE INDEX IF NOT EXISTS strata_store_changes_collection ON strata_store_changes (collection, revision)",
      now;
  requests_.createTable(session);
}

WriteResult ObjectStore::write(const std::string& requestId, const Write& w, const Check& check, const Reply& reply) {
  auto lease = pool_.acquire();
  auto& session = lease.session();
  try {
    if (auto stored = requests_.find(session, requestId)) return {WriteResult::Status::kApplied, *stored, {}};
    Transaction tx(lease, settings_.dialect, true);
    try {
      requests_.claim(session, requestId, sql::RequestLog::nowMs());
    } catch (const Poco::Exception&) {
      // Most likely a copy of this request committed first: answer as it did (after the
      // rollback, which PostgreSQL needs before the failed transaction reads again).
      tx.rollback();
      if (auto stored = requests_.find(session, requestId)) return {WriteResult::Status::kApplied, *stored, {}};
      throw;
    }
    // The head row is locked first, so writes commit in the order of their revisions and
    // a reader of the log never sees a later revision before an earlier one.
    Poco::Int64 head = 0;
    session << "SELECT revision FROM strata_store_meta WHERE id = 1" +
                   std::string(settings_.dialect == Dialect::kPostgresql ? " FOR UPDATE" : ""),
        into(head), now;

    std::vector<Poco::Int64> revisions;
    std::vector<std::string> texts;
    std::string collection = w.collection, key = w.key;
    session << "SELECT revision, attributes FROM strata_store_objects WHERE collection = " + ph(1) + " AND key = " +
                   ph(2),
        bind(collection), bind(key), into(revisions), into(texts), now;
    std::optional<StoredObject> old;
    if (!revisions.empty()) old = StoredObject{key, revisions.front(), parseAttributes(texts.front())};

    std::int64_t current = old ? old->revision : 0;
    if (w.expect && *w.expect != current) {
      std::string text = !old ? "the object does not exist"
                               : *w.expect == 0 ? "the object exists already, at revision " + std::to_string(current)
                                                : "the object is at revision " + std::to_string(current);
      if (*w.expect != 0) text += ", not the expected " + std::to_string(*w.expect);
      return {WriteResult::Status::kConflict, {}, text + "; nothing changed"};
    }

    Change change;
    change.collection = w.collection;
    change.key = w.key;
    if (w.kind == Write::Kind::kDelete) {
      change.op = Change::Op::kDelete;
      if (old) {
        for (const auto& [name, value] : old->attributes) change.changed.push_back(name);
      }
    } else {
      change.op = old ? Change::Op::kUpdate : Change::Op::kCreate;
      change.attributes = w.kind == Write::Kind::kPatch && old ? old->attributes : Attributes{};
      if (w.kind == Write::Kind::kPut) {
        change.attributes = w.attributes;
      } else {
        for (const auto& [name, value] : w.attributes) change.attributes[name] = value;
        for (const auto& name : w.removed) change.attributes.erase(name);
      }
      const Attributes empty;
      const Attributes& before = old ? old->attributes : empty;
      for (const auto& [name, value] : change.attributes) {
        auto was = before.find(name);
        if (was == before.end() || was->second != value) change.changed.push_back(name);
      }
      for (const auto& [name, value] : before) {
        if (change.attributes.find(name) == change.attributes.end()) change.changed.push_back(name);
      }
    }
    bool changes = w.kind == Write::Kind::kDelete ? old.has_value() : (!old || !change.changed.empty());
    if (!changes) {
      change.revision = current;
      if (old) change.attributes = old->attributes;
      std::string body = reply(change, false);
      requests_.complete(session, requestId, body);
      tx.commit();
      return {WriteResult::Status::kUnchanged, body, {}};
    }
    if (auto refusal = check(change)) return {WriteResult::Status::kRefused, {}, *refusal};

    change.revision = head + 1;
    Poco::Int64 revision = change.revision;
    session << "UPDATE strata_store_meta SET revision = " + ph(1) + " WHERE id = 1", bind(revision), now;
    std::string attributes = attributesJson(change.attributes);
    if (change.op == Change::Op::kDelete) {
      session << "DELETE FROM strata_store_objects WHERE collection = " + ph(1) + " AND key = " + ph(2),
          bind(collection), bind(key), now;
    } else {
      session << "INSERT INTO strata_store_objects (collection, key, revision, attributes) VALUES (" + ph(1) + ", " +
                     ph(2) + ", " + ph(3) + ", " + ph(4) +
                     ") ON CONFLICT (collection, key) DO UPDATE SET revision = excluded.revision, "
                     "attributes = excluded.attributes",
          bind(collection), bind(key), bind(revision), bind(attributes), now;
    }
    std::string op = opName(change.op), changed = namesJson(change.changed);
    session << "INSERT INTO strata_store_changes (revision, collection, key, op, attributes, changed) VALUES (" +
                   ph(1) + ", " + ph(2) + ", " + ph(3) + ", " + ph(4) + ", " + ph(5) + ", " + ph(6) + ")",
        bind(revision), bind(collection), bind(key), bind(op), bind(attributes), bind(changed), now;
    prune(session, change.revision);
    std::string body = reply(change, true);
    requests_.complete(session, requestId, body);
    tx.commit();
    return {WriteResult::Status::kApplied, body, {}};
  } catch (...) {
    lease.discard();  // its state after a failure is unknown
    throw;
  }
}

void ObjectStore::prune(Poco::Data::Session& session, std::int64_t revision) {
  // Pruned in steps, not at every write: a tenth of the retention, at most 1,000.
  std::int64_t step = std::max<std::int64_t>(1, std::min<std::int64_t>(1000, settings_.retention / 10));
  if (revision % step != 0 || revision <= settings_.retention) return;
  Poco::Int64 cutoff = revision - settings_.retention;
  session << "DELETE FROM strata_store_changes WHERE revision <= " + ph(1), bind(cutoff), now;
  session << "UPDATE strata_store_meta SET pruned = " + ph(1) + " WHERE id = 1", bind(cutoff), now;
  requests_.prune(session, sql::RequestLog::nowMs() - settings_.requestRetentionMs);
}

std::optional<StoredObject> ObjectStore::get(const std::string& collection, const std::string& key) {
  auto lease = pool_.acquire();
  std::vector<Poco::Int64> revisions;
  std::vector<std::string> texts;
  std::string c = collection, k = key;
  try {
    lease.session() << "SELECT revision, attributes FROM strata_store_objects WHERE collection = " + ph(1) +
                           " AND key = " + ph(2),
        bind(c), bind(k), into(revisions), into(texts), now;
  } catch (...) {
    lease.discard();
    throw;
  }
  if (revisions.empty()) return std::nullopt;
  return StoredObject{key, revisions.front(), parseAttributes(texts.front())};
}

std::vector<StoredObject> ObjectStore::readPage(Poco::Data::Session& session, const std::string& collection,
                                                const std::string& prefix, const std::string& afterKey,
                                                std::size_t limit) const {
  std::vector<std::string> keys, texts;
  std::vector<Poco::Int64> revisions;
  std::string c = collection, p = prefix, after = afterKey;
  Poco::Int64 length = static_cast<Poco::Int64>(characters(prefix));
  std::string prefixClause = prefix.empty() ? "" : " AND substr(key, 1, " + ph(3) + ") = " + ph(4);
  Poco::Data::Statement select(session);
  select << "SELECT key, revision, attributes FROM strata_store_objects WHERE collection = " + ph(1) +
                " AND key > " + ph(2) + prefixClause + " ORDER BY key LIMIT " + std::to_string(limit),
      bind(c), bind(after), into(keys), into(revisions), into(texts);
  if (!prefix.empty()) select, bind(length), bind(p);
  select.execute();
  std::vector<StoredObject> objects;
  for (std::size_t i = 0; i < keys.size(); ++i) objects.push_back({keys[i], revisions[i], parseAttributes(texts[i])});
  return objects;
}

Poco::Int64 ObjectStore::headIn(Poco::Data::Session& session) {
  Poco::Int64 head = 0;
  session << "SELECT revision FROM strata_store_meta WHERE id = 1", into(head), now;
  return head;
}

ObjectStore::Page ObjectStore::list(const std::string& collection, const std::string& prefix,
                                    const std::string& afterKey, std::size_t limit) {
  auto lease = pool_.acquire();
  Page page;
  try {
    Transaction tx(lease, settings_.dialect, false, true);
    page.revision = headIn(lease.session());
    page.objects = readPage(lease.session(), collection, prefix, afterKey, limit + 1);
    tx.commit();
  } catch (...) {
    lease.discard();
    throw;
  }
  page.more = page.objects.size() > limit;
  if (page.more) page.objects.pop_back();
  return page;
}

std::int64_t ObjectStore::snapshot(const std::string& collection, const std::string& prefix, std::size_t pageSize,
                                   const std::function<void(std::int64_t head, std::vector<StoredObject>& page)>& onPage) {
  auto lease = pool_.acquire();
  try {
    // One read transaction: every page and the head revision are of the same moment.
    Transaction tx(lease, settings_.dialect, false, true);
    auto head = headIn(lease.session());
    std::string after;
    while (true) {
      auto objects = readPage(lease.session(), collection, prefix, after, pageSize);
      bool last = objects.size() < pageSize;
      if (!last) after = objects.back().key;
      if (!objects.empty()) onPage(head, objects);
      if (last) break;
    }
    tx.commit();
    return head;
  } catch (...) {
    lease.discard();
    throw;
  }
}

std::vector<Change> ObjectStore::changes(std::int64_t after, std::size_t limit, const std::string& collection,
                                         std::optional<std::int64_t> upTo) {
  auto lease = pool_.acquire();
  auto& session = lease.session();
  std::vector<Poco::Int64> revisions;
  std::vector<std::string> collections, keys, ops, texts, changed;
  try {
    Poco::Int64 from = after, to = upTo.value_or(0);
    std::string c = collection;
    std::string text = "SELECT revision, collection, key, op, attributes, changed FROM strata_store_changes WHERE revision > " +
                       ph(1);
    int next = 2;
    if (!collection.empty()) text += " AND collection = " + ph(next++);
    if (upTo) text += " AND revision <= " + ph(next++);
    text += " ORDER BY revision LIMIT " + std::to_string(limit);
    Poco::Data::Statement select(session);
    select << text, bind(from), into(revisions), into(collections), into(keys), into(ops), into(texts), into(changed);
    if (!collection.empty()) select, bind(c);
    if (upTo) select, bind(to);
    select.execute();
  } catch (...) {
    lease.discard();
    throw;
  }
  std::vector<Change> out(revisions.size());
  for (std::size_t i = 0; i < revisions.size(); ++i) {
    out[i].revision = revisions[i];
    out[i].collection = std::move(collections[i]);
    out[i].key = std::move(keys[i]);
    out[i].op = opOf(ops[i]);
    out[i].attributes = parseAttributes(texts[i]);
    out[i].changed = parseNames(changed[i]);
  }
  return out;
}

LogHead ObjectStore::head() {
  auto lease = pool_.acquire();
  Poco::Int64 revision = 0, pruned = 0;
  try {
    lease.session() << "SELECT revision, pruned FROM strata_store_meta WHERE id = 1", into(revision), into(pruned), now;
  } catch (...) {
    lease.discard();
    throw;
  }
  return {revision, pruned};
}

}  // namespace strata::integrations::store
