// MailComposer: what mail.send accepts, what it refuses, and the exact mail it queues.

#include <algorithm>
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include <strata/integrations/smtp/mail_composer.h>

namespace strata::integrations::smtp {
namespace {

using namespace std::string_literals;

const std::string kId = "0123456789abcdef0123456789abcdef";
// 2024-01-02 03:04:05 UTC
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1704164645));

ComposeResult compose(const std::string& body, const std::string& type = "application/json", std::string from = "") {
  MailComposer composer(std::move(from), "node.example");
  return composer.compose(kId, type, body, kNow);
}

TEST(MailComposer, ComposesJsonWithDateAndMessageIdAndNoBccHeader) {
  auto result = compose(R"({"from": "Alice <alice@a.example>", "to": ["bob@b.example"], "cc": ["carol@c.example"],
                           "bcc": ["dave@d.example", "bob@b.example"], "subject": "hi", "body": "line one\nline two"})");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.mail.id, kId);
  EXPECT_EQ(result.mail.envelopeFrom, "alice@a.example");
  EXPECT_EQ(result.mail.recipients, (std::vector<std::string>{"bob@b.example", "carol@c.example", "dave@d.example"}));
  EXPECT_EQ(result.mail.data,
            "From: Alice <alice@a.example>\r\n"
            "To: bob@b.example\r\n"
            "Cc: carol@c.example\r\n"
            "Subject: hi\r\n"
            "Date: Tue, 2 Jan 2024 03:04:05 GMT\r\n"
            "Message-ID: <" + kId + "@node.example>\r\n"
            "\r\n"
            "line one\r\nline two");
}

TEST(MailComposer, ComposesAWholeMessageAndKeepsItsOwnDateAndMessageId) {
  auto result = compose("From: a@a.example\r\nTo: b@b.example\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                        "Message-ID: <own@a.example>\r\n\r\nbody\r\n",
                        "message/rfc822");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.mail.data,
            "From: a@a.example\r\nTo: b@b.example\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            "Message-ID: <own@a.example>\r\n\r\nbody\r\n");
}

TEST(MailComposer, UsesTheDefaultSenderOnlyWhenFromIsMissing) {
  auto filled = compose(R"({"to": ["b@b.example"], "body": "x"})", "application/json", "Node <node@n.example>");
  ASSERT_TRUE(filled.ok()) << filled.error;
  EXPECT_EQ(filled.mail.envelopeFrom, "node@n.example");
  auto own = compose(R"({"from": "a@a.example", "to": ["b@b.example"]})", "application/json", "node@n.example");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own.mail.envelopeFrom, "a@a.example");
  auto none = compose(R"({"to": ["b@b.example"]})");
  EXPECT_EQ(none.code, STRATA_ERROR_MALFORMED);
  EXPECT_NE(none.error.find("no From"), std::string::npos);
}

bool isAscii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

TEST(MailComposer, EncodesANonAsciiSubjectAndBody) {
  auto result = compose(R"({"from": "a@a.example", "to": ["b@b.example"], "subject": "h\u00e9llo", "body": "caf\u00e9"})");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_NE(result.mail.data.find("Subject: =?UTF-8?B?aMOpbGxv?=\r\n"), std::string::npos) << result.mail.data;
  EXPECT_NE(result.mail.data.find("MIME-Version: 1.0\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Transfer-Encoding: quoted-printable\r\n"),
            std::string::npos) << result.mail.data;
  EXPECT_EQ(result.mail.data.substr(result.mail.data.size() - 13), "\r\n\r\ncaf=C3=A9");
}

TEST(MailComposer, EncodesDisplayNamesInEveryAddressHeader) {
  auto result = compose(R"({"from": "Gr\u00fc\u00dfe \u2014 \u6771\u4eac <tokyo@example.com>",
                           "to": ["\"M\u00fcller, Hans\" <hans@b.example>", "plain@b.example", "Ann <ann@b.example>"],
                           "cc": ["\u00c5sa <asa@c.example>"], "bcc": ["\u00d8 <o@d.example>"],
                           "headers": {"Reply-To": "R\u00e9ponse <r@a.example>, r2@a.example", "X-Note": "\u00e0 bient\u00f4t"},
                           "body": "x"})");
  ASSERT_TRUE(result.ok()) << result.error;
  const auto& data = result.mail.data;
  EXPECT_TRUE(isAscii(data)) << data;
  EXPECT_NE(data.find("From: =?UTF-8?B?R3LDvMOfZSDigJQg5p2x5Lqs?= <tokyo@example.com>\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("To: =?UTF-8?B?TcO8bGxlciwgSGFucw==?= <hans@b.example>, plain@b.example, Ann\r\n"
                      " <ann@b.example>\r\n"),
            std::string::npos) << data;
  EXPECT_NE(data.find("Cc: =?UTF-8?B?w4VzYQ==?= <asa@c.example>\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("Reply-To: =?UTF-8?B?UsOpcG9uc2U=?= <r@a.example>, r2@a.example\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("X-Note: =?UTF-8?B?w6AgYmllbnTDtHQ=?=\r\n"), std::string::npos) << data;
  EXPECT_EQ(result.mail.envelopeFrom, "tokyo@example.com");
  EXPECT_EQ(result.mail.recipients, (std::vector<std::string>{"hans@b.example", "plain@b.example", "ann@b.example",
                                                              "asa@c.example", "o@d.example"}));
}

TEST(MailComposer, WritesALongLineQuotedPrintable) {
  auto result = compose(R"({"from": "a@a.example", "to": ["b@b.example"], "body": ")" + std::string(3000, 'x') +
                        R"(\nshort"})");
  ASSERT_TRUE(result.ok()) << result.error;
  const auto& data = result.mail.data;
  EXPECT_NE(data.find("Content-Transfer-Encoding: quoted-printable\r\n"), std::string::npos) << data;
  auto body = data.substr(data.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.find("\r\nshort"), 3000 + 3000 / 75 * 3 - 3);  // 39 lines of 75 and "=", then 75 more
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = std::min(body.find("\r\n", start), body.size());
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
}

TEST(MailComposer, KeepsABodyWithItsOwnTransferEncoding) {
  auto result = compose(R"({"from": "a@a.example", "to": ["b@b.example"],
                           "headers": {"Content-Transfer-Encoding": "8bit"}, "body": "caf\u00e9"})");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.mail.data.substr(result.mail.data.size() - 9), "\r\n\r\ncaf\xC3\xA9");
  EXPECT_EQ(result.mail.data.find("quoted-printable"), std::string::npos);
}

struct Refused {
  const char* name;
  std::string type;
  std::string body;
  strata_error code;
  const char* error;
};

class MailComposerRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(MailComposerRefuses, WithACodeAndAText) {
  auto result = compose(GetParam().body, GetParam().type);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.code, GetParam().code);
  EXPECT_NE(result.error.find(GetParam().error), std::string::npos) << result.error;
}

const std::string kJson = "application/json";
const std::string kRfc822 = "message/rfc822";

INSTANTIATE_TEST_SUITE_P(
    MailComposer, MailComposerRefuses,
    ::testing::Values(
        Refused{"SubjectInjection", kJson, R"({"from":"a@a.example","to":["b@b.example"],"subject":"hi\r\nBcc: x@evil.example"})",
                STRATA_ERROR_MALFORMED, "CR"},
        Refused{"HeaderInjection", kJson, R"({"from":"a@a.example","to":["b@b.example"],"headers":{"X-A":"1\nBcc: x@evil.example"}})",
                STRATA_ERROR_MALFORMED, "LF"},
        Refused{"Rfc822Injection", kRfc822, "From: a@a.example\r\nTo: b@b.example\r\nSubject: hi\rBcc: x@evil.example\r\n\r\nx",
                STRATA_ERROR_MALFORMED, "bare CR"},
        Refused{"NoTo", kJson, R"({"from":"a@a.example","cc":["c@c.example"]})", STRATA_ERROR_MALFORMED, "\"to\""},
        Refused{"BadAddress", kJson, R"({"from":"a@a.example","to":["b@b"]})", STRATA_ERROR_MALFORMED, "not a valid mailbox"},
        Refused{"NotJson", kJson, "{not json", STRATA_ERROR_MALFORMED, "not JSON"},
        Refused{"DeepJson", kJson, std::string(100000, '[') + std::string(100000, ']'), STRATA_ERROR_MALFORMED, "nesting deeper"},
        Refused{"WrongType", "text/plain", "hello", STRATA_ERROR_MALFORMED, "is not application/json"},
        Refused{"LongLineWithOwnEncoding", kJson,
                R"({"from":"a@a.example","to":["b@b.example"],"headers":{"Content-Transfer-Encoding":"7bit"},"body":")" +
                    std::string(999, 'x') + "\"}",
                STRATA_ERROR_MALFORMED, "body line 1 has 999 characters"},
        Refused{"Oversized", kRfc822, std::string(2 * 1024 * 1024, 'x'), STRATA_ERROR_TOO_LARGE, "exceeds the limit"}),
    [](const auto& test) { return std::string(test.param.name); });

}  // namespace
}  // namespace strata::integrations::smtp
