// The RFC 2822 payload codec: round trips, the exact bytes it writes, and a table of
// hostile inputs, each of which must come back as an error naming the fault.

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <strata/codecs/mail_message.h>
#include <strata/codecs/payload.h>

namespace strata::codecs {
namespace {

using namespace std::string_literals;

const std::string kMessage =
    "From: Alice <alice@a.example>\r\n"
    "To: bob@b.example, \"Carol, C.\" <carol@c.example>\r\n"
    "Cc: dave@d.example\r\n"
    "Subject: quarterly\r\n"
    " report\r\n"
    "X-Trace: one\r\n"
    "Message-ID: <1@a.example>\r\n"
    "X-Trace: two\r\n"
    "\r\n"
    "Hello,\r\n"
    "the numbers.\r\n";

Poco::JSON::Object::Ptr object(const Poco::Dynamic::Var& value) { return value.extract<Poco::JSON::Object::Ptr>(); }

Poco::Dynamic::Var json(const std::string& text) { return Poco::JSON::Parser().parse(text); }

TEST(MailCodec, IsFoundByItsContentType) {
  EXPECT_EQ(findPayloadCodec("message/rfc822"), &mailCodec());
  EXPECT_EQ(findPayloadCodec("Message/RFC822; charset=utf-8"), &mailCodec());
  EXPECT_EQ(mailCodec().contentType(), kMailType);
}

TEST(MailCodec, DecodesAddressesSubjectHeadersAndBody) {
  auto result = mailCodec().decode(kMessage);
  ASSERT_TRUE(result.ok()) << result.error;
  auto mail = object(result.value);
  EXPECT_EQ(mail->getValue<std::string>("from"), "Alice <alice@a.example>");
  auto to = mail->getArray("to");
  ASSERT_EQ(to->size(), 2u);
  EXPECT_EQ(to->getElement<std::string>(0), "bob@b.example");
  EXPECT_EQ(to->getElement<std::string>(1), "\"Carol, C.\" <carol@c.example>");
  EXPECT_EQ(mail->getArray("cc")->getElement<std::string>(0), "dave@d.example");
  EXPECT_EQ(mail->getValue<std::string>("subject"), "quarterly report");  // unfolded
  auto headers = mail->getObject("headers");
  EXPECT_EQ(headers->getValue<std::string>("Message-ID"), "<1@a.example>");
  auto trace = headers->getArray("X-Trace");
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_EQ(trace->getElement<std::string>(1), "two");
  EXPECT_EQ(mail->getValue<std::string>("body"), "Hello,\r\nthe numbers.\r\n");
}

TEST(MailCodec, EncodesTheExactBytes) {
  auto value = json(R"({"from": "a@a.example", "to": ["b@b.example", "C <c@c.example>"], "subject": "hi",
                        "headers": {"X-Id": "7"}, "body": "one\ntwo\r\nthree\rfour"})");
  EXPECT_EQ(mailCodec().encode(value),
            "From: a@a.example\r\n"
            "To: b@b.example, C <c@c.example>\r\n"
            "Subject: hi\r\n"
            "X-Id: 7\r\n"
            "\r\n"
            "one\r\ntwo\r\nthree\r\nfour");
}

TEST(MailCodec, RoundTripsThroughJson) {
  auto first = mailCodec().decode(kMessage);
  ASSERT_TRUE(first.ok()) << first.error;
  auto bytes = mailCodec().encode(first.value);
  auto second = mailCodec().decode(bytes);
  ASSERT_TRUE(second.ok()) << second.error;
  std::ostringstream a;
  std::ostringstream b;
  object(first.value)->stringify(a);
  object(second.value)->stringify(b);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_EQ(mailCodec().encode(second.value), bytes);
}

TEST(MailCodec, RoundTripsAMessageByteForByte) {
  const std::string canonical =
      "From: Alice <alice@a.example>\r\n"
      "To: bob@b.example, \"Carol, C.\" <carol@c.example>\r\n"
      "Subject: quarterly report\r\n"
      "X-Trace: one\r\n"
      "Message-ID: <1@a.example>\r\n"
      "X-Trace: two\r\n"
      "\r\n"
      "Hello,\r\n.the numbers.\r\n";
  auto parsed = MailMessage::parse(canonical);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.message.format(), canonical);
}

TEST(MailCodec, FoldsLongAddressListsAndUnfoldsThemBack) {
  MailMessage m;
  m.from = "a@a.example";
  for (int i = 0; i < 40; ++i) m.to.push_back("recipient" + std::to_string(i) + "@example.org");
  m.subject = std::string(300, 'x') + " tail";
  m.body = "b\r\n";
  ASSERT_EQ(m.validate(), "");
  auto bytes = m.format();
  std::size_t start = 0;
  while (start < bytes.size()) {
    auto end = bytes.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, MailMessage::kMaxLineLength);
    start = end + 2;
  }
  auto back = MailMessage::parse(bytes);
  ASSERT_TRUE(back.ok()) << back.error;
  EXPECT_EQ(back.message.to, m.to);
  EXPECT_EQ(back.message.subject, m.subject);
}

TEST(MailCodec, AcceptsBareLfLineEndsOnDecodeAndWritesCrlf) {
  auto result = MailMessage::parse("From: a@a.example\nTo: b@b.example\n\nline\n.\nend\n");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.message.format(), "From: a@a.example\r\nTo: b@b.example\r\n\r\nline\r\n.\r\nend\r\n");
}

TEST(MailCodec, BccIsLeftOutWhenAsked) {
  auto m = MailMessage::parse("From: a@a.example\r\nBcc: hidden@h.example\r\n\r\nx").message;
  EXPECT_EQ(m.bcc, std::vector<std::string>{"hidden@h.example"});
  EXPECT_NE(m.format(true).find("Bcc: hidden@h.example"), std::string::npos);
  EXPECT_EQ(m.format(false).find("hidden"), std::string::npos);
}

struct BadMessage {
  const char* name;
  std::string bytes;
  const char* error;  // a part of the expected error text
};

class RefusesMalformedMessage : public ::testing::TestWithParam<BadMessage> {};

TEST_P(RefusesMalformedMessage, WithAnErrorNamingTheFault) {
  PayloadLimits limits;
  limits.maxBytes = 4096;
  auto result = mailCodec().decode(GetParam().bytes, limits);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find(GetParam().error), std::string::npos) << result.error;
}

const std::string kHead = "From: a@a.example\r\nTo: b@b.example\r\n";

INSTANTIATE_TEST_SUITE_P(
    MailCodec, RefusesMalformedMessage,
    ::testing::Values(
        BadMessage{"InjectedBccAfterBareCr", kHead + "Subject: hi\rBcc: x@evil.example\r\n\r\nbody", "bare CR"},
        BadMessage{"NulInHeaderValue", kHead + "Subject: hi\0there\r\n\r\nbody"s, "NUL"},
        BadMessage{"NulInHeaderName", kHead + "X-A\0b: v\r\n\r\nbody"s, "invalid field name"},
        BadMessage{"NulInBody", kHead + "\r\nbo\0dy"s, "NUL"},
        BadMessage{"EscapeInValue", kHead + "Subject: a\x1b[2Jb\r\n\r\nbody", "control character"},
        BadMessage{"MissingFrom", "To: b@b.example\r\nSubject: x\r\n\r\nbody", "no From"},
        BadMessage{"BadFromAddress", "From: not-an-address\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"BadToAddress", "From: a@a.example\r\nTo: b@@b.example\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"EmptyListItem", "From: a@a.example\r\nTo: b@b.example,,c@c.example\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"SingleLabelDomain", "From: a@a.example\r\nTo: b@example\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"QuotedLocalPart", "From: a@a.example\r\nTo: \"b c\"@b.example\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"GroupSyntax", "From: a@a.example\r\nTo: undisclosed-recipients:;\r\n\r\nbody", "not a valid mailbox"},
        BadMessage{"TwoFromMailboxes", "From: a@a.example, b@b.example\r\n\r\nbody", "one mailbox"},
        BadMessage{"RepeatedSubject", kHead + "Subject: a\r\nSubject: b\r\n\r\nbody", "more than once"},
        BadMessage{"NoSeparator", kHead + "Subject: hi\r\n", "no empty line"},
        BadMessage{"NoSeparatorNoNewline", "From: a@a.example", "no empty line"},
        BadMessage{"Empty", "", "no empty line"},
        BadMessage{"LineWithoutColon", kHead + "this is not a header\r\n\r\nbody", "no colon"},
        BadMessage{"ContinuationFirst", " From: a@a.example\r\n\r\nbody", "continuation"},
        BadMessage{"Oversized", kHead + "\r\n" + std::string(5000, 'x'), "exceeds the limit of 4096"}),
    [](const auto& test) { return std::string(test.param.name); });

struct BadValue {
  const char* name;
  std::string json;
  const char* error;
};

class RefusesMalformedValue : public ::testing::TestWithParam<BadValue> {};

TEST_P(RefusesMalformedValue, OnEncodeWithAnErrorNamingTheFault) {
  auto value = json(GetParam().json);
  try {
    mailCodec().encode(value);
    FAIL() << "encoded a bad value";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().error), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    MailCodec, RefusesMalformedValue,
    ::testing::Values(
        BadValue{"SubjectInjection", R"({"from":"a@a.example","to":["b@b.example"],"subject":"hi\r\nBcc: x@evil.example"})",
                 "CR (0x0D)"},
        BadValue{"SubjectLf", R"({"from":"a@a.example","to":["b@b.example"],"subject":"hi\nBcc: x@evil.example"})", "LF (0x0A)"},
        BadValue{"FromInjection", R"({"from":"a@a.example\r\nBcc: x@evil.example","to":["b@b.example"]})", "CR"},
        BadValue{"ToInjection", R"({"from":"a@a.example","to":["b@b.example\r\nBcc: x@evil.example"]})", "CR"},
        BadValue{"HeaderValueInjection", R"({"from":"a@a.example","headers":{"X-A":"v\r\nBcc: x@evil.example"}})", "CR"},
        BadValue{"HeaderNameInjection", R"({"from":"a@a.example","headers":{"X-A\r\nBcc":"x@evil.example"}})", "not valid"},
        BadValue{"HeaderNameWithColon", R"({"from":"a@a.example","headers":{"Bcc: x@evil.example\r\nX":"v"}})", "not valid"},
        BadValue{"NulInSubject", R"({"from":"a@a.example","subject":"a\u0000b"})", "NUL"},
        BadValue{"ToInHeaders", R"({"from":"a@a.example","headers":{"to":"x@evil.example"}})", "member \"to\""},
        BadValue{"TwoAddressesInOneEntry", R"({"from":"a@a.example","to":["b@b.example, x@evil.example"]})", "more than one"},
        BadValue{"ToNotAList", R"({"from":"a@a.example","to":"b@b.example"})", "array of address strings"},
        BadValue{"UnknownMember", R"({"from":"a@a.example","too":["b@b.example"]})", "unknown member \"too\""},
        BadValue{"MissingFrom", R"({"to":["b@b.example"]})", "no From"},
        BadValue{"NotAnObject", R"(["a@a.example"])", "JSON object"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(MailAddress, AcceptsConservativeMailboxes) {
  EXPECT_EQ(mail::addrSpecOf("a@b.example"), "a@b.example");
  EXPECT_EQ(mail::addrSpecOf("  first.last+tag@sub.b-c.example "), "first.last+tag@sub.b-c.example");
  EXPECT_EQ(mail::addrSpecOf("Alice Smith <alice@a.example>"), "alice@a.example");
  EXPECT_EQ(mail::addrSpecOf("\"Smith, Alice <x>\" <alice@a.example>"), "alice@a.example");
  EXPECT_EQ(mail::addrSpecOf("<alice@a.example>"), "alice@a.example");
  EXPECT_EQ(mail::addrSpecOf("root@localhost"), "root@localhost");
}

TEST(MailAddress, RefusesWhatIsNotAConservativeMailbox) {
  for (const char* bad : {"", "a", "@b.example", "a@", "a@.example", "a@b..example", ".a@b.example", "a.@b.example",
                          "a..b@b.example", "a@-b.example", "a@b-.example", "a b@b.example", "a@b.example>",
                          "Name <a@b.example", "Na<me <a@b.example>", "\"unterminated <a@b.example>", "a@[127.0.0.1]",
                          "a(comment)@b.example", "a@b_c.example"}) {
    EXPECT_EQ(mail::addrSpecOf(bad), "") << bad;
  }
  EXPECT_FALSE(mail::isAddrSpec(std::string(65, 'a') + "@b.example"));
  EXPECT_FALSE(mail::isAddrSpec("a@" + std::string(64, 'b') + ".example"));
}

TEST(MailAddress, SplitsListsOutsideQuotesAndAngles) {
  auto items = mail::splitAddressList(R"(a@a.example, "B, b" <b@b.example>,  <c,@c.example> )");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1], "\"B, b\" <b@b.example>");
  EXPECT_EQ(items[2], "<c,@c.example>");
  EXPECT_TRUE(mail::splitAddressList("  ").empty());
}

TEST(MailLineEnds, BecomeCrlfEverywhere) {
  EXPECT_EQ(mail::normaliseLineEnds("a\nb\r\nc\rd\n\r\n.\n"), "a\r\nb\r\nc\r\nd\r\n\r\n.\r\n");
  EXPECT_EQ(mail::normaliseLineEnds("\r\r\n"), "\r\n\r\n");
}

TEST(MailEncodedWords, SplitBetweenCharactersAndStayShort) {
  EXPECT_EQ(mail::encodedWords("h\xC3\xA9llo"), "=?UTF-8?B?aMOpbGxv?=");
  std::string long_;
  for (int i = 0; i < 40; ++i) long_ += "\xE6\x9D\xB1";  // 40 three-byte characters
  auto words = mail::encodedWords(long_);
  std::istringstream in(words);
  std::string word;
  std::size_t count = 0;
  while (in >> word) {
    ++count;
    EXPECT_LE(word.size(), 75u) << word;  // RFC 2047 2
    EXPECT_EQ(word.rfind("=?UTF-8?B?", 0), 0u);
  }
  EXPECT_EQ(count, 3u);  // 45, 45 and 30 bytes: 15 characters each but the last
}

TEST(MailEncodedWords, EncodeOnlyADisplayNameThatIsNotAscii) {
  EXPECT_EQ(mail::encodedMailbox("Ann <ann@a.example>"), "Ann <ann@a.example>");
  EXPECT_EQ(mail::encodedMailbox("ann@a.example"), "ann@a.example");
  EXPECT_EQ(mail::encodedMailbox("\xC3\x85sa <asa@a.example>"), "=?UTF-8?B?w4VzYQ==?= <asa@a.example>");
  // A quoted name is unquoted first, its escapes undone.
  EXPECT_EQ(mail::encodedMailbox("\"\\\"Q\\\" \xC3\x85, B\" <b@a.example>"), "=?UTF-8?B?IlEiIMOFLCBC?= <b@a.example>");
  EXPECT_EQ(mail::addrSpecOf(mail::encodedMailbox("\xC3\x85sa <asa@a.example>")), "asa@a.example");
}

// A decoder for the test only, after RFC 2045 6.7: soft breaks removed, =XX decoded.
std::string fromQuotedPrintable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

TEST(MailQuotedPrintable, EncodesWhatSevenBitLinesCannotCarry) {
  EXPECT_EQ(mail::quotedPrintable("a=b caf\xC3\xA9\tx"), "a=3Db caf=C3=A9\tx");
  EXPECT_EQ(mail::quotedPrintable("end \r\ntab\t\r\n"), "end=20\r\ntab=09\r\n");  // whitespace before a line end
  EXPECT_EQ(mail::quotedPrintable("\x01\x7F"), "=01=7F");
  EXPECT_EQ(mail::quotedPrintable(""), "");
  EXPECT_EQ(mail::quotedPrintable(std::string(76, 'x')), std::string(76, 'x'));  // fits: no soft break
  EXPECT_EQ(mail::quotedPrintable(std::string(77, 'x')), std::string(75, 'x') + "=\r\nxx");
  // An escape is never split by a soft break.
  EXPECT_EQ(mail::quotedPrintable(std::string(74, 'x') + "\xFF" + "y"), std::string(74, 'x') + "=\r\n=FFy");
}

TEST(MailQuotedPrintable, RoundTripsEveryByteInShortLines) {
  std::string text;  // every byte but CR and LF, in lines of 300, some ending in a space
  for (int i = 0; i < 6000; ++i) {
    auto byte = static_cast<char>(i * 7 % 256);
    text += byte == '\r' || byte == '\n' ? 'x' : byte;
    if (i % 300 == 299) text += i % 600 == 599 ? " \r\n" : "\r\n";
  }
  auto encoded = mail::quotedPrintable(text);
  EXPECT_EQ(fromQuotedPrintable(encoded), text);
  std::size_t start = 0;
  while (start < encoded.size()) {
    auto end = std::min(encoded.find("\r\n", start), encoded.size());
    auto line = encoded.substr(start, end - start);
    EXPECT_LE(line.size(), 76u);
    for (char c : line) EXPECT_TRUE(c == '\t' || (c >= 32 && c <= 126)) << static_cast<int>(c);
    EXPECT_TRUE(line.empty() || (line.back() != ' ' && line.back() != '\t'));
    start = end + 2;
  }
}

}  // namespace
}  // namespace strata::codecs
