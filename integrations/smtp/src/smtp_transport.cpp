#include <strata/integrations/common/peer_verification.h>
#include <strata/integrations/smtp/smtp_transport.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <strata/codecs/mail_message.h>
#include <strata/codecs/text.h>


namespace strata::integrations::smtp {

namespace {

using Outcome = DeliveryResult::Outcome;

// SMTP reply codes used here (RFC 5321 4.2).
constexpr int kServiceReady = 220;
constexpr int kOk = 250;
constexpr int kWillForward = 251;
constexpr int kAuthOk = 235;
constexpr int kAuthContinue = 334;
constexpr int kStartInput = 354;
constexpr int kTransientClass = 4;
constexpr int kPermanentClass = 5;
constexpr int kClassDivisor = 100;
constexpr int kCertificateDepth = 9;

// Poco keeps socket() protected; SecureSMTPClientSession reaches it the same way, by
// deriving. It is used here, not SecureSMTPClientSession, because that one connects
// without a timeout (host constructor) or verifies the certificate against no host name
// (socket constructor); STARTTLS below attaches TLS with the configured host instead.
class Session : public Poco::Net::SMTPClientSession {
 public:
  explicit Session(const Poco::Net::StreamSocket& socket) : SMTPClientSession(socket) {}
  using SMTPClientSession::socket;
};

// A failure that ends the attempt, with how to treat the mail.
struct Stop {
  Outcome outcome;
  std::string reply;
};

std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

// A reply to MAIL, RCPT or DATA judges this mail: 4xx transient, 5xx permanent.
Stop judged(const std::string& step, int code, const std::string& reply) {
  auto outcome = code / kClassDivisor == kPermanentClass ? Outcome::kPermanent : Outcome::kTransient;
  if (code / kClassDivisor != kTransientClass && code / kClassDivisor != kPermanentClass) outcome = Outcome::kTransient;
  return {outcome, step + ": " + (code == 0 ? std::string("connection closed") : oneLine(reply))};
}

// Before MAIL nothing was said about this mail: any failure is worth another attempt.
Stop beforeMail(const std::string& step, const std::string& reply) { return {Outcome::kTransient, step + ": " + oneLine(reply)}; }

// The EHLO keywords, upper case, each with its parameters: "STARTTLS", "AUTH PLAIN LOGIN".
std::vector<std::string> extensions(const std::string& ehloReply) {
  std::vector<std::string> out;
  std::istringstream lines(ehloReply);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (first) {  // the greeting line names the server, not an extension
      first = false;
      continue;
    }
    if (line.size() > 4) line = line.substr(4);
    std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    out.push_back(line);
  }
  return out;
}

bool offers(const std::vector<std::string>& exts, const std::string& keyword) {
  return std::any_of(exts.begin(), exts.end(), [&](const std::string& e) { return e == keyword; });
}

bool offersAuth(const std::vector<std::string>& exts, const std::string& mechanism) {
  for (const auto& e : exts) {
    if (e.rfind("AUTH ", 0) != 0 && e.rfind("AUTH=", 0) != 0) continue;
    std::istringstream words(e.substr(5));
    std::string word;
    while (words >> word) {
      if (word == mechanism) return true;
    }
  }
  return false;
}

void sendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    int sent = socket.sendBytes(data, static_cast<int>(std::min<std::size_t>(left, 1 << 16)));
    if (sent <= 0) throw Poco::Net::NetException("connection closed while sending DATA");
    data += sent;
    left -= static_cast<std::size_t>(sent);
  }
}

class Delivery {
 public:
  Delivery(const SmtpConfig& config, const OutboundMail& mail) : config_(config), mail_(mail) {}

  DeliveryResult run() {
    Poco::Net::StreamSocket socket;
    try {
      socket.connect(Poco::Net::SocketAddress(config_.host, config_.port), timespan());
    } catch (const Poco::Exception& e) {
      return {Outcome::kTransient,
              "connect to " + config_.host + ":" + std::to_string(config_.port) + ": " + e.displayText()};
    }
    Session session(socket);
    session.setTimeout(timespan());
    try {
      auto stop = converse(session);
      if (stop) {
        quietQuit(session);
        return {stop->outcome, stop->reply};
      }
      quietQuit(session);
      return {Outcome::kSent, lastReply_};
    } catch (const Poco::Exception& e) {
      // No reply to the end of DATA (a timeout, a reset) lands here too: the server may
      // have taken the mail, and a retry may deliver it twice. SMTP has no way around it.
      return {Outcome::kTransient, step_ + ": " + e.displayText()};
    }
  }

 private:
  Poco::Timespan timespan() const {
    return Poco::Timespan(std::chrono::duration_cast<std::chrono::microseconds>(config_.timeout).count());
  }

  int command(Session& session, const std::string& step, const std::string& line) {
    step_ = step;
    return session.sendCommand(line, lastReply_);
  }

  std::optional<Stop> converse(Session& session) {
    step_ = "greeting";
    int code = session.socket().receiveStatusMessage(lastReply_);
    if (code != kServiceReady) return beforeMail("greeting", lastReply_);
    code = command(session, "EHLO", "EHLO " + config_.heloName);
    if (code != kOk) return beforeMail("EHLO", lastReply_);
    auto exts = extensions(lastReply_);

    if (config_.startTls == SmtpConfig::StartTls::kRequired) {
      if (!offers(exts, "STARTTLS")) {
        return Stop{Outcome::kTransient, "the server does not offer STARTTLS and starttls = required; not sent in clear"};
      }
      code = command(session, "STARTTLS", "STARTTLS");
      if (code != kServiceReady) return beforeMail("STARTTLS", lastReply_);
      step_ = "TLS handshake";
      Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, config_.caFile, Poco::Net::Context::VERIFY_STRICT,
                                 kCertificateDepth, config_.caFile.empty());
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      context->enableExtendedCertificateVerification(true);  // the name must match host
      integrations::verifyWithoutAsking(*context);  // a bad certificate ends the attempt; stdin is never read
      auto secure = Poco::Net::SecureStreamSocket::attach(session.socket(), config_.host, context);
      secure.completeHandshake();
      session.socket() = secure;
      session.setTimeout(timespan());
      code = command(session, "EHLO after STARTTLS", "EHLO " + config_.heloName);
      if (code != kOk) return beforeMail("EHLO after STARTTLS", lastReply_);
      exts = extensions(lastReply_);
    }

    if (!config_.username.empty()) {
      auto stop = authenticate(session, exts);
      if (stop) return stop;
    }

    // RFC 6152: 8-bit data only to a server that offers 8BITMIME, and declared. The
    // composer encodes bodies to 7 bits unless the message chose 8bit itself.
    std::string mailFrom = "MAIL FROM:<" + mail_.envelopeFrom + ">";
    if (!codecs::mail::isAscii(mail_.data)) {
      if (!offers(exts, "8BITMIME")) {
        return Stop{Outcome::kPermanent,
                    "the message is 8-bit (its own Content-Transfer-Encoding) and the server does not offer 8BITMIME"};
      }
      mailFrom += " BODY=8BITMIME";
    }
    code = command(session, "MAIL FROM", mailFrom);
    if (code != kOk) return judged("MAIL FROM", code, lastReply_);
    for (const auto& recipient : mail_.recipients) {
      code = command(session, "RCPT TO", "RCPT TO:<" + recipient + ">");
      if (code != kOk && code != kWillForward) return judged("RCPT TO:<" + recipient + ">", code, lastReply_);
    }
    code = command(session, "DATA", "DATA");
    if (code != kStartInput) return judged("DATA", code, lastReply_);
    step_ = "end of DATA";
    sendAll(session.socket(), SmtpTransport::transparentData(mail_.data));
    code = session.socket().receiveStatusMessage(lastReply_);
    if (code != kOk) return judged("end of DATA", code, lastReply_);
    return std::nullopt;
  }

  // AUTH PLAIN (RFC 4616) or LOGIN. The password never appears in a reply kept or logged.
  std::optional<Stop> authenticate(Session& session, const std::vector<std::string>& exts) {
    int code = 0;
    if (offersAuth(exts, "PLAIN")) {
      std::string token = std::string(1, '\0') + config_.username + std::string(1, '\0') + config_.password;
      code = command(session, "AUTH", "AUTH PLAIN " + codecs::toBase64(token));
      std::fill(token.begin(), token.end(), '\0');
    } else if (offersAuth(exts, "LOGIN")) {
      code = command(session, "AUTH", "AUTH LOGIN");
      if (code == kAuthContinue) code = command(session, "AUTH", codecs::toBase64(config_.username));
      if (code == kAuthContinue) code = command(session, "AUTH", codecs::toBase64(config_.password));
    } else {
      return Stop{Outcome::kTransient, "AUTH: the server offers neither PLAIN nor LOGIN (or no AUTH at all)"};
    }
    if (code != kAuthOk) return beforeMail("AUTH as " + config_.username, lastReply_);
    return std::nullopt;
  }

  void quietQuit(Session& session) {
    try {
      std::string ignored;
      session.sendCommand("QUIT", ignored);
      session.socket().close();
    } catch (const Poco::Exception&) {
      // The outcome is already known; a failed QUIT changes nothing.
    }
  }

  const SmtpConfig& config_;
  const OutboundMail& mail_;
  std::string step_ = "connect";
  std::string lastReply_;
};

}  // namespace

// initializeSSL is counted; its counterpart is left out on purpose, since
// uninitializeSSL shuts down the process-wide SSLManager that other plug-ins may use.
SmtpTransport::SmtpTransport(SmtpConfig config) : config_(std::move(config)) { Poco::Net::initializeSSL(); }

SmtpTransport::~SmtpTransport() = default;

DeliveryResult SmtpTransport::deliver(const OutboundMail& mail) {
  try {
    return Delivery(config_, mail).run();
  } catch (const std::exception& e) {
    return {Outcome::kTransient, std::string("unexpected: ") + e.what()};
  }
}

std::string SmtpTransport::transparentData(std::string_view data) {
  auto crlf = codecs::mail::normaliseLineEnds(data);
  std::string out;
  out.reserve(crlf.size() + crlf.size() / 64 + 8);
  bool lineStart = true;
  for (std::size_t i = 0; i < crlf.size(); ++i) {
    if (lineStart && crlf[i] == '.') out += '.';
    out += crlf[i];
    lineStart = crlf[i] == '\n';  // after normalisation every LF ends a CRLF
  }
  if (!crlf.empty() && !lineStart) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace strata::integrations::smtp
