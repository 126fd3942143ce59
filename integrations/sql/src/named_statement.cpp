#include <strata/integrations/sql/named_statement.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "sql_scanner.h"

namespace strata::integrations::sql {

namespace {

bool isIdentifierStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool isIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool isComment(const SqlSegment& segment) {
  return !segment.code && (segment.text.starts_with("--") || segment.text.starts_with("/*"));
}

std::string placeholder(Dialect dialect, std::size_t position) {
  return (dialect == Dialect::kSqlite ? "?" : "$") + std::to_string(position);
}

// The first keyword, lower case, when the statement starts with one (after blanks,
// comments and opening parentheses); empty otherwise.
std::string firstKeyword(const std::vector<SqlSegment>& segments) {
  for (const auto& segment : segments) {
    if (isComment(segment)) continue;
    if (!segment.code) return {};
    std::string word;
    for (char c : segment.text) {
      if (isIdentifierChar(c)) {
        word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      } else if (!word.empty()) {
        return word;
      } else if (!isSpace(c) && c != '(') {
        return {};
      }
    }
    if (!word.empty()) return word;
  }
  return {};
}

}  // namespace

bool NamedStatement::isValidName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
         });
}

NamedStatement::NamedStatement(std::string name, std::string_view text, Dialect dialect) : name_(std::move(name)) {
  if (!isValidName(name_)) {
    throw std::invalid_argument("statement name '" + name_ + "' must be 1 to " + std::to_string(kMaxNameLength) +
                                " of the characters A-Z a-z 0-9 _ . -");
  }
  const auto segments = scanSql(text, dialect);
  const bool sqlite = dialect == Dialect::kSqlite;
  bool ended = false;    // a ';' was seen: only blanks and comments may follow
  bool hasCode = false;
  char previous = '\0';  // the last character written, for context
  for (const auto& segment : segments) {
    if (!segment.code) {
      if (ended && !isComment(segment)) throw std::invalid_argument("holds more than one statement");
      if (!ended) sql_ += segment.text;
      if (!isComment(segment)) hasCode = true;
      previous = '\0';
      continue;
    }
    const std::string& code = segment.text;
    for (std::size_t i = 0; i < code.size(); ++i) {
      char c = code[i];
      char next = i + 1 < code.size() ? code[i + 1] : '\0';
      if (ended) {
        if (!isSpace(c)) throw std::invalid_argument("holds more than one statement");
        continue;
      }
      if (c == ';') {
        ended = true;
        continue;
      }
      if (!isSpace(c)) hasCode = true;
      if (c == ':' && next == ':') {
        sql_ += "::";  // a PostgreSQL cast
        ++i;
      } else if (c == ':' && isIdentifierStart(next) && !isIdentifierChar(previous)) {
        std::size_t end = i + 1;
        while (end < code.size() && isIdentifierChar(code[end])) ++end;
        std::string parameter = code.substr(i + 1, end - i - 1);
        auto found = std::find(parameters_.begin(), parameters_.end(), parameter);
        if (found == parameters_.end()) {
          parameters_.push_back(parameter);
          found = parameters_.end() - 1;
        }
        sql_ += placeholder(dialect, static_cast<std::size_t>(found - parameters_.begin()) + 1);
        i = end - 1;
        c = 'x';  // what was written ends like an identifier
      } else if (c == '?' && sqlite) {
        throw std::invalid_argument("uses a positional placeholder '?': name every parameter (:name)");
      } else if (c == '$' && !isIdentifierChar(previous) && std::isdigit(static_cast<unsigned char>(next)) != 0) {
        throw std::invalid_argument("uses a positional placeholder '$" + std::string(1, next) +
                                    "...': name every parameter (:name)");
      } else if (sqlite && (c == '$' || c == '@') && isIdentifierStart(next)) {
        throw std::invalid_argument(std::string("uses a placeholder '") + c + "name': write parameters as :name");
      } else {
        sql_.push_back(c);
      }
      previous = c;
    }
  }
  if (!hasCode) throw std::invalid_argument("is empty");
  // Trailing blanks go, so that what is prepared is the statement alone.
  while (!sql_.empty() && isSpace(sql_.back())) sql_.pop_back();
  readOnly_ = firstKeyword(segments) == "select";
}

}  // namespace strata::integrations::sql
