// The DATA section on the wire: line ends made CRLF, leading dots doubled, so that no
// text in a body can end the DATA early (SMTP smuggling) or lose a dot.

#include <string>

#include <gtest/gtest.h>

#include <strata/integrations/smtp/smtp_transport.h>

namespace strata::integrations::smtp {
namespace {

std::string wire(const std::string& data) { return SmtpTransport::transparentData(data); }

TEST(TransparentData, DoublesEveryLeadingDot) {
  EXPECT_EQ(wire("a\r\n.\r\n.b\r\n..c\r\nd.e\r\n"), "a\r\n..\r\n..b\r\n...c\r\nd.e\r\n.\r\n");
  EXPECT_EQ(wire(".first\r\n"), "..first\r\n.\r\n");
}

TEST(TransparentData, TurnsBareLineEndsIntoStuffedCrlf) {
  EXPECT_EQ(wire("a\n.\nb"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(wire("a\r.\rb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
  EXPECT_EQ(wire("a\n.\r\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
}

TEST(TransparentData, EndsWithExactlyOneTerminator) {
  for (const std::string body : {"x", "x\r\n", "x\n.\n", "x\r\n.\r\nMAIL FROM:<e@evil.example>\r\n.\r\n", "\r\n.\r\n"}) {
    auto out = wire(body);
    ASSERT_GE(out.size(), 5u);
    EXPECT_EQ(out.substr(out.size() - 3), ".\r\n");
    // The only "\r\n.\r\n" is the terminator itself, and no line before it is a lone dot.
    EXPECT_EQ(out.find("\r\n.\r\n"), out.size() - 5) << body;
    EXPECT_NE(out.substr(0, 3), ".\r\n");
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '\n') {
        EXPECT_EQ(out[i - 1], '\r');
      }
      if (out[i] == '\r') {
        EXPECT_EQ(out[i + 1], '\n');
      }
    }
  }
}

}  // namespace
}  // namespace strata::integrations::smtp
