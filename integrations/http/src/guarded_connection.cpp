#include "guarded_connection.h"

#include <memory>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Timestamp.h>

namespace strata::integrations::http {

namespace {

// Poco keeps buffered() protected; serveOne needs to know whether bytes were read ahead.
class ServerSession : public Poco::Net::HTTPServerSession {
 public:
  using HTTPServerSession::HTTPServerSession;
  using HTTPServerSession::buffered;
};

}  // namespace

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
  bool handedBack = false;
  try {
    // Bounds each read and write; the watchdog bounds the whole request.
    socket().setReceiveTimeout(shared_.params->getTimeout());
    socket().setSendTimeout(shared_.params->getTimeout());
    auto* gate = shared_.gate.load();
    if (shared_.tls) {
      auto secure = Poco::Net::SecureStreamSocket::attach(socket(), shared_.tls);
      Poco::Net::HTTPServerConnection(secure, shared_.params, shared_.handlers).run();
    } else if (gate != nullptr) {
      handedBack = serveOne(*gate, peer);
    } else {
      Poco::Net::HTTPServerConnection(socket(), shared_.params, shared_.handlers).run();
    }
  } catch (const Poco::Exception&) {
    // A failed handshake or a broken connection ends this connection only.
  } catch (const std::exception&) {
  }
  if (!handedBack) shared_.watch->remove(peer);
}

bool GuardedConnection::serveOne(ConnectionGate& gate, const std::string& peer) {
  Poco::Net::HTTPServerParams::Ptr params = shared_.params;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers = shared_.handlers;
  int served = gate.takeServed(socket().impl()->sockfd());
  // Keep-alive is offered only while the connection has requests left after this one.
  bool mayContinue = params->getKeepAlive() && served + 1 < params->getMaxKeepAliveRequests();
  ServerSession session(socket(), params);
  bool continues = false;
  {
    Poco::Net::HTTPServerResponseImpl response(session);
    try {
      Poco::Net::HTTPServerRequestImpl request(response, session, params.get());
      response.setDate(Poco::Timestamp());
      response.setVersion(request.getVersion());
      response.setKeepAlive(mayContinue && request.getKeepAlive());
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(handlers->createRequestHandler(request));
      if (request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
        response.sendContinue();
      }
      handler->handleRequest(request, response);
      continues = mayContinue && response.getKeepAlive();
    } catch (const Poco::Net::NoMessageException&) {
      return false;  // closed before sending a request
    } catch (const Poco::Net::MessageException&) {
      if (!response.sent()) sendBadRequest(session);
      return false;
    }
  }
  // Bytes already read past this request (a pipelined next request) live in the
  // session's buffer, which the gate cannot see: such a connection is closed instead.
  if (!continues || session.buffered() > 0) return false;
  auto socket = session.detachSocket();  // the session's destructor must not close it
  shared_.watch->remove(peer);           // before the gate may dispatch it again
  gate.readmit(socket, served + 1);
  return true;
}

void GuardedConnection::sendBadRequest(Poco::Net::HTTPServerSession& session) {
  Poco::Net::HTTPServerResponseImpl response(session);
  response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
  response.setKeepAlive(false);
  response.send();
}

}  // namespace strata::integrations::http
