// codecs/text.h: the one UTF-8 check and the one base64 of the project.

#include <gtest/gtest.h>

#include <strata/codecs/text.h>

namespace strata::codecs {
namespace {

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
  EXPECT_TRUE(isUtf8(""));
  EXPECT_TRUE(isUtf8("plain ASCII"));
  EXPECT_TRUE(isUtf8("Grüße — 東京 𝄞"));
}

TEST(Utf8, RefusesWhatIsNotUtf8) {
  const std::string bad[] = {
      "\xff",              // never a lead byte
      "\xc3",              // truncated two-byte form
      "\xe6\x9d",          // truncated three-byte form
      "\xc0\xaf",          // overlong '/'
      "\xed\xa0\x80",      // a UTF-16 surrogate
      "\xf4\x90\x80\x80",  // past U+10FFFF
      "ok\x80",            // a lone continuation byte
  };
  for (const auto& text : bad) EXPECT_FALSE(isUtf8(text)) << testing::PrintToString(text);
}

TEST(Base64, EncodesEachTailLengthWithPadding) {
  EXPECT_EQ(toBase64(""), "");
  EXPECT_EQ(toBase64("f"), "Zg==");
  EXPECT_EQ(toBase64("fo"), "Zm8=");
  EXPECT_EQ(toBase64("foo"), "Zm9v");
  EXPECT_EQ(toBase64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(toBase64(std::string("\x00\xff\xfe", 3)), "AP/+");
}

TEST(Base64, DecodesWhatItEncodesForEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t length = 0; length <= all.size(); length += 37) {
    auto bytes = all.substr(0, length);
    EXPECT_EQ(fromBase64(toBase64(bytes)), bytes) << length;
  }
}

TEST(Base64, SkipsWhitespaceBetweenCharacters) {
  EXPECT_EQ(fromBase64("Zm9v\r\n YmFy"), "foobar");
  EXPECT_EQ(fromBase64(" Zm8= \n"), "fo");
}

TEST(Base64, RefusesWhatIsNotBase64) {
  const std::string bad[] = {"Zm9", "Z", "Zm9v=", "Zm=9", "Zg=", "Zg===", "a$==", "Zm9v YmF-", "===="};
  for (const auto& text : bad) EXPECT_EQ(fromBase64(text), std::nullopt) << text;
}

}  // namespace
}  // namespace strata::codecs
