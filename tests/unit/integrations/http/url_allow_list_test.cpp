#include <gtest/gtest.h>

#include <strata/core/errors.h>
#include <strata/integrations/http/url_allow_list.h>

namespace strata::integrations::http {
namespace {

TEST(ParseUrl, NormalisesSchemeHostPortAndPath) {
  auto r = parseUrl("HTTP://LocalHost.:8081/api/items?x=1&y=%20");
  ASSERT_TRUE(r.url) << r.error;
  EXPECT_EQ(r.url->scheme, "http");
  EXPECT_EQ(r.url->host, "localhost");
  EXPECT_EQ(r.url->port, 8081);
  EXPECT_EQ(r.url->path, "/api/items");
  EXPECT_EQ(r.url->query, "x=1&y=%20");
  EXPECT_EQ(r.url->text(), "http://localhost:8081/api/items?x=1&y=%20");
}

TEST(ParseUrl, GivesDefaultPortsAndARootPath) {
  auto http = parseUrl("http://example.org");
  ASSERT_TRUE(http.url);
  EXPECT_EQ(http.url->port, 80);
  EXPECT_EQ(http.url->path, "/");
  auto https = parseUrl("https://example.org?q");
  ASSERT_TRUE(https.url);
  EXPECT_EQ(https.url->port, 443);
  EXPECT_EQ(https.url->target(), "/?q");
  auto v6 = parseUrl("http://[::1]:9000/x");
  ASSERT_TRUE(v6.url) << v6.error;
  EXPECT_EQ(v6.url->host, "[::1]");
}

TEST(ParseUrl, RefusesTricksThatParsersReadDifferently) {
  const char* bad[] = {
      "http://127.0.0.1:8081@evil.example/",   // user info
      "http://user:pw@127.0.0.1:8081/api/",    // user info
      "ftp://127.0.0.1/api/",                  // scheme
      "file:///etc/passwd",                    // scheme
      "javascript:alert(1)",                   // not absolute
      "//127.0.0.1/api/",                      // no scheme
      "http://127.0.0.1:8081/api/../admin",    // dot segment
      "http://127.0.0.1:8081/api/./x",         // dot segment
      "http://127.0.0.1:8081/api/%2e%2E/admin",// encoded dot segment
      "http://127.0.0.1:8081/api/public/..;/admin",  // path parameter hiding a dot segment
      "http://127.0.0.1:8081/api/..;x=1/admin",      // ... with a value
      "http://127.0.0.1:8081/api/items;jsessionid=1", // any path parameter
      "http://127.0.0.1:8081/api/..%3B/admin",       // encoded ';'
      "http://127.0.0.1:8081/api/.%2e",        // half-encoded dot segment
      "http://127.0.0.1:8081/api%2f..%2fadmin",// encoded slash
      "http://127.0.0.1:8081/api/%5c..",       // encoded backslash
      "http://127.0.0.1:8081/api/%00",         // encoded NUL
      "http://127.0.0.1:8081/api\\..\\admin",  // backslash
      "http://127.0.0.1:8081/api/%zz",         // bad escape
      "http://127.0.0.1:8081/api/%4",          // short escape
      "http://127.0.0.1:8081/api/ x",          // space
      "http://127.0.0.1:8081/api/\r\nHost: x", // CR/LF
      "http://127.0.0.1:8081/api/#frag",       // fragment
      "http://127.0.0.1:0/api/",               // port 0
      "http://127.0.0.1:65536/api/",           // port out of range
      "http://127.0.0.1:80a/api/",             // port junk
      "http://127.0.0.1:/api/",                // empty port
      "http://:8081/api/",                     // no host
      "http://127.0.0.1%2f@evil/",             // escape in host
      "http://ex_ample.org/",                  // bad host char
      "http://[::1/",                          // open bracket
      "http://caf\xc3\xa9.example/",           // non-ASCII
  };
  for (const char* text : bad) {
    auto r = parseUrl(text);
    EXPECT_FALSE(r.url) << text;
    EXPECT_FALSE(r.error.empty()) << text;
  }
}

TEST(UrlAllowList, AllowsOnlySameSchemeHostPortAndPathPrefix) {
  auto list = UrlAllowList::parse("http://127.0.0.1:8081/api/, https://example.org/v1");
  auto allowed = [&](const char* text) {
    auto r = parseUrl(text);
    return r.url && list.allows(*r.url);
  };
  EXPECT_TRUE(allowed("http://127.0.0.1:8081/api/"));
  EXPECT_TRUE(allowed("http://127.0.0.1:8081/api/items?x=1"));
  EXPECT_TRUE(allowed("HTTP://127.0.0.1:8081/api/a/b"));
  EXPECT_TRUE(allowed("https://example.org/v1"));
  EXPECT_TRUE(allowed("https://example.org:443/v1/x"));
  EXPECT_FALSE(allowed("http://127.0.0.1:8081/api"));      // above the prefix
  EXPECT_FALSE(allowed("http://127.0.0.1:8081/admin"));
  EXPECT_FALSE(allowed("http://127.0.0.1:8082/api/"));     // other port
  EXPECT_FALSE(allowed("https://127.0.0.1:8081/api/"));    // other scheme
  EXPECT_FALSE(allowed("http://localhost:8081/api/"));     // other host name
  EXPECT_FALSE(allowed("https://example.org/v10"));        // not below /v1
  EXPECT_FALSE(allowed("http://example.org/v1"));          // https only
  EXPECT_FALSE(allowed("http://127.0.0.1:8081/api/../admin"));
  EXPECT_FALSE(allowed("http://127.0.0.1:8081/api/public/..;/admin"));
  EXPECT_TRUE(allowed("http://127.0.0.1:8081/api/items?a=1;b=2"));  // ';' in the query is data
  EXPECT_FALSE(allowed("http://127.0.0.1:8081@evil.example/"));
}

TEST(UrlAllowList, RefusesAnEmptyOrMalformedList) {
  EXPECT_THROW(UrlAllowList::parse(""), ConfigError);
  EXPECT_THROW(UrlAllowList::parse(" , "), ConfigError);
  EXPECT_THROW(UrlAllowList::parse("http://a/ ftp://b/"), ConfigError);
  EXPECT_THROW(UrlAllowList::parse("http://a/api?x=1"), ConfigError);
  EXPECT_EQ(UrlAllowList::parse("http://a/ http://b/").prefixes().size(), 2u);
}

}  // namespace
}  // namespace strata::integrations::http
