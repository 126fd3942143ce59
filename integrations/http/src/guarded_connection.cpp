#include "guarded_connection.h"

#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/SecureStreamSocket.h>

namespace strata::integrations::http {

GuardedConnection::GuardedConnection(const Poco::Net::StreamSocket& socket, const Shared& shared)
    : TCPServerConnection(socket), shared_(shared) {}

void GuardedConnection::run() {
  std::string peer;
  try {
    peer = socket().peerAddress().toString();
  } catch (const Poco::Exception&) {
    return;  // gone before we looked
  }
  shared_.watch->add(peer, socket());
  try {
    // Bounds each read and write; the watchdog bounds the whole request.
    socket().setReceiveTimeout(shared_.params->getTimeout());
    socket().setSendTimeout(shared_.params->getTimeout());
    if (shared_.tls) {
      auto secure = Poco::Net::SecureStreamSocket::attach(socket(), shared_.tls);
      Poco::Net::HTTPServerConnection(secure, shared_.params, shared_.handlers).run();
    } else {
      Poco::Net::HTTPServerConnection(socket(), shared_.params, shared_.handlers).run();
    }
  } catch (const Poco::Exception&) {
    // A failed handshake or a broken connection ends this connection only.
  } catch (const std::exception&) {
  }
  shared_.watch->remove(peer);
}

}  // namespace strata::integrations::http
