// What sql.query and sql.transaction do, against a real database: a SQLite file in the
// unit tests, a real PostgreSQL server in the integration tests (see sql_backend.h).

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/core/errors.h>
#include <strata/integrations/sql/sql_service.h>

#include "sql_backend.h"

namespace strata::integrations::sql::test {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS notes (title TEXT PRIMARY KEY, body TEXT, stars BIGINT, score DOUBLE PRECISION, "
    "done BOOLEAN);\n"
    "-- a comment; with a semicolon\n"
    "CREATE TABLE IF NOT EXISTS audit (what TEXT NOT NULL);\n";

RequestId randomId() {
  static std::mt19937_64 random{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  RequestId id{};
  for (auto& byte : id) byte = static_cast<std::uint8_t>(random());
  return id;
}

Object::Ptr parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Object::Ptr>();
}

// The fixture's name says the database, so that ctest's names differ between the two
// binaries that compile this file.
#ifndef STRATA_SQL_SUITE
#define STRATA_SQL_SUITE SqliteBehaviour
#endif

class STRATA_SQL_SUITE : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = makeBackend();
    initFile_ = backend_->dataDir() / "schema.sql";
    std::ofstream(initFile_) << kSchema;
  }

  SqlConfig config() const {
    SqlConfig config = backend_->config();
    config.initFile = initFile_;
    config.statements = {
        {"insert_note", "INSERT INTO notes (title, body, stars, score, done) VALUES (:title, :body, :stars, :score, :done)"},
        {"add_note", "INSERT INTO notes (title, body) VALUES (:title, :body)"},
        {"get_note", "SELECT title, body, stars, score, done FROM notes WHERE title = :title"},
        {"list_notes", "SELECT title, body FROM notes ORDER BY title"},
        {"set_body", "UPDATE notes SET body = :body WHERE title LIKE :pattern"},
        {"either", "SELECT title FROM notes WHERE title = :t OR body = :t ORDER BY title"},
        {"audit", "INSERT INTO audit (what) VALUES (:what)"},
    };
    return config;
  }

  SqlService& service() {
    if (!service_) service_ = std::make_unique<SqlService>(config());
    return *service_;
  }

  ServiceResult query(const std::string& body, const RequestId& id = randomId()) { return service().query(id, body); }
  ServiceResult transaction(const std::string& body, const RequestId& id = randomId()) {
    return service().transaction(id, body);
  }
  long long notes() { return backend_->count("SELECT count(*) FROM notes"); }
  long long recorded() { return backend_->count("SELECT count(*) FROM strata_sql_requests"); }

  static std::string addNote(const std::string& title, const std::string& body = "b") {
    Object request;
    request.set("statement", "add_note");
    Object::Ptr params = new Object;
    params->set("title", title);
    params->set("body", body);
    request.set("params", params);
    std::ostringstream out;
    request.stringify(out);
    return out.str();
  }

  std::unique_ptr<SqlBackend> backend_;
  std::filesystem::path initFile_;
  std::unique_ptr<SqlService> service_;
};

TEST_F(STRATA_SQL_SUITE, InsertThenSelectRoundTripsEveryJsonType) {
  auto inserted = query(
      R"({"statement":"insert_note","params":{"title":"héllo \"w\"","body":null,"stars":9007199254740993,"score":2.5,"done":true}})");
  ASSERT_TRUE(inserted.ok()) << inserted.text;
  EXPECT_EQ(parse(inserted.body)->getValue<Poco::Int64>("affected"), 1);

  auto read = query(R"({"statement":"get_note","params":{"title":"héllo \"w\""}})");
  ASSERT_TRUE(read.ok()) << read.text;
  auto reply = parse(read.body);
  EXPECT_FALSE(reply->getValue<bool>("truncated"));
  auto rows = reply->getArray("rows");
  ASSERT_EQ(rows->size(), 1u);
  auto row = rows->getObject(0);
  EXPECT_EQ(row->getValue<std::string>("title"), "héllo \"w\"");
  EXPECT_TRUE(row->isNull("body"));
  EXPECT_EQ(row->getValue<Poco::Int64>("stars"), 9007199254740993LL);  // beyond a double's 53 bits
  EXPECT_DOUBLE_EQ(row->getValue<double>("score"), 2.5);
  EXPECT_TRUE(row->get("done").isBoolean());
  EXPECT_TRUE(row->getValue<bool>("done"));
  EXPECT_EQ(reply->getValue<Poco::Int64>("affected"), 1);
}

TEST_F(STRATA_SQL_SUITE, UpdateReportsAffectedRows) {
  ASSERT_TRUE(query(addNote("a1")).ok());
  ASSERT_TRUE(query(addNote("a2")).ok());
  ASSERT_TRUE(query(addNote("b1")).ok());
  auto updated = query(R"({"statement":"set_body","params":{"body":"new","pattern":"a%"}})");
  ASSERT_TRUE(updated.ok()) << updated.text;
  auto reply = parse(updated.body);
  EXPECT_EQ(reply->getValue<Poco::Int64>("affected"), 2);
  EXPECT_EQ(reply->getArray("rows")->size(), 0u);
  EXPECT_EQ(backend_->count("SELECT count(*) FROM notes WHERE body = 'new'"), 2);
}

TEST_F(STRATA_SQL_SUITE, ParameterUsedTwiceBindsOneValue) {
  ASSERT_TRUE(query(addNote("x", "y")).ok());
  ASSERT_TRUE(query(addNote("y", "z")).ok());
  auto read = query(R"({"statement":"either","params":{"t":"y"}})");
  ASSERT_TRUE(read.ok()) << read.text;
  auto rows = parse(read.body)->getArray("rows");
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->getObject(0)->getValue<std::string>("title"), "x");
  EXPECT_EQ(rows->getObject(1)->getValue<std::string>("title"), "y");
}

TEST_F(STRATA_SQL_SUITE, MissingParameterIsMalformedAndChangesNothing) {
  auto result = query(R"({"statement":"add_note","params":{"title":"t"}})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("'body'"), std::string::npos) << result.text;
  EXPECT_EQ(notes(), 0);
  EXPECT_EQ(recorded(), 0);
}

TEST_F(STRATA_SQL_SUITE, ExtraParameterIsMalformedAndChangesNothing) {
  auto result = query(R"({"statement":"add_note","params":{"title":"t","body":"b","stars":3}})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("extra parameter 'stars'"), std::string::npos) << result.text;
  EXPECT_EQ(notes(), 0);
}

TEST_F(STRATA_SQL_SUITE, UnknownOrOddStatementNamesAreMalformed) {
  for (const char* name : {"nope", "add_note; DROP TABLE notes", "INSERT INTO notes VALUES ('x')", "", "add note",
                           "../add_note", "add_note\\u0001"}) {
    Object request;
    request.set("statement", std::string(name));
    std::ostringstream body;
    request.stringify(body);
    auto result = query(body.str());
    EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED) << name;
    EXPECT_NE(result.text.find("statement"), std::string::npos) << result.text;
  }
  EXPECT_EQ(notes(), 0);
}

TEST_F(STRATA_SQL_SUITE, MalformedBodiesAreRefusedWithoutEffect) {
  for (const char* body : {"", "{", "[]", "null", "\"add_note\"", R"({"statement":5})",
                           R"({"statement":"add_note","params":[1,2]})", R"({"statement":"add_note","params":"x"})",
                           R"({"statement":"add_note","params":{"title":"t","body":"b"},"sql":"DROP TABLE notes"})",
                           R"({"params":{"title":"t","body":"b"}})",
                           R"({"statement":"add_note","params":{"title":"t","body":"b"}} trailing)"}) {
    auto result = query(body);
    EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED) << body;
    EXPECT_FALSE(result.text.empty());
  }
  for (const char* body : {"", "{}", R"({"steps":{}})", R"({"steps":[]})", R"({"steps":[5]})",
                           R"({"steps":[{"statement":"add_note","params":{"title":"t","body":"b"}}],"x":1})"}) {
    auto result = transaction(body);
    EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED) << body;
  }
  EXPECT_EQ(notes(), 0);
  EXPECT_EQ(recorded(), 0);
}

TEST_F(STRATA_SQL_SUITE, ValuesSqlCannotTakeAreMalformed) {
  for (const char* value : {R"({"a":1})", "[1]", "18446744073709551615"}) {
    std::string body = std::string(R"({"statement":"add_note","params":{"title":"t","body":)") + value + "}}";
    auto result = query(body);
    EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED) << body;
    EXPECT_NE(result.text.find("'body'"), std::string::npos) << result.text;
  }
  EXPECT_EQ(notes(), 0);
}

TEST_F(STRATA_SQL_SUITE, OversizedBodyIsRefusedUnreadAndChangesNothing) {
  auto config = this->config();
  config.maxBodyBytes = 1024;
  service_ = std::make_unique<SqlService>(config);
  auto result = query(addNote("big", std::string(2000, 'x')));
  EXPECT_EQ(result.code, STRATA_ERROR_TOO_LARGE);
  EXPECT_NE(result.text.find("max_body_bytes"), std::string::npos) << result.text;
  EXPECT_EQ(transaction(std::string(2000, ' ')).code, STRATA_ERROR_TOO_LARGE);
  EXPECT_EQ(notes(), 0);
  EXPECT_TRUE(query(addNote("small")).ok());
}

TEST_F(STRATA_SQL_SUITE, InjectionStringsAreStoredVerbatimAndTheTableSurvives) {
  const std::vector<std::string> hostile = {"'); DROP TABLE notes; --", "1 OR 1=1", "x' OR '1'='1",
                                            "\"; DELETE FROM notes; --", ":title", "?", "$1", "/* */ --",
                                            "Robert'); DROP TABLE audit;--"};
  for (const auto& text : hostile) {
    auto result = query(addNote(text, text));
    ASSERT_TRUE(result.ok()) << text << ": " << result.text;
  }
  EXPECT_EQ(notes(), static_cast<long long>(hostile.size()));
  for (const auto& text : hostile) {
    Object request;
    request.set("statement", "get_note");
    Object::Ptr params = new Object;
    params->set("title", text);
    request.set("params", params);
    std::ostringstream body;
    request.stringify(body);
    auto result = query(body.str());
    ASSERT_TRUE(result.ok()) << result.text;
    auto rows = parse(result.body)->getArray("rows");
    ASSERT_EQ(rows->size(), 1u) << text;  // exactly the one row, not every row
    EXPECT_EQ(rows->getObject(0)->getValue<std::string>("title"), text);
    EXPECT_EQ(rows->getObject(0)->getValue<std::string>("body"), text);
  }
  EXPECT_EQ(backend_->count("SELECT count(*) FROM audit"), 0);  // the other table is there too
}

TEST_F(STRATA_SQL_SUITE, TransactionAppliesEveryStepAndAnswersEach) {
  auto result = transaction(R"({"steps":[
      {"statement":"add_note","params":{"title":"t1","body":"b1"}},
      {"statement":"audit","params":{"what":"added t1"}},
      {"statement":"list_notes"}]})");
  ASSERT_TRUE(result.ok()) << result.text;
  auto results = parse(result.body)->getArray("results");
  ASSERT_EQ(results->size(), 3u);
  EXPECT_EQ(results->getObject(0)->getValue<Poco::Int64>("affected"), 1);
  EXPECT_EQ(results->getObject(1)->getValue<Poco::Int64>("affected"), 1);
  auto rows = results->getObject(2)->getArray("rows");
  ASSERT_EQ(rows->size(), 1u);  // the step sees the transaction's own insert
  EXPECT_EQ(rows->getObject(0)->getValue<std::string>("title"), "t1");
  EXPECT_EQ(notes(), 1);
  EXPECT_EQ(backend_->count("SELECT count(*) FROM audit"), 1);
}

TEST_F(STRATA_SQL_SUITE, ConstraintViolationRollsBackTheWholeTransaction) {
  ASSERT_TRUE(query(addNote("taken")).ok());
  auto result = transaction(R"({"steps":[
      {"statement":"audit","params":{"what":"before"}},
      {"statement":"add_note","params":{"title":"fresh","body":"b"}},
      {"statement":"add_note","params":{"title":"taken","body":"b"}}]})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("step 3"), std::string::npos) << result.text;
  EXPECT_NE(result.text.find("changed nothing"), std::string::npos) << result.text;
  EXPECT_EQ(notes(), 1);
  EXPECT_EQ(backend_->count("SELECT count(*) FROM audit"), 0);
  EXPECT_EQ(recorded(), 1);  // only the first insert's id
  // The service goes on working on the same sessions.
  EXPECT_TRUE(query(addNote("after")).ok());
}

TEST_F(STRATA_SQL_SUITE, MalformedStepAnywhereMeansNoStepRuns) {
  auto result = transaction(R"({"steps":[
      {"statement":"add_note","params":{"title":"t1","body":"b1"}},
      {"statement":"add_note","params":{"title":"t2"}}]})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("step 2"), std::string::npos) << result.text;
  EXPECT_EQ(notes(), 0);
}

TEST_F(STRATA_SQL_SUITE, TooManyStepsAreMalformed) {
  auto config = this->config();
  config.maxSteps = 2;
  service_ = std::make_unique<SqlService>(config);
  auto result = transaction(R"({"steps":[{"statement":"list_notes"},{"statement":"list_notes"},{"statement":"list_notes"}]})");
  EXPECT_EQ(result.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(result.text.find("max_steps"), std::string::npos) << result.text;
}

TEST_F(STRATA_SQL_SUITE, RetriedQueryIdIsAppliedOnceAndGetsTheStoredReply) {
  RequestId id = randomId();
  auto first = query(addNote("once"), id);
  ASSERT_TRUE(first.ok()) << first.text;
  auto second = query(addNote("once"), id);
  ASSERT_TRUE(second.ok()) << second.text;  // not a duplicate-key error: the stored reply
  EXPECT_EQ(second.body, first.body);
  // Even a retry whose body differs is answered from the record, never applied.
  auto third = query(addNote("other"), id);
  EXPECT_EQ(third.body, first.body);
  EXPECT_EQ(notes(), 1);
  EXPECT_EQ(recorded(), 1);
}

TEST_F(STRATA_SQL_SUITE, RetriedTransactionIdIsAppliedOnce) {
  RequestId id = randomId();
  const std::string body = R"({"steps":[{"statement":"audit","params":{"what":"x"}},{"statement":"audit","params":{"what":"y"}}]})";
  auto first = transaction(body, id);
  ASSERT_TRUE(first.ok()) << first.text;
  auto second = transaction(body, id);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(backend_->count("SELECT count(*) FROM audit"), 2);
}

TEST_F(STRATA_SQL_SUITE, TwoRacingCopiesOfOneIdApplyOnce) {
  auto config = this->config();
  config.poolSize = 2;
  service_ = std::make_unique<SqlService>(config);
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    RequestId id = randomId();
    std::atomic<int> ready{0};
    ServiceResult results[2];
    std::vector<std::thread> threads;
    for (int copy = 0; copy < 2; ++copy) {
      threads.emplace_back([&, copy] {
        ++ready;
        while (ready.load() < 2) std::this_thread::yield();  // start both together
        results[copy] = service().transaction(
            id, R"({"steps":[{"statement":"audit","params":{"what":"race"}},{"statement":"audit","params":{"what":"race"}}]})");
      });
    }
    for (auto& thread : threads) thread.join();
    ASSERT_TRUE(results[0].ok()) << results[0].text;
    ASSERT_TRUE(results[1].ok()) << results[1].text;
    EXPECT_EQ(results[0].body, results[1].body);
  }
  EXPECT_EQ(backend_->count("SELECT count(*) FROM audit"), 2 * kRounds);
  EXPECT_EQ(recorded(), kRounds);
}

TEST_F(STRATA_SQL_SUITE, FailedRequestIsNotRecordedSoItsRetryMayApply) {
  ASSERT_TRUE(query(addNote("busy")).ok());
  RequestId id = randomId();
  auto failed = query(addNote("busy"), id);
  EXPECT_EQ(failed.code, STRATA_ERROR_MALFORMED) << failed.text;
  backend_->exec("DELETE FROM notes WHERE title = 'busy'");
  auto retried = query(addNote("busy"), id);
  EXPECT_TRUE(retried.ok()) << retried.text;
  EXPECT_EQ(notes(), 1);
}

TEST_F(STRATA_SQL_SUITE, RowsBeyondMaxRowsAreTruncatedAndFlagged) {
  auto config = this->config();
  config.maxRows = 3;
  service_ = std::make_unique<SqlService>(config);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(query(addNote("n" + std::to_string(i))).ok());
  auto result = query(R"({"statement":"list_notes"})");
  ASSERT_TRUE(result.ok()) << result.text;
  auto reply = parse(result.body);
  EXPECT_EQ(reply->getArray("rows")->size(), 3u);
  EXPECT_TRUE(reply->getValue<bool>("truncated"));
  // The cap counts rows across the steps of a transaction.
  auto both = transaction(R"({"steps":[{"statement":"list_notes"},{"statement":"list_notes"}]})");
  ASSERT_TRUE(both.ok()) << both.text;
  auto results = parse(both.body)->getArray("results");
  EXPECT_EQ(results->getObject(0)->getArray("rows")->size(), 3u);
  EXPECT_EQ(results->getObject(1)->getArray("rows")->size(), 0u);
  EXPECT_TRUE(results->getObject(1)->getValue<bool>("truncated"));
  // Exactly max_rows rows are not truncated.
  backend_->exec("DELETE FROM notes WHERE title IN ('n3', 'n4')");
  EXPECT_FALSE(parse(query(R"({"statement":"list_notes"})").body)->getValue<bool>("truncated"));
}

TEST_F(STRATA_SQL_SUITE, QueriesAreNotRecorded) {
  ASSERT_TRUE(query(addNote("q")).ok());
  ASSERT_EQ(recorded(), 1);
  RequestId id = randomId();
  ASSERT_TRUE(query(R"({"statement":"list_notes"})", id).ok());
  ASSERT_TRUE(query(R"({"statement":"list_notes"})", id).ok());
  ASSERT_TRUE(transaction(R"({"steps":[{"statement":"list_notes"},{"statement":"get_note","params":{"title":"q"}}]})").ok());
  EXPECT_EQ(recorded(), 1);
}

TEST_F(STRATA_SQL_SUITE, ConcurrentWritersAllCommit) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  service();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto result = service().query(randomId(), addNote("w" + std::to_string(t) + "-" + std::to_string(i)));
        if (!result.ok()) {
          ++failures;
          ADD_FAILURE() << result.text;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(notes(), kThreads * kEach);
}

TEST_F(STRATA_SQL_SUITE, StatementThatDoesNotPrepareIsRefusedAtStartNamingItsKey) {
  auto config = this->config();
  config.statements["broken"] = "INSERT INTO no_such_table (a) VALUES (:a)";
  try {
    SqlService service(config);
    FAIL() << "started with a statement on a missing table";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.statement.broken"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
  }
  config.statements["broken"] = "SELEKT 1";
  EXPECT_THROW(SqlService{config}, ConfigError);
}

TEST_F(STRATA_SQL_SUITE, StatementWithPositionalPlaceholderIsRefusedAtStart) {
  auto config = this->config();
  config.statements["positional"] = "SELECT title FROM notes WHERE title = $1";
  try {
    SqlService service(config);
    FAIL() << "started with a positional placeholder";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.statement.positional"), std::string::npos) << e.what();
  }
}

TEST_F(STRATA_SQL_SUITE, InitFileRunsAtStartAndAgainWithoutHarm) {
  service();
  ASSERT_TRUE(query(addNote("kept")).ok());
  service_.reset();
  SqlService again(config());  // CREATE TABLE IF NOT EXISTS: the data stays
  EXPECT_EQ(notes(), 1);
  RequestId id = randomId();
  ASSERT_TRUE(again.query(id, addNote("k2")).ok());
  service_.reset();
  SqlService third(config());  // the request records survive a restart too
  EXPECT_TRUE(third.query(id, addNote("k2")).ok());
  EXPECT_EQ(notes(), 2);
}

TEST_F(STRATA_SQL_SUITE, BadInitFileIsRefusedAtStart) {
  auto config = this->config();
  config.initFile = backend_->dataDir() / "missing.sql";
  EXPECT_THROW(SqlService{config}, ConfigError);
  std::ofstream(backend_->dataDir() / "bad.sql") << "CREATE TABLE ok_one (a INTEGER);\nCREATE TABEL oops (a INTEGER);\n";
  config.initFile = backend_->dataDir() / "bad.sql";
  try {
    SqlService service(config);
    FAIL() << "started with a broken init file";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("strata.plugin.sql.init: statement 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace strata::integrations::sql::test
