#include "sql_scanner.h"

#include <cctype>
#include <stdexcept>

namespace strata::integrations::sql {

namespace {

bool isIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The end (one past) of a literal that starts at begin with quote and ends at the next
// quote not doubled; backslash escapes the next character when backslashEscapes.
std::size_t endOfQuoted(std::string_view text, std::size_t begin, char close, bool backslashEscapes) {
  for (std::size_t i = begin + 1; i < text.size(); ++i) {
    if (backslashEscapes && text[i] == '\\') {
      ++i;
    } else if (text[i] == close) {
      if (close != ']' && i + 1 < text.size() && text[i + 1] == close) {
        ++i;  // a doubled quote stands for one
      } else {
        return i + 1;
      }
    }
  }
  throw std::invalid_argument("unterminated quoted text starting at offset " + std::to_string(begin));
}

std::size_t endOfBlockComment(std::string_view text, std::size_t begin, bool nests) {
  std::size_t depth = 0;
  for (std::size_t i = begin; i + 1 < text.size(); ++i) {
    if (text[i] == '/' && text[i + 1] == '*') {
      if (depth == 0 || nests) ++depth;
      ++i;
    } else if (text[i] == '*' && text[i + 1] == '/') {
      --depth;
      ++i;
      if (depth == 0) return i + 1;
    }
  }
  throw std::invalid_argument("unterminated comment starting at offset " + std::to_string(begin));
}

// PostgreSQL's $tag$ opener at i (tag empty or an identifier not starting with a digit),
// or npos when the '$' at i opens none (a positional parameter like $1, or an operator).
std::size_t dollarTagLength(std::string_view text, std::size_t i) {
  std::size_t j = i + 1;
  if (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) != 0) return std::string_view::npos;
  while (j < text.size() && isIdentifierChar(text[j])) ++j;
  if (j < text.size() && text[j] == '$') return j + 1 - i;
  return std::string_view::npos;
}

}  // namespace

std::vector<SqlSegment> scanSql(std::string_view text, Dialect dialect) {
  const bool postgres = dialect == Dialect::kPostgresql;
  std::vector<SqlSegment> segments;
  std::string code;
  auto opaque = [&](std::size_t begin, std::size_t end) {
    if (!code.empty()) segments.push_back({true, std::move(code)});
    code.clear();
    segments.push_back({false, std::string(text.substr(begin, end - begin))});
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    std::size_t end = std::string_view::npos;
    if (c == '\'') {
      // E'...' on PostgreSQL: the E is already in code; backslashes escape there.
      bool escapes = postgres && i > 0 && (text[i - 1] == 'E' || text[i - 1] == 'e') &&
                     (i < 2 || !isIdentifierChar(text[i - 2]));
      end = endOfQuoted(text, i, '\'', escapes);
    } else if (c == '"') {
      end = endOfQuoted(text, i, '"', false);
    } else if (!postgres && c == '`') {
      end = endOfQuoted(text, i, '`', false);
    } else if (!postgres && c == '[') {
      end = endOfQuoted(text, i, ']', false);
    } else if (c == '-' && next == '-') {
      end = text.find('\n', i);
      end = end == std::string_view::npos ? text.size() : end + 1;
    } else if (c == '/' && next == '*') {
      end = endOfBlockComment(text, i, postgres);
    } else if (postgres && c == '$' && (i == 0 || !isIdentifierChar(text[i - 1]))) {
      std::size_t tag = dollarTagLength(text, i);
      if (tag != std::string_view::npos) {
        std::string_view opener = text.substr(i, tag);
        std::size_t close = text.find(opener, i + tag);
        if (close == std::string_view::npos) {
          throw std::invalid_argument("unterminated dollar-quoted text starting at offset " + std::to_string(i));
        }
        end = close + tag;
      }
    }
    if (end != std::string_view::npos) {
      opaque(i, end);
      i = end;
    } else {
      code.push_back(c);
      ++i;
    }
  }
  if (!code.empty()) segments.push_back({true, std::move(code)});
  return segments;
}

std::vector<std::string> splitScript(std::string_view text, Dialect dialect) {
  std::vector<std::string> statements;
  std::string current;
  bool hasCode = false;
  auto finish = [&] {
    if (hasCode) statements.push_back(current);
    current.clear();
    hasCode = false;
  };
  for (const auto& segment : scanSql(text, dialect)) {
    if (!segment.code) {
      bool comment = segment.text.starts_with("--") || segment.text.starts_with("/*");
      if (!comment) hasCode = true;  // a literal is part of a statement
      current += segment.text;
      continue;
    }
    for (char c : segment.text) {
      if (c == ';') {
        finish();
      } else {
        current.push_back(c);
        if (std::isspace(static_cast<unsigned char>(c)) == 0) hasCode = true;
      }
    }
  }
  finish();
  return statements;
}

}  // namespace strata::integrations::sql
