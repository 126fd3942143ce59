#include <strata/core/subject.h>

#include <string>

#include <gtest/gtest.h>

namespace strata::core {
namespace {

using namespace std::string_literals;

TEST(Subject, AcceptsDottedTokensOfAnyPrintableOrUtf8Bytes) {
  EXPECT_TRUE(isValidSubject("orders"));
  EXPECT_TRUE(isValidSubject("orders.eu.created"));
  EXPECT_TRUE(isValidSubject("store.Kunden-Ä.42_x"));
  EXPECT_TRUE(isValidSubject("$sys.a:b/c"));
}

TEST(Subject, RefusesEmptyTokensWildcardsAndControlBytes) {
  for (const auto& bad : {""s, "."s, "a."s, ".a"s, "a..b"s, "a.*"s, "a.>"s, "a*"s, "a b"s, "a\tb"s, "a\nb"s,
                          "a\0b"s, "a\x7f"s}) {
    EXPECT_FALSE(isValidSubject(bad)) << bad;
  }
}

TEST(Subject, SaysWhyItRefuses) {
  EXPECT_STREQ(subjectProblem("a..b", SubjectKind::kSubject), "it has an empty token (two dots, or a dot at an end)");
  EXPECT_STREQ(subjectProblem("a.*", SubjectKind::kSubject), "a subject has no wildcards ('*', '>')");
  EXPECT_STREQ(subjectProblem("a.>.b", SubjectKind::kPattern), "'>' may only be its last token");
  EXPECT_EQ(subjectProblem("a.*.>", SubjectKind::kPattern), nullptr);
}

TEST(Subject, HoldsItsHardBoundsExactly) {
  EXPECT_TRUE(isValidSubject(std::string(kMaxSubjectSize, 'a')));
  EXPECT_FALSE(isValidSubject(std::string(kMaxSubjectSize + 1, 'a')));
  std::string tokens = "a";
  for (std::size_t i = 1; i < kMaxSubjectTokens; ++i) tokens += ".a";
  EXPECT_TRUE(isValidSubject(tokens));
  EXPECT_EQ(tokenCount(tokens), kMaxSubjectTokens);
  EXPECT_FALSE(isValidSubject(tokens + ".a"));
}

TEST(Pattern, AcceptsWholeTokenWildcardsAndATailOnlyAtTheEnd) {
  EXPECT_TRUE(isValidPattern("*"));
  EXPECT_TRUE(isValidPattern(">"));
  EXPECT_TRUE(isValidPattern("orders.*.created"));
  EXPECT_TRUE(isValidPattern("orders.>"));
  EXPECT_FALSE(isValidPattern(">.a"));
  EXPECT_FALSE(isValidPattern("or*"));
  EXPECT_FALSE(isValidPattern("a.>>"));
  EXPECT_FALSE(isValidPattern("a.**"));
}

struct MatchCase {
  const char* pattern;
  const char* subject;
  bool matches;
};

TEST(SubjectMatches, FollowsTheTokenRules) {
  const MatchCase cases[] = {
      {"a.b", "a.b", true},       {"a.b", "a.c", false},     {"a.b", "a.b.c", false},
      {"a.b.c", "a.b", false},    {"a.*", "a.b", true},      {"a.*", "a", false},
      {"a.*", "a.b.c", false},    {"*.b", "a.b", true},      {"*", "a", true},
      {"*", "a.b", false},        {"a.>", "a.b", true},      {"a.>", "a.b.c.d", true},
      {"a.>", "a", false},        {">", "a", true},          {">", "a.b.c", true},
      {"*.*.>", "a.b", false},    {"*.*.>", "a.b.c", true},  {"a.*.c", "a.x.c", true},
      {"a.*.c", "a.x.d", false},  {"ab", "a", false},        {"a", "ab", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(subjectMatches(c.pattern, c.subject), c.matches) << c.pattern << " ~ " << c.subject;
  }
}

struct CoverCase {
  const char* allowed;
  const char* requested;
  bool covers;
};

TEST(PatternCovers, AllowsOnlyWhatTheRightMatchesEverywhere) {
  const CoverCase cases[] = {
      {">", ">", true},           {">", "a.*", true},         {"a.>", "a.b", true},
      {"a.>", "a.*.c", true},     {"a.>", "a.>", true},       {"a.>", "a", false},
      {"a.>", ">", false},        {"a.*", "a.b", true},       {"a.*", "a.*", true},
      {"a.*", "a.>", false},      {"a.*", "a.b.c", false},    {"a.b", "a.*", false},
      {"a.b", "a.b", true},       {"*.b", "x.b", true},       {"*.b", "*.c", false},
      {"a.*.>", "a.b.c", true},   {"a.*.>", "a.b", false},    {"a.*.>", "a.*.*.>", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(patternCovers(c.allowed, c.requested), c.covers) << c.allowed << " covers " << c.requested;
  }
}

// However the subject and pattern are made, a match costs one pass: a long subject
// against many wildcards finishes at once rather than backtracking.
TEST(SubjectMatches, StaysLinearOnAdversarialInput) {
  std::string subject = "a";
  std::string pattern = "*";
  for (std::size_t i = 1; i < kMaxSubjectTokens; ++i) {
    subject += ".a";
    pattern += ".*";
  }
  EXPECT_TRUE(subjectMatches(pattern, subject));
  EXPECT_FALSE(subjectMatches(pattern + ".*", subject));
}

}  // namespace
}  // namespace strata::core
