#pragma once

#include <Poco/Net/Context.h>

namespace strata::integrations {

// Makes a client context's certificate check OpenSSL's verdict alone: a peer certificate
// that does not verify (another CA, expired, wrong chain) fails the handshake, and nothing
// else is asked. Poco's own verify callback instead hands a failure to the process-wide
// SSLManager's InvalidCertificateHandler, which inside a Poco::Util::Application such as
// strata-node is, once anything in the process has asked SSLManager for its defaults,
// a ConsoleCertificateHandler that prints "Accept the certificate (y,n)?" and reads the
// answer from stdin (or whatever openSSL.client.invalidCertificateHandler.name names, such
// as AcceptCertificateHandler). The SSLManager itself is left alone: it is shared with
// the node and the other plug-ins, and replacing its handler could race with their
// handshakes. Call before the context makes its first connection; idempotent.
void verifyWithoutAsking(Poco::Net::Context& context);

}  // namespace strata::integrations
