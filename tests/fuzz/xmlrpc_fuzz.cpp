// libFuzzer target for XML-RPC: the codec (integrations/xml/xmlrpc.h) and the gateway's
// mapping of /RPC2 to bus calls and back (integrations/http/xmlrpc_bridge.h).
//
// Input: the first byte picks what the rest is ('c': a methodCall, 'r': a methodResponse,
// 'b': a reply body for the bridge, JSON or bytes; any other byte by its value modulo 3).
// tests/fuzz/xmlrpc_corpus holds seeds in this form.
//
// Properties checked, each aborting (which libFuzzer and the replay report) if broken:
//  - nothing throws for any input; a refusal always has a text starting "xmlrpc: ";
//  - every parameter of a call that parses has an XML-RPC form, and formatting then
//    parsing it gives the same JSON shape back (types included);
//  - a call that parses becomes a bus request, or is refused only for its method name;
//  - every bus reply, JSON or not, becomes a well-formed methodResponse (a value or a fault).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <strata/codecs/payload.h>
#include <strata/integrations/http/xmlrpc_bridge.h>
#include <strata/integrations/xml/xmlrpc.h>

namespace {

namespace xml = strata::integrations::xml;
namespace http = strata::integrations::http;
using strata::codecs::jsonCodec;

void check(bool ok, const char* property) {
  if (ok) return;
  std::fprintf(stderr, "xmlrpc_fuzz: property broken: %s\n", property);
  std::abort();
}

void fuzzCall(std::string_view text) {
  auto parsed = xml::parseMethodCall(text);
  check(parsed.call.has_value() != !parsed.error.empty(), "a call or an error, never both or neither");
  if (!parsed.call) {
    check(parsed.error.rfind("xmlrpc: ", 0) == 0, "errors start with xmlrpc: ");
    return;
  }
  const auto& params = *parsed.call->params;
  for (unsigned i = 0; i < params.size(); ++i) {
    std::string formatted;
    try {
      formatted = xml::formatMethodResponse(params.get(i));
    } catch (...) {
      check(false, "every parsed value has an XML-RPC form");
    }
    auto back = xml::parseMethodResponse(formatted);
    check(back.ok() && !back.fault, "a formatted value parses back");
    check(jsonCodec().encode(back.value) == jsonCodec().encode(params.get(i)), "format then parse keeps the value");
  }
  auto request = http::busRequestFromXmlRpc(text, text.size());
  check(request.request.has_value() || request.error.find("method") != std::string::npos,
        "a parsed call is refused only for its method name");
}

void fuzzResponse(std::string_view text) {
  auto parsed = xml::parseMethodResponse(text);
  if (!parsed.ok()) check(parsed.error.rfind("xmlrpc: ", 0) == 0, "errors start with xmlrpc: ");
}

void fuzzReply(std::string_view body) {
  for (const char* type : {"application/json", "text/plain", "application/octet-stream"}) {
    http::BusReply reply;
    reply.headers = {{"content-type", type}};
    reply.body = std::string(body);
    std::string document;
    try {
      document = http::xmlRpcResponseFor(reply);
    } catch (...) {
      check(false, "xmlRpcResponseFor does not throw");
    }
    check(xml::parseMethodResponse(document).ok(), "every reply becomes a well-formed methodResponse");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] == 'c' ? 0 : data[0] == 'r' ? 1 : data[0] == 'b' ? 2 : data[0] % 3) {
      case 0: fuzzCall(rest); break;
      case 1: fuzzResponse(rest); break;
      default: fuzzReply(rest); break;
    }
  } catch (...) {
    check(false, "nothing throws");
  }
  return 0;
}
