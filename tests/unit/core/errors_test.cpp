#include <strata/core/errors.h>

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(Errors, ConfigErrorExitsWithExConfig) {
  EXPECT_EQ(ConfigError("x").exitCode(), ExitCode::kConfig);
  EXPECT_EQ(static_cast<int>(ExitCode::kConfig), 78);
}

TEST(Errors, KeyErrorDefaultsToExNoPerm) {
  EXPECT_EQ(KeyError("x").exitCode(), ExitCode::kNoPermission);
  EXPECT_EQ(KeyError("x", ExitCode::kNoInput).exitCode(), ExitCode::kNoInput);
}

TEST(Errors, SystemErrorExitsWithExOsErr) { EXPECT_EQ(SystemError("x").exitCode(), ExitCode::kOsError); }

TEST(Errors, EveryErrorIsCaughtAsStrataError) {
  // main() catches strata::Error once and exits with its code; each kind must reach it.
  auto codeOf = [](auto thrower) {
    try {
      thrower();
    } catch (const Error& e) {
      return e.exitCode();
    }
    return ExitCode::kOk;
  };
  EXPECT_EQ(codeOf([] { throw ConfigError("c"); }), ExitCode::kConfig);
  EXPECT_EQ(codeOf([] { throw KeyError("k"); }), ExitCode::kNoPermission);
  EXPECT_EQ(codeOf([] { throw SystemError("s"); }), ExitCode::kOsError);
}

TEST(Errors, WhatKeepsMessage) { EXPECT_STREQ(ConfigError("bad key").what(), "bad key"); }

TEST(ErrorsDeathTest, AssertAbortsWithExpressionFileAndLine) {
  int answer = 41;
  EXPECT_DEATH(STRATA_ASSERT(answer == 42), "assertion failed: answer == 42 \\(.*errors_test\\.cpp:[0-9]+\\)");
}

TEST(Errors, AssertOfTrueExpressionDoesNothing) {
  int calls = 0;
  STRATA_ASSERT(++calls == 1);
  EXPECT_EQ(calls, 1);  // evaluated exactly once
}

}  // namespace
}  // namespace strata
