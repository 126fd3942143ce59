// The xml plug-in inside strata-node, as a user runs it: a broker, a node with
// `strata.plugins = xml`, and a real client (the SDK and the `strata` CLI) calling it.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cluster.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxBytes = 4096;

class XmlPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster.addIdentity("broker", std::nullopt);
    cluster.addIdentity("logic", 2);
    cluster.addIdentity("xml-node", 0);
    cluster.startBroker();
    node = &cluster.startNode("xml-node", "",
                              {{"strata.plugins", "xml"},
                               {"strata.plugin.xml.max_bytes", std::to_string(kMaxBytes)},
                               {"strata.plugin.xml.max_depth", "16"},
                               {"strata.plugin.xml.max_members", "8"},
                               {"strata.data_dir", (cluster.dir() / "xml-data").string()}});
  }

  nodes::Response call(const std::string& service, const std::string& body, nodes::Headers headers = {}) {
    nodes::Client client(cluster.clientOptions("logic"));
    nodes::OutgoingRequest request;
    request.service = service;
    request.body = {body};
    request.headers = std::move(headers);
    request.timeout = 5s;
    return client.call(std::move(request));
  }

  Cluster cluster;
  Process* node = nullptr;
};

TEST_F(XmlPlugin, ToJsonAnswersThroughTheBroker) {
  EXPECT_TRUE(node->waitForLog("xml ready: max_bytes 4096, max_depth 16, max_members 8", 5s)) << node->log();
  auto response = call("xml.to_json", "<order id=\"7\"><item>a</item><item>b</item></order>");
  ASSERT_TRUE(response.ok) << response.errorText;
  EXPECT_EQ(response.bodyText(), R"({"order":{"@id":"7","item":["a","b"]}})");
  EXPECT_EQ(nodes::findHeader(response.headers, "content-type"), "application/json");
  EXPECT_EQ(nodes::findHeader(response.headers, "strata-worker"), "xml-node");
}

TEST_F(XmlPlugin, FromJsonAndSelectTakeTheirHeaders) {
  auto xml = call("xml.from_json", R"({"a":1,"b":"x"})", {{"xml-root", "doc"}});
  ASSERT_TRUE(xml.ok) << xml.errorText;
  EXPECT_EQ(xml.bodyText(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?><doc><a>1</a><b>x</b></doc>");
  EXPECT_EQ(nodes::findHeader(xml.headers, "content-type"), "application/xml");

  auto selected = call("xml.select", "<o><i sku=\"A\"/><i sku=\"B\"/></o>", {{"xml-path", "/o/i[2]/@sku"}});
  ASSERT_TRUE(selected.ok) << selected.errorText;
  EXPECT_EQ(selected.bodyText(), R"(["B"])");
}

// The canonical form (C14N) of a file, as xmllint writes it.
std::string canonical(const std::filesystem::path& file, const std::string& xml) {
  std::ofstream(file, std::ios::binary) << xml;
  auto r = runProgram("/usr/bin/xmllint", {"--c14n", file.string()});
  EXPECT_EQ(r.exitCode, 0) << r.err << " for " << xml;
  EXPECT_NE(r.out.find('<'), std::string::npos) << xml;
  return r.out;
}

// As a new user would check it: xml.to_json then xml.from_json gives back the document,
// compared in xmllint's canonical form.
TEST_F(XmlPlugin, RoundTripKeepsTheCanonicalFormOfMixedContent) {
  const std::string documents[] = {
      "<p>text<b>bold</b>tail</p>",
      "<p class=\"x\" id=\"1\">a <b>b <i>c</i> d</b> e<br/>f &amp; g &lt;h&gt;</p>",
      "<doc><title>T</title><para>One <em>two</em> three.</para><para>Four.</para><title>U</title></doc>",
      "<x:doc xmlns:x=\"urn:x\" xmlns=\"urn:d\"><x:a x:k=\"v\">1</x:a><b>caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC</b></x:doc>",
      "<a><![CDATA[<raw> & text]]> and <b>more</b></a>",
      "<list><i>1</i><j/><i>2</i><j>x</j></list>",
      "<r>line\none<br/>\tline two\r\n</r>",
  };
  int n = 0;
  for (const auto& document : documents) {
    auto json = call("xml.to_json", document);
    ASSERT_TRUE(json.ok) << json.errorText << " for " << document;
    auto xml = call("xml.from_json", json.bodyText());
    ASSERT_TRUE(xml.ok) << xml.errorText << " for " << json.bodyText();
    ++n;
    EXPECT_EQ(canonical(cluster.dir() / ("back" + std::to_string(n) + ".xml"), xml.bodyText()),
              canonical(cluster.dir() / ("sent" + std::to_string(n) + ".xml"), document))
        << document << "\n" << json.bodyText();
  }
  auto mixed = call("xml.to_json", documents[0]);
  EXPECT_EQ(mixed.bodyText(), R"({"p":{"#content":["text",{"b":"bold"},"tail"]}})");
}

TEST_F(XmlPlugin, HostileBodiesGetClearErrorsAndTheNodeServesOn) {
  std::ifstream passwd("/etc/passwd");
  std::string firstLine;
  std::getline(passwd, firstLine);
  auto xxe = call("xml.to_json",
                  "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>");
  EXPECT_FALSE(xxe.ok);
  EXPECT_EQ(xxe.errorCode, nodes::ErrorCode::kMalformed);
  EXPECT_NE(xxe.errorText.find("DOCTYPE are refused"), std::string::npos) << xxe.errorText;
  EXPECT_EQ(xxe.errorText.find(firstLine), std::string::npos);

  auto big = call("xml.to_json", "<a>" + std::string(kMaxBytes, 'x') + "</a>");
  EXPECT_EQ(big.errorCode, nodes::ErrorCode::kTooLarge) << big.errorText;

  std::string deep;
  for (int i = 0; i < 17; ++i) deep = "<e>" + deep + "</e>";
  auto tooDeep = call("xml.to_json", deep);
  EXPECT_EQ(tooDeep.errorCode, nodes::ErrorCode::kMalformed);
  EXPECT_NE(tooDeep.errorText.find("nesting deeper than 16"), std::string::npos) << tooDeep.errorText;

  auto wide = call("xml.to_json", "<w>" + std::string("<i/><i/><i/><i/><i/><i/><i/><i/><i/>") + "</w>");
  EXPECT_EQ(wide.errorCode, nodes::ErrorCode::kMalformed);
  EXPECT_NE(wide.errorText.find("element <w> has more than 8 attributes and child elements"), std::string::npos)
      << wide.errorText;
  auto wideJson = call("xml.from_json", R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9})",
                       {{"xml-root", "doc"}});
  EXPECT_EQ(wideJson.errorCode, nodes::ErrorCode::kMalformed);
  EXPECT_NE(wideJson.errorText.find("an object has more than 8 members"), std::string::npos) << wideJson.errorText;

  auto badPath = call("xml.select", "<a/>", {{"xml-path", "//a"}});
  EXPECT_EQ(badPath.errorCode, nodes::ErrorCode::kMalformed) << badPath.errorText;

  auto after = call("xml.to_json", "<still>here</still>");
  ASSERT_TRUE(after.ok) << after.errorText;
  EXPECT_EQ(after.bodyText(), R"({"still":"here"})");
  EXPECT_TRUE(node->running());
}

TEST_F(XmlPlugin, TheCliCallsSelectWithAHeader) {
  auto r = runProgram(cliBinary(), {"call", "--config", cluster.clientConfig("logic").string(), "-H",
                                    "xml-path=/order/customer/name", "xml.select",
                                    "<order><customer><name>Ann</name></customer></order>"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "[\"Ann\"]\n");
}

}  // namespace
}  // namespace strata::test
