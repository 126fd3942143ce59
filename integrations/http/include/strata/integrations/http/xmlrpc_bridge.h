#pragma once

// XML-RPC on the gateway's /RPC2, as bus calls:
//   methodCall name            -> the bus service of the same name
//   exactly one string param   -> that string as the body, content-type text/plain
//   any other params           -> the JSON array of the params, content-type application/json
//   reply application/json     -> the parsed JSON as the XML-RPC value
//   any other reply            -> the body as an XML-RPC string
//   a bus error                -> a fault: faultCode the bus error number, faultString its text
// So echo("hi") returns "hi".

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <strata/integrations/http/bus_call.h>

namespace strata::integrations::http {

struct XmlRpcRequest {
  std::optional<BusRequest> request;  // service, body and content-type; no timeout set
  std::string error;                  // why the document was refused, when request is empty
};

// Parses a methodCall of at most maxBytes. Never throws for bad input.
XmlRpcRequest busRequestFromXmlRpc(std::string_view xml, std::size_t maxBytes);

// The methodResponse (or fault) document for a bus reply. Never throws.
std::string xmlRpcResponseFor(const BusReply& reply);

}  // namespace strata::integrations::http
