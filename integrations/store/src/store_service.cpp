#include <strata/integrations/store/store_service.h>


#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>

#include <limits>

#include <strata/codecs/payload.h>
#include <strata/core/errors.h>
#include <strata/integrations/common/whole_number.h>
#include <strata/integrations/sql/connection_pool.h>

namespace strata::integrations::store {

namespace {

using Poco::JSON::Object;

constexpr std::size_t kMaxCollection = 128;
constexpr std::size_t kMaxKey = 1024;
constexpr std::size_t kMaxAttributeName = 256;
constexpr std::size_t kDefaultListLimit = 100;
constexpr std::size_t kMaxListLimit = 1000;
constexpr std::size_t kSnapshotPage = 500;
constexpr std::chrono::milliseconds kStreamMargin{500};  // a stream ends this much before its deadline

std::string fullKey(std::string_view key) { return std::string(StoreConfig::kKeyPrefix) + std::string(key); }

// A request that cannot be served as it is: answered with code (`malformed` unless said)
// and this text.
struct BadRequest : std::runtime_error {
  explicit BadRequest(const std::string& text, strata_error c = STRATA_ERROR_MALFORMED)
      : std::runtime_error(text), code(c) {}
  strata_error code;
};

bool printable(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// Text quoted for an error, cut at 64 bytes: a caller's key is not echoed whole.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxQuoted = 64;
  return "'" + std::string(text.substr(0, kMaxQuoted)) + (text.size() > kMaxQuoted ? "...'" : "'");
}

// The request body as a JSON object whose members are all among `allowed`.
Object::Ptr parseRequest(std::string_view body, std::size_t maxBytes, std::initializer_list<std::string_view> allowed) {
  if (body.size() > maxBytes) {
    throw BadRequest("the body is " + std::to_string(body.size()) + " bytes, over max_body_bytes " +
                         std::to_string(maxBytes),
                     STRATA_ERROR_TOO_LARGE);
  }
  codecs::PayloadLimits limits;
  limits.maxBytes = maxBytes;
  auto decoded = codecs::jsonCodec().decode(body, limits);
  if (!decoded.ok()) throw BadRequest("the body is not JSON the store reads: " + decoded.error);
  const auto& value = decoded.value;
  if (value.type() != typeid(Object::Ptr)) throw BadRequest("the body must be a JSON object");
  auto object = value.extract<Object::Ptr>();
  for (const auto& [name, member] : *object) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw BadRequest("the body has an unknown member " + quote(name) + " (it may have: " + list + ")");
    }
  }
  return object;
}

std::string text(const Object::Ptr& object, const std::string& name, bool required, std::size_t maxBytes) {
  if (!object->has(name)) {
    if (required) throw BadRequest("the body lacks " + quote(name));
    return {};
  }
  auto value = object->get(name);
  if (!value.isString()) throw BadRequest(quote(name) + " must be a string");
  auto out = value.extract<std::string>();
  if (out.size() > maxBytes || !printable(out)) {
    throw BadRequest(quote(name) + " must be at most " + std::to_string(maxBytes) +
                     " bytes with no control characters");
  }
  return out;
}

std::string collectionOf(const Object::Ptr& object) {
  auto name = text(object, "collection", true, kMaxCollection);
  bool ok = !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
                                 std::string::npos;
  if (!ok) throw BadRequest("'collection' must be 1 to 128 of A-Z a-z 0-9 _ -, not " + quote(name));
  return name;
}

std::string keyOf(const Object::Ptr& object) {
  auto key = text(object, "key", true, kMaxKey);
  if (key.empty()) throw BadRequest("'key' must not be empty");
  return key;
}

// A member that must be a whole number in [min, max] (an unsigned value past Int64 too).
std::optional<std::int64_t> wholeMember(const Object::Ptr& object, const std::string& name, std::int64_t min,
                                        std::int64_t max, const std::string& what) {
  if (!object->has(name)) return std::nullopt;
  auto value = object->get(name);
  std::optional<std::int64_t> number;
  if (value.isInteger()) {
    try {
      number = value.convert<Poco::Int64>();
    } catch (const Poco::Exception&) {
      // past the largest Int64: refused below
    }
  }
  if (!number || *number < min || *number > max) throw BadRequest(quote(name) + " must be " + what);
  return number;
}

std::optional<std::int64_t> revisionOf(const Object::Ptr& object, const std::string& name) {
  return wholeMember(object, name, 0, std::numeric_limits<std::int64_t>::max(), "a revision: a whole number, 0 or more");
}

std::string stringify(const Poco::Dynamic::Var& value) { return codecs::jsonCodec().encode(value); }

std::string describe(const Caller& caller) {
  return "layer " + std::to_string(caller.layer) + (caller.name.empty() ? "" : " (" + caller.name + ")");
}

void appendObject(std::string& out, const StoredObject& object, const std::string& collection,
                  const AccessRules& rules, const Caller& caller) {
  out += "{\"key\":";
  codecs::writeJsonString(object.key, out);
  out += ",\"revision\":" + std::to_string(object.revision) + ",\"attributes\":";
  out += attributesJson(object.attributes,
                        [&](const std::string& name) { return rules.mayRead(collection, name, caller); });
  out += '}';
}

Who whoOf(const std::map<std::string, std::string>& keys, const std::string& key) {
  try {
    return Who::parse(keys.at(key));
  } catch (const std::invalid_argument& e) {
    throw ConfigError(fullKey(key) + " " + e.what());
  }
}

long long number(const std::map<std::string, std::string>& keys, const std::string& key, long long fallback,
                 long long min, long long max) {
  auto it = keys.find(key);
  return wholeNumberSetting(it == keys.end() ? std::nullopt : std::optional<std::string>(it->second), fullKey(key),
                            fallback, min, max);
}

// The ".read"/".write" suffix of a rule key, as a member of AccessRules::Rule.
using RulePart = std::optional<Who> AccessRules::Rule::*;
RulePart partOf(std::string_view key) {
  if (key.ends_with(".read")) return &AccessRules::Rule::read;
  if (key.ends_with(".write")) return &AccessRules::Rule::write;
  return nullptr;
}

}  // namespace

StoreConfig StoreConfig::fromKeys(const std::map<std::string, std::string>& keys, const std::filesystem::path& dataDir) {
  StoreConfig c;
  std::string connector = keys.count("connector") ? keys.at("connector") : "sqlite";
  if (connector == "sqlite") {
    c.database.dialect = sql::Dialect::kSqlite;
    std::filesystem::path file = keys.count("database") ? keys.at("database") : std::string(kDefaultSqliteFile);
    c.database.database = (file.is_absolute() ? file : dataDir / file).string();
  } else if (connector == "postgresql") {
    c.database.dialect = sql::Dialect::kPostgresql;
    if (!keys.count("database")) throw ConfigError(fullKey("database") + " must be set for postgresql");
    try {
      c.database.database = sql::ConnectionPool::libpqKeyValues(keys.at("database"));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(fullKey("database") + ": " + e.what());
    }
  } else {
    throw ConfigError(fullKey("connector") + " must be sqlite or postgresql, not '" + connector + "'");
  }
  c.database.poolSize = static_cast<std::size_t>(number(keys, "pool_size", 4, 1, 256));
  c.database.retention = number(keys, "retention", 100000, 1, 1000000000);
  c.feed.maxWatches = static_cast<std::size_t>(number(keys, "max_watches", 10000, 1, 1000000));
  c.feed.poll = std::chrono::milliseconds(number(keys, "poll_ms", 50, 1, 60000));
  c.watchStream = std::chrono::milliseconds(number(keys, "watch_ms", 30000, 1000, 3600000));
  c.maxBodyBytes = static_cast<std::size_t>(number(keys, "max_body_bytes", 1024 * 1024, 1024, 64 * 1024 * 1024));
  AccessRules::Rule defaults;
  if (keys.count("read")) defaults.read = whoOf(keys, "read");
  if (keys.count("write")) defaults.write = whoOf(keys, "write");
  c.rules.setDefault(defaults);
  // collection.<name>.read|write and collection.<name>.attribute.<attribute>.read|write
  for (const auto& [key, value] : keys) {
    if (!key.starts_with("collection.")) continue;
    auto part = partOf(key);
    std::string_view rest = std::string_view(key).substr(std::string_view("collection.").size());
    auto dot = rest.find('.');
    if (part == nullptr || dot == std::string_view::npos || dot == 0) {
      throw ConfigError(fullKey(key) + " is not collection.<name>.read|write or "
                                       "collection.<name>.attribute.<attribute>.read|write");
    }
    std::string collection(rest.substr(0, dot));
    std::string_view tail = rest.substr(dot + 1);
    AccessRules::Rule rule;
    rule.*part = whoOf(keys, key);
    if (tail == "read" || tail == "write") {
      c.rules.setCollection(collection, rule);
      continue;
    }
    if (!tail.starts_with("attribute.")) throw ConfigError(fullKey(key) + " is not a rule the store knows");
    std::string attribute(tail.substr(std::string_view("attribute.").size()));
    attribute.resize(attribute.size() - (key.ends_with(".read") ? 5 : 6));
    if (attribute.empty()) throw ConfigError(fullKey(key) + " names no attribute");
    c.rules.setAttribute(collection, attribute, rule);
  }
  return c;
}

StoreService::StoreService(StoreConfig config) : config_(std::move(config)) {
  store_ = std::make_unique<ObjectStore>(config_.database);
  feed_ = std::make_unique<ChangeFeed>(*store_, config_.rules, config_.feed);
}

StoreService::~StoreService() = default;

StoreResult StoreService::write(std::string_view service, const std::string& requestId, const Caller& caller,
                                std::string_view body) {
  try {
    Write w;
    Object::Ptr request;
    if (service == kDelete) {
      w.kind = Write::Kind::kDelete;
      request = parseRequest(body, config_.maxBodyBytes, {"collection", "key", "expect"});
    } else {
      w.kind = service == kPatch ? Write::Kind::kPatch : Write::Kind::kPut;
      request = parseRequest(body, config_.maxBodyBytes, {"collection", "key", "attributes", "expect"});
      if (!request->has("attributes") || request->get("attributes").type() != typeid(Object::Ptr)) {
        throw BadRequest("'attributes' must be a JSON object");
      }
      auto attributes = request->getObject("attributes");
      for (const auto& [name, value] : *attributes) {
        if (name.empty() || name.size() > kMaxAttributeName || !printable(name)) {
          throw BadRequest("attribute names must be 1 to 256 bytes with no control characters");
        }
        if (w.kind == Write::Kind::kPatch && value.isEmpty()) {
          w.removed.insert(name);  // null removes it
        } else {
          w.attributes.emplace(name, stringify(value));
        }
      }
    }
    w.collection = collectionOf(request);
    w.key = keyOf(request);
    w.expect = revisionOf(request, "expect");
    const AccessRules& rules = config_.rules;
    auto check = [&](const Change& change) -> std::optional<std::string> {
      for (const auto& name : change.changed) {
        if (rules.mayWrite(w.collection, name, caller)) continue;
        // Name the attribute only when the caller may read it or wrote it itself.
        bool named = rules.mayRead(w.collection, name, caller) || w.attributes.count(name) || w.removed.count(name);
        return describe(caller) + " may not write " +
               (named ? "attribute " + quote(name) : std::string("every attribute this would change")) + " of " +
               quote(w.collection) + "; nothing changed";
      }
      if (change.changed.empty() && !rules.mayWrite(w.collection, {}, caller)) {
        return describe(caller) + " may not write to " + quote(w.collection) + "; nothing changed";
      }
      return std::nullopt;
    };
    auto reply = [&](const Change& change, bool changed) {
      std::string out = "{\"collection\":";
      codecs::writeJsonString(change.collection, out);
      out += ",\"key\":";
      codecs::writeJsonString(change.key, out);
      out += ",\"revision\":" + std::to_string(change.revision);
      out += std::string(",\"changed\":") + (changed ? "true" : "false");
      out += std::string(",\"exists\":") + (change.op == Change::Op::kDelete ? "false" : "true") + "}";
      return out;
    };
    auto result = store_->write(requestId, w, check, reply);
    switch (result.status) {
      case WriteResult::Status::kConflict: return StoreResult::failure(STRATA_ERROR_CONFLICT, result.text);
      case WriteResult::Status::kRefused: return StoreResult::failure(STRATA_ERROR_FORBIDDEN, result.text);
      case WriteResult::Status::kApplied: feed_->poke(); break;
      case WriteResult::Status::kUnchanged: break;
    }
    return StoreResult::success(std::move(result.reply));
  } catch (const BadRequest& e) {
    return StoreResult::failure(e.code, e.what());
  } catch (const sql::PoolExhausted& e) {
    return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, e.what());
  } catch (const Poco::Exception& e) {
    return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, "the store's database failed and nothing changed: " +
                                                              e.displayText());
  }
}

StoreResult StoreService::get(const Caller& caller, std::string_view body) {
  try {
    auto request = parseRequest(body, config_.maxBodyBytes, {"collection", "key"});
    auto collection = collectionOf(request);
    auto key = keyOf(request);
    auto object = store_->get(collection, key);
    std::string out = "{\"collection\":";
    codecs::writeJsonString(collection, out);
    if (!object) {
      out += ",\"key\":";
      codecs::writeJsonString(key, out);
      return StoreResult::success(out + ",\"exists\":false}");
    }
    out += ",\"exists\":true,";
    std::string item;
    appendObject(item, *object, collection, config_.rules, caller);
    return StoreResult::success(out + item.substr(1));
  } catch (const BadRequest& e) {
    return StoreResult::failure(e.code, e.what());
  } catch (const Poco::Exception& e) {
    return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, "the store's database failed: " + e.displayText());
  }
}

StoreResult StoreService::list(const Caller& caller, std::string_view body) {
  try {
    auto request = parseRequest(body, config_.maxBodyBytes, {"collection", "prefix", "after_key", "limit"});
    auto collection = collectionOf(request);
    auto prefix = text(request, "prefix", false, kMaxKey);
    auto afterKey = text(request, "after_key", false, kMaxKey);
    auto limit = static_cast<std::size_t>(
        wholeMember(request, "limit", 1, kMaxListLimit, "a whole number from 1 to " + std::to_string(kMaxListLimit))
            .value_or(kDefaultListLimit));
    auto page = store_->list(collection, prefix, afterKey, limit);
    std::string out = "{\"collection\":";
    codecs::writeJsonString(collection, out);
    out += ",\"revision\":" + std::to_string(page.revision) + ",\"objects\":[";
    for (std::size_t i = 0; i < page.objects.size(); ++i) {
      if (i > 0) out += ',';
      appendObject(out, page.objects[i], collection, config_.rules, caller);
    }
    out += std::string("],\"more\":") + (page.more ? "true" : "false");
    if (page.more) {
      out += ",\"next\":";
      codecs::writeJsonString(page.objects.back().key, out);
    }
    return StoreResult::success(out + "}");
  } catch (const BadRequest& e) {
    return StoreResult::failure(e.code, e.what());
  } catch (const Poco::Exception& e) {
    return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, "the store's database failed: " + e.displayText());
  }
}

StoreResult StoreService::watch(const Caller& caller, std::string_view body, std::chrono::milliseconds timeLeft,
                                const WatchReply& reply) {
  try {
    auto request = parseRequest(body, config_.maxBodyBytes, {"collection", "prefix", "after"});
    auto collection = collectionOf(request);
    auto prefix = text(request, "prefix", false, kMaxKey);
    auto after = revisionOf(request, "after");
    if (!after) {
      // The snapshot: every matching object as of one revision, in pages, then "ready".
      std::size_t part = 0, count = 0;
      auto head = store_->snapshot(collection, prefix, kSnapshotPage, [&](std::int64_t at, auto& objects) {
        std::string out = "{\"type\":\"snapshot\",\"revision\":" + std::to_string(at) +
                          ",\"part\":" + std::to_string(part++) + ",\"objects\":[";
        for (std::size_t i = 0; i < objects.size(); ++i) {
          if (i > 0) out += ',';
          appendObject(out, objects[i], collection, config_.rules, caller);
        }
        count += objects.size();
        reply.partial(out + "]}");
      });
      return StoreResult::success("{\"type\":\"ready\",\"revision\":" + std::to_string(head) +
                                  ",\"parts\":" + std::to_string(part) + ",\"objects\":" + std::to_string(count) + "}");
    }
    auto log = store_->head();
    if (*after < log.pruned || *after > log.revision) {
      std::string why = *after < log.pruned ? "the change log no longer holds revision " + std::to_string(*after + 1)
                                            : "revision " + std::to_string(*after) + " is ahead of this store's " +
                                                  std::to_string(log.revision);
      return StoreResult::success("{\"type\":\"reset\",\"reason\":\"" + why + "\",\"from\":" + std::to_string(*after) +
                                  "}");
    }
    if (!feed_->reserve()) {
      return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, "the store holds " +
                                                                std::to_string(config_.feed.maxWatches) +
                                                                " watches already (max_watches)");
    }
    auto sink = reply.detach ? reply.detach() : nullptr;
    if (!sink) {
      feed_->release();
      return StoreResult::failure(STRATA_ERROR_MALFORMED,
                                  "store.watch streams only to callers through a broker or a direct connection");
    }
    auto length = std::min(config_.watchStream, timeLeft - kStreamMargin);
    WatchSpec spec{collection, prefix, caller, *after,
                   std::chrono::steady_clock::now() + std::max(length, std::chrono::milliseconds(100))};
    feed_->add(std::move(spec), std::move(sink));
    return StoreResult::success({});
  } catch (const BadRequest& e) {
    return StoreResult::failure(e.code, e.what());
  } catch (const Poco::Exception& e) {
    return StoreResult::failure(STRATA_ERROR_UNAVAILABLE, "the store's database failed: " + e.displayText());
  }
}

}  // namespace strata::integrations::store
