// The `xml` plug-in: xml.to_json, xml.from_json and xml.select (see docs/integrations.md), with the
// size, depth and width caps of strata.plugin.xml.max_bytes, max_depth and max_members.
#include <strata/plugin.h>

#include <strata/integrations/xml/xml_services.h>

namespace {

using strata::integrations::xml::ServiceResult;
using strata::integrations::xml::XmlServices;

// The largest configurable body and nesting; a bigger document is not what this is for.
constexpr long long kMaxConfigBytes = 64LL * 1024 * 1024;
constexpr long long kMaxConfigDepth = 512;
// The widest configurable element or object: decoding one of n members costs n*n/2 key
// comparisons (Poco's ordered Object), about 20 s of CPU at this bound.
constexpr long long kMaxConfigMembers = 100'000;

strata::codecs::PayloadLimits limitsFrom(const strata::plugin::Host& host) {
  strata::codecs::PayloadLimits limits;
  limits.maxBytes = static_cast<std::size_t>(
      host.configInt("max_bytes", static_cast<long long>(limits.maxBytes), 1, kMaxConfigBytes));
  limits.maxDepth = static_cast<std::size_t>(
      host.configInt("max_depth", static_cast<long long>(limits.maxDepth), 1, kMaxConfigDepth));
  limits.maxMembers = static_cast<std::size_t>(
      host.configInt("max_members", static_cast<long long>(limits.maxMembers), 1, kMaxConfigMembers));
  return limits;
}

void send(const ServiceResult& result, strata::plugin::Reply& reply) {
  switch (result.failure) {
    case ServiceResult::Failure::kNone:
      reply.header(strata::codecs::kContentTypeHeader, result.contentType);
      reply.frame(result.body);
      return;
    case ServiceResult::Failure::kTooLarge: reply.error(STRATA_ERROR_TOO_LARGE, result.error); return;
    case ServiceResult::Failure::kMalformed: reply.error(STRATA_ERROR_MALFORMED, result.error); return;
  }
}

class XmlPlugin : public strata::plugin::Plugin {
 public:
  explicit XmlPlugin(strata::plugin::Host& host) : services_(limitsFrom(host)) {
    using strata::plugin::Reply;
    using strata::plugin::Request;
    host.addService(std::string(XmlServices::kToJson), [this](const Request& request, Reply& reply) {
      send(services_.toJson(request.body()), reply);
    });
    host.addService(std::string(XmlServices::kFromJson), [this](const Request& request, Reply& reply) {
      send(services_.fromJson(request.body(), request.header(XmlServices::kRootHeader)), reply);
    });
    host.addService(std::string(XmlServices::kSelect), [this](const Request& request, Reply& reply) {
      send(services_.select(request.body(), request.header(XmlServices::kPathHeader)), reply);
    });
    host.info("xml ready: max_bytes " + std::to_string(services_.limits().maxBytes) + ", max_depth " +
              std::to_string(services_.limits().maxDepth) + ", max_members " +
              std::to_string(services_.limits().maxMembers));
  }

 private:
  XmlServices services_;
};

}  // namespace

STRATA_PLUGIN(XmlPlugin, "xml", "1.0.0", "XML to and from JSON, and a path selector", "max_bytes", "max_depth",
              "max_members")
