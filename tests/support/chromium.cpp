#include "chromium.h"

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "cluster.h"

namespace strata::test {

namespace {

Poco::JSON::Object::Ptr parseObject(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

DevTools::DevTools(const std::string& webSocketUrl) {
  Poco::URI uri(webSocketUrl);
  session_ = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, uri.getPathEtc(), Poco::Net::HTTPMessage::HTTP_1_1);
  Poco::Net::HTTPResponse response;
  socket_ = std::make_unique<Poco::Net::WebSocket>(*session_, request, response);
  socket_->setMaxPayloadSize(64 * 1024 * 1024);
  socket_->setReceiveTimeout(Poco::Timespan(30, 0));
}

DevTools::~DevTools() = default;

Poco::JSON::Object::Ptr DevTools::command(const std::string& method, Poco::JSON::Object::Ptr params) {
  Poco::JSON::Object message;
  message.set("id", ++next_);
  message.set("method", method);
  message.set("params", params ? params : Poco::JSON::Object::Ptr(new Poco::JSON::Object));
  std::ostringstream out;
  message.stringify(out);
  auto text = out.str();
  socket_->sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
  for (;;) {
    Poco::Buffer<char> buffer(0);
    int flags = 0;
    socket_->receiveFrame(buffer, flags);
    std::string answerText(buffer.begin(), buffer.size());
    auto answer = parseObject(answerText);
    if (!answer->has("id") || answer->getValue<int>("id") != next_) continue;  // an event
    if (answer->has("error")) throw std::runtime_error("DevTools " + method + ": " + answerText);
    return answer->getObject("result");
  }
}

std::string DevTools::evaluate(const std::string& expression) {
  Poco::JSON::Object::Ptr params = new Poco::JSON::Object;
  params->set("expression", expression);
  params->set("returnByValue", true);
  auto result = command("Runtime.evaluate", params)->getObject("result");
  return result->has("value") ? result->get("value").toString() : "";
}

void DevTools::screenshot(const std::filesystem::path& file) {
  auto data = command("Page.captureScreenshot")->getValue<std::string>("data");
  std::istringstream encoded(data);
  Poco::Base64Decoder decoder(encoded);
  std::ofstream png(file, std::ios::binary);
  Poco::StreamCopier::copyStream(decoder, png);
}

std::unique_ptr<DevTools> openInChromium(Cluster& cluster, const std::string& url, std::chrono::milliseconds timeout) {
  auto profile = cluster.dir() / "chromium-profile";
  auto& browser = cluster.startProcess(kChromium,
                                       {"--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                        "--remote-debugging-port=0", "--user-data-dir=" + profile.string(),
                                        "--window-size=1000,700", url},
                                       "chromium.log");
  if (!browser.waitForLog("DevTools listening on ws://", timeout)) {
    throw std::runtime_error("chromium did not start:\n" + browser.log());
  }
  std::smatch match;
  auto log = browser.log();
  if (!std::regex_search(log, match, std::regex("DevTools listening on ws://127\\.0\\.0\\.1:([0-9]+)/"))) {
    throw std::runtime_error("chromium's DevTools address is not in its log:\n" + log);
  }
  auto port = static_cast<Poco::UInt16>(std::stoi(match[1]));
  // The page's target, from the browser's /json/list.
  std::string pageSocket;
  waitUntil([&] {
    try {
      Poco::Net::HTTPClientSession session("127.0.0.1", port);
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/json/list", Poco::Net::HTTPMessage::HTTP_1_1);
      session.sendRequest(request);
      Poco::Net::HTTPResponse response;
      std::string body;
      Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
      auto targets = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Array::Ptr>();
      for (unsigned i = 0; i < targets->size(); ++i) {
        auto t = targets->getObject(i);
        if (t->getValue<std::string>("type") == "page") pageSocket = t->getValue<std::string>("webSocketDebuggerUrl");
      }
    } catch (const std::exception&) {
      // Not up yet.
    }
    return !pageSocket.empty();
  }, timeout);
  if (pageSocket.empty()) throw std::runtime_error("chromium opened no page:\n" + browser.log());
  return std::make_unique<DevTools>(pageSocket);
}

std::filesystem::path testOutputFolder(const std::string& name) {
  auto folder = std::filesystem::path(STRATA_BINARY_DIR) / "test-output" / name;
  std::filesystem::create_directories(folder);
  return folder;
}

}  // namespace strata::test
