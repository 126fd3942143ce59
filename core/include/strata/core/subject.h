#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace strata::core {

// Event subjects and subscription patterns: the one description of their grammar, used
// by the wire codec, the broker's subscription table and policy, and the client.
//
// A subject is tokens joined by '.': "orders.eu.created". A token is one or more bytes
// other than NUL, controls, space, DEL, '.', '*' and '>' (UTF-8 text is fine). A pattern
// is a subject whose tokens may also be "*" (any one token) or, last only, ">" (one or
// more tokens): "orders.*.created", "orders.>". Matching is token by token, so it costs
// at most one pass over the subject and the pattern, whatever they hold.

// Hard bounds, beyond what any configuration may raise (the broker's own defaults are
// lower: strata.events.max_subject, strata.events.max_tokens).
inline constexpr std::size_t kMaxSubjectSize = 1024;
inline constexpr std::size_t kMaxSubjectTokens = 64;

enum class SubjectKind { kSubject, kPattern };

// Why text is no subject (or pattern), or nullptr when it is one. Checks the hard bounds.
const char* subjectProblem(std::string_view text, SubjectKind kind);
inline bool isValidSubject(std::string_view text) { return subjectProblem(text, SubjectKind::kSubject) == nullptr; }
inline bool isValidPattern(std::string_view text) { return subjectProblem(text, SubjectKind::kPattern) == nullptr; }

// The dot-separated tokens of text, into tokens (cleared first): views into text.
void splitTokens(std::string_view text, std::vector<std::string_view>& tokens);
std::size_t tokenCount(std::string_view subject);

// Whether subject (no wildcards) is matched by pattern. Both must be valid.
bool subjectMatches(std::string_view pattern, std::string_view subject);

// Whether every subject that requested matches is also matched by allowed: so a right
// to allowed covers a subscription to requested. Both must be valid patterns.
bool patternCovers(std::string_view allowed, std::string_view requested);

}  // namespace strata::core
