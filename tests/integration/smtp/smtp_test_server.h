#pragma once

// A real SMTP server for tests (smtp_server.py on Debian's aiosmtpd, port 0) and a test
// CA made with the openssl command line.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cluster.h"

namespace strata::test {

struct ReceivedMail {
  std::string mailFrom;
  std::vector<std::string> rcptTos;
  std::vector<std::string> mailOptions;  // MAIL FROM parameters, such as BODY=8BITMIME
  bool tls = false;
  std::string auth;  // the AUTH user, empty without AUTH
  std::string data;  // the DATA section exactly as received, dot-unstuffed
  std::filesystem::path file;  // where the server wrote data
};

struct SmtpServerOptions {
  std::filesystem::path cert;  // with key: offers STARTTLS
  std::filesystem::path key;
  bool requireTls = false;
  std::string auth;  // "user:password": AUTH required
  int failFirst = 0;  // answer 451 to this many DATA
  int reject = 0;     // answer this 5xx code to every DATA
  std::filesystem::path tempfailUntil;  // answer 451 until this file exists
  int port = 0;                          // 0: a free one
};

class SmtpTestServer {
 public:
  // Starts the server with its files in dir and waits until it listens. Throws on failure.
  SmtpTestServer(const std::filesystem::path& dir, const SmtpServerOptions& options = {});

  int port() const { return port_; }
  // The mail accepted so far, oldest first.
  std::vector<ReceivedMail> received() const;
  // How many DATA commands the server has answered (accepted or not).
  std::size_t attempts() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

// A CA and a server certificate signed by it for the names in subjectAltName (OpenSSL's
// syntax), made with openssl in dir.
struct TestCa {
  explicit TestCa(const std::filesystem::path& dir, const std::string& name = "ca",
                  const std::string& subjectAltName = "IP:127.0.0.1, DNS:localhost");
  std::filesystem::path caCert;
  std::filesystem::path serverCert;
  std::filesystem::path serverKey;
};

}  // namespace strata::test
