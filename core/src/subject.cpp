#include <strata/core/subject.h>

namespace strata::core {

namespace {

bool isTokenByte(unsigned char c) { return c > 0x20 && c != 0x7F && c != '.' && c != '*' && c != '>'; }

// Splits text at its next '.', front to back.
class Tokens {
 public:
  explicit Tokens(std::string_view text) : rest_(text) {}
  bool next(std::string_view& token) {
    if (done_) return false;
    auto dot = rest_.find('.');
    token = rest_.substr(0, dot);
    if (dot == std::string_view::npos) {
      done_ = true;
    } else {
      rest_.remove_prefix(dot + 1);
    }
    return true;
  }
  bool done() const { return done_; }

 private:
  std::string_view rest_;
  bool done_ = false;
};

}  // namespace

const char* subjectProblem(std::string_view text, SubjectKind kind) {
  if (text.empty()) return "it is empty";
  if (text.size() > kMaxSubjectSize) return "it is longer than 1024 bytes";
  Tokens tokens(text);
  std::string_view token;
  std::size_t count = 0;
  while (tokens.next(token)) {
    if (++count > kMaxSubjectTokens) return "it has more than 64 tokens";
    if (token.empty()) return "it has an empty token (two dots, or a dot at an end)";
    if (kind == SubjectKind::kPattern && token == "*") continue;
    if (kind == SubjectKind::kPattern && token == ">") {
      if (!tokens.done()) return "'>' may only be its last token";
      continue;
    }
    for (unsigned char c : token) {
      if (c == '*' || c == '>') {
        return kind == SubjectKind::kSubject ? "a subject has no wildcards ('*', '>')"
                                             : "a wildcard ('*', '>') must be a whole token";
      }
      if (!isTokenByte(c)) return "it holds a space, a control character or NUL";
    }
  }
  return nullptr;
}

void splitTokens(std::string_view text, std::vector<std::string_view>& tokens) {
  tokens.clear();
  Tokens all(text);
  std::string_view token;
  while (all.next(token)) tokens.push_back(token);
}

std::size_t tokenCount(std::string_view subject) {
  std::size_t count = 1;
  for (char c : subject) count += c == '.';
  return count;
}

bool subjectMatches(std::string_view pattern, std::string_view subject) {
  Tokens want(pattern);
  Tokens have(subject);
  std::string_view p;
  std::string_view s;
  while (want.next(p)) {
    if (!have.next(s)) return false;  // the subject ran out first
    if (p == ">") return true;        // and at least one token is left for it
    if (p != "*" && p != s) return false;
  }
  return have.done();
}

bool patternCovers(std::string_view allowed, std::string_view requested) {
  Tokens a(allowed);
  Tokens r(requested);
  std::string_view at;
  std::string_view rt;
  while (a.next(at)) {
    if (!r.next(rt)) return false;
    if (at == ">") return true;
    if (rt == ">") return false;  // requested reaches further than one token
    if (at == "*") continue;
    if (rt == "*" || at != rt) return false;
  }
  return r.done();
}

}  // namespace strata::core
