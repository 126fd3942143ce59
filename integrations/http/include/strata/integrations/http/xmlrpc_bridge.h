#pragma once

// XML-RPC on the gateway's /RPC2, as bus calls, every type carried as itself (the typed
// JSON shape of xml/xmlrpc.h):
//   methodCall name          -> the bus service of the same name
//   one string param         -> that string as the body, content-type text/plain
//   one base64 param         -> its bytes as the body, application/octet-stream
//   one other param          -> that value as JSON, application/json
//   none or several params   -> the JSON array of them, application/json
//   every call               -> header xmlrpc-params: the number of params, so a service
//                               tells one array param from several params
//   reply application/json   -> the parsed JSON as the XML-RPC value
//   reply octet-stream, or
//   bytes that are not text  -> <base64>
//   any other reply          -> the body as an XML-RPC string
//   a bus error              -> a fault: faultCode the bus error number, faultString its text
// So echo("hi") returns "hi", echo(42) returns 42, and echo(Binary(b"\xff")) a Binary.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <strata/integrations/http/bus_call.h>

namespace strata::integrations::http {

inline constexpr std::string_view kXmlRpcParamsHeader = "xmlrpc-params";
inline constexpr std::string_view kOctetStreamType = "application/octet-stream";

struct XmlRpcRequest {
  std::optional<BusRequest> request;  // service, body and content-type; no timeout set
  std::string error;                  // why the document was refused, when request is empty
};

// Parses a methodCall of at most maxBytes. Never throws for bad input.
XmlRpcRequest busRequestFromXmlRpc(std::string_view xml, std::size_t maxBytes);

// The methodResponse (or fault) document for a bus reply. Never throws.
std::string xmlRpcResponseFor(const BusReply& reply);

}  // namespace strata::integrations::http
