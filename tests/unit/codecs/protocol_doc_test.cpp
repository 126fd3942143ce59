// docs/protocol.md describes the wire protocol for implementers of other clients. These
// tests hold its command table and error-code table to the codec's one description
// (kCommands, ErrorCode, errorCodeName), and its byte-level example to the encoder, so
// the page cannot drift from the code.

#include <cstdint>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <strata/codecs/protocol.h>
#include <strata/codecs/wire_codec.h>
#include <strata/core/message_id.h>

namespace strata::codecs {
namespace {

const char* const kDocPath = STRATA_SOURCE_DIR "/docs/protocol.md";

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

std::vector<std::string> docLines() {
  std::ifstream in(kDocPath);
  EXPECT_TRUE(in) << "cannot read " << kDocPath;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The cells of a Markdown table row "| a | b | c |", trimmed; empty if line is no row.
std::vector<std::string> cells(const std::string& line) {
  std::string row = trim(line);
  if (row.size() < 2 || row.front() != '|' || row.back() != '|') return {};
  std::vector<std::string> out;
  std::stringstream in(row.substr(1, row.size() - 2));
  for (std::string cell; std::getline(in, cell, '|');) out.push_back(trim(cell));
  if (row.size() >= 3 && row[row.size() - 2] == '|') out.push_back("");  // "||" at the end
  return out;
}

bool isNumber(const std::string& text, int base) {
  if (text.empty()) return false;
  for (char c : text) {
    bool digit = (c >= '0' && c <= '9') || (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    if (!digit) return false;
  }
  return true;
}

struct Row {
  unsigned long code;
  std::string name;
  std::string third;
  int line;
};

// Rows of the command table: those whose first cell is a hex code, "0x01".
std::vector<Row> commandRows() {
  std::vector<Row> rows;
  auto lines = docLines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto c = cells(lines[i]);
    if (c.size() != 3 || c[0].size() < 3 || c[0].rfind("0x", 0) != 0 || !isNumber(c[0].substr(2), 16)) continue;
    rows.push_back({std::stoul(c[0].substr(2), nullptr, 16), c[1], c[2], static_cast<int>(i) + 1});
  }
  return rows;
}

// Rows of the table under the "## Error codes" heading whose first cell is a number.
std::vector<Row> errorRows() {
  std::vector<Row> rows;
  bool inSection = false;
  auto lines = docLines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.rfind("## ", 0) == 0) inSection = trim(line.substr(3)) == "Error codes";
    if (!inSection) continue;
    auto c = cells(line);
    if (c.size() < 3 || !isNumber(c[0], 10)) continue;
    rows.push_back({std::stoul(c[0]), c[1], c[2], static_cast<int>(i) + 1});
  }
  return rows;
}

// The frames of the example REQUEST under "Example:", one per line of its code block:
// the leading two-digit hex bytes of each line; "<...>" stands for the id.
// The example's envelope: the code block after "Example:", each line some bytes of the
// one frame in hex (up to the first word that is not two hex digits), "<...>" the id.
std::string exampleEnvelope(const std::string& id) {
  std::string envelope;
  auto lines = docLines();
  std::size_t i = 0;
  while (i < lines.size() && lines[i].rfind("Example:", 0) != 0) ++i;
  while (i < lines.size() && lines[i].rfind("```", 0) != 0) ++i;
  for (++i; i < lines.size() && lines[i].rfind("```", 0) != 0; ++i) {
    std::string line = trim(lines[i]);
    if (line.rfind("<", 0) == 0) {
      envelope += id;
      continue;
    }
    std::stringstream words(line);
    for (std::string word; words >> word;) {
      if (word.size() != 2 || !isNumber(word, 16)) break;
      envelope.push_back(static_cast<char>(std::stoi(word, nullptr, 16)));
    }
  }
  return envelope;
}

TEST(ProtocolDoc, ListsEveryCommandOnce) {
  auto rows = commandRows();
  std::map<unsigned long, int> seen;
  for (const auto& row : rows) ++seen[row.code];
  for (const auto& spec : kCommands) {
    EXPECT_EQ(seen[static_cast<std::uint8_t>(spec.command)], 1) << spec.name << " rows in the command table";
  }
  EXPECT_EQ(rows.size(), kCommands.size());
}

TEST(ProtocolDoc, CommandRowsMatchCommandTable) {
  auto rows = commandRows();
  ASSERT_FALSE(rows.empty()) << "no '| 0x01 | REQUEST | ... |' rows in " << kDocPath;
  for (const auto& row : rows) {
    SCOPED_TRACE("docs/protocol.md:" + std::to_string(row.line));
    const CommandSpec* spec = row.code <= 0xff ? findCommand(static_cast<std::uint8_t>(row.code)) : nullptr;
    if (!spec) {
      ADD_FAILURE() << "code 0x" << std::hex << row.code << " is not a command";
      continue;
    }
    EXPECT_EQ(row.name, spec->name);
    EXPECT_EQ(row.third, spec->fields) << spec->name;
  }
}

TEST(ProtocolDoc, ListsEveryErrorCodeWithItsName) {
  auto rows = errorRows();
  std::map<unsigned long, std::string> documented;
  for (const auto& row : rows) {
    EXPECT_TRUE(documented.emplace(row.code, row.name).second) << "code " << row.code << " listed twice";
  }
  for (std::uint32_t raw = 0; raw <= 0xffff; ++raw) {
    if (!isKnownErrorCode(static_cast<std::uint16_t>(raw))) continue;
    auto it = documented.find(raw);
    ASSERT_NE(it, documented.end()) << "error code " << raw << " is missing from the error code table";
    EXPECT_EQ(it->second, errorCodeName(static_cast<ErrorCode>(raw))) << "error code " << raw;
  }
}

TEST(ProtocolDoc, ListsOnlyKnownErrorCodes) {
  auto rows = errorRows();
  ASSERT_FALSE(rows.empty()) << "no error code table under '## Error codes' in " << kDocPath;
  for (const auto& row : rows) {
    EXPECT_TRUE(row.code <= 0xffff && isKnownErrorCode(static_cast<std::uint16_t>(row.code)))
        << "docs/protocol.md:" << row.line << " lists code " << row.code;
    EXPECT_FALSE(row.third.empty()) << "docs/protocol.md:" << row.line << " says nothing about " << row.name;
  }
}

TEST(ProtocolDoc, ExampleRequestBytesMatchEncoder) {
  auto id = core::MessageId::generate();
  Request example;
  example.id = id;
  example.service = "echo";
  example.timeoutMs = 5000;
  example.headers = {{"trace-id", "7"}};
  example.body = {"hi"};
  EXPECT_EQ(std::vector<std::string>{exampleEnvelope(std::string(id.bytes()))}, encode(example));
}

// The fuzz corpus is only a regression test if its valid seeds are valid: the replay checks
// the round trip on those alone, and a seed that stopped decoding would pass it silently.
// The seeds tests/fuzz/make_wire_corpus.py writes are named valid_* and broken_*; the
// inputs the fuzzer added (named by their hash) may be either, and the replay runs them.
TEST(FuzzCorpus, ValidSeedsDecodeAndBrokenOnesDoNot) {
  namespace fs = std::filesystem;
  std::size_t valid = 0;
  std::size_t broken = 0;
  for (const auto& entry : fs::directory_iterator(STRATA_SOURCE_DIR "/tests/fuzz/corpus")) {
    auto name = entry.path().filename().string();
    if (!name.starts_with("valid_") && !name.starts_with("broken_")) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty()) << entry.path();
    std::vector<std::string> frames;
    std::size_t pos = 1;
    for (std::size_t i = 0; i < static_cast<std::uint8_t>(bytes[0]) % 16; ++i) {
      ASSERT_LE(pos + 2, bytes.size()) << entry.path();
      std::size_t length = (static_cast<std::uint8_t>(bytes[pos]) << 8) | static_cast<std::uint8_t>(bytes[pos + 1]);
      frames.push_back(bytes.substr(pos + 2, length));
      pos += 2 + length;
    }
    std::vector<std::string_view> views(frames.begin(), frames.end());
    if (name.starts_with("valid_")) {
      EXPECT_EQ(decode(views).error, DecodeError::kNone) << name;
      ++valid;
    } else {
      EXPECT_NE(decode(views).error, DecodeError::kNone) << name;
      ++broken;
    }
  }
  EXPECT_GE(valid, kCommands.size());
  EXPECT_GT(broken, 0u);
}

}  // namespace
}  // namespace strata::codecs
