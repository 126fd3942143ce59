#include "guarded_connection.h"

#include <memory>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponseImpl.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Timestamp.h>

#include "gateway_request_handler.h"

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
      // Keep-alive on this thread, bounded by the watchdog, until a request opens a stream.
      Poco::Net::StreamSocket secure = Poco::Net::SecureStreamSocket::attach(socket(), shared_.tls);
      for (int served = 0;; ++served) {
        auto next = serveOne(secure, true, served, peer);
        if (next == Next::kStream) handedBack = true;
        if (next != Next::kAnother) break;
      }
    } else if (gate != nullptr) {
      int served = gate->takeServed(socket().impl()->sockfd());
      Poco::Net::StreamSocket plain = socket();
      switch (serveOne(plain, false, served, peer)) {
        case Next::kAnother:
          // The gate waits for its next header off the worker threads.
          shared_.watch->remove(peer);  // before the gate may dispatch it again
          gate->readmit(plain, served + 1);
          handedBack = true;
          break;
        case Next::kStream: handedBack = true; break;
        case Next::kClose: break;
      }
    } else {
      Poco::Net::HTTPServerConnection(socket(), shared_.params, shared_.handlers).run();
    }
  } catch (const Poco::Exception&) {
    // A failed handshake or a broken connection ends this connection only.
  } catch (const std::exception&) {
  }
  if (!handedBack) shared_.watch->remove(peer);
}

GuardedConnection::Next GuardedConnection::serveOne(Poco::Net::StreamSocket& socket, bool tls, int served,
                                                    const std::string& peer) {
  Poco::Net::HTTPServerParams::Ptr params = shared_.params;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers = shared_.handlers;
  // Keep-alive is offered only while the connection has requests left after this one.
  bool mayContinue = params->getKeepAlive() && served + 1 < params->getMaxKeepAliveRequests();
  // A kept-alive TLS connection waits keepalive_timeout_ms for its next request (the
  // gate does this for plain ones); bytes TLS has decrypted already count as arrived.
  if (tls && served > 0 && socket.available() == 0 &&
      !socket.poll(params->getKeepAliveTimeout(), Poco::Net::Socket::SELECT_READ)) {
    return Next::kClose;
  }
  ServerSession session(socket, params);
  bool continues = false;
  {
    Poco::Net::HTTPServerResponseImpl response(session);
    try {
      Poco::Net::HTTPServerRequestImpl request(response, session, params.get());
      response.setDate(Poco::Timestamp());
      response.setVersion(request.getVersion());
      response.setKeepAlive(mayContinue && request.getKeepAlive());
      std::unique_ptr<Poco::Net::HTTPRequestHandler> handler(handlers->createRequestHandler(request));
      // On plain HTTP the accept thread answered 100-continue before the body arrived
      // (ConnectionGate); only a TLS connection, which it cannot read, gets it here.
      if (tls && request.getExpectContinue() && response.getStatus() == Poco::Net::HTTPResponse::HTTP_OK) {
        response.sendContinue();
      }
      handler->handleRequest(request, response);
      auto* gateway = dynamic_cast<GatewayRequestHandler*>(handler.get());
      if (gateway != nullptr && gateway->streaming()) {
        // An event stream: from now on the hub writes to it, and nobody reads it. Bytes
        // read ahead (a request pipelined behind it) would be lost: refused instead.
        if (session.buffered() > 0) return Next::kClose;
        auto held = session.detachSocket();
        shared_.watch->remove(peer);
        return gateway->startStream(held, tls) ? Next::kStream : Next::kClose;
      }
      continues = mayContinue && response.getKeepAlive();
    } catch (const Poco::Net::NoMessageException&) {
      return Next::kClose;  // closed before sending a request
    } catch (const Poco::Net::MessageException&) {
      if (!response.sent()) sendBadRequest(session);
      return Next::kClose;
    }
  }
  // Bytes already read past this request (a pipelined next request) live in the
  // session's buffer, which the next request's session (or the gate) cannot see: such
  // a connection is closed instead.
  if (!continues || session.buffered() > 0) return Next::kClose;
  socket = session.detachSocket();  // the session's destructor must not close it
  return Next::kAnother;
}

void GuardedConnection::sendBadRequest(Poco::Net::HTTPServerSession& session) {
  Poco::Net::HTTPServerResponseImpl response(session);
  response.setVersion(Poco::Net::HTTPMessage::HTTP_1_1);
  response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
  response.setKeepAlive(false);
  response.send();
}

}  // namespace strata::integrations::http
