#include "smtp_test_server.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace strata::test {

namespace {

using namespace std::chrono_literals;

constexpr auto kStartTimeout = 15s;

std::string script() { return std::string(STRATA_SOURCE_DIR) + "/tests/integration/smtp/smtp_server.py"; }

void openssl(const std::vector<std::string>& args) {
  auto result = runProgram("/usr/bin/openssl", args);
  if (result.exitCode != 0) throw std::runtime_error("openssl failed (" + std::to_string(result.exitCode) + "): " + result.err);
}

}  // namespace

SmtpTestServer::SmtpTestServer(const std::filesystem::path& dir, const SmtpServerOptions& options) : dir_(dir) {
  std::filesystem::create_directories(dir_);
  std::vector<std::string> args{script(), "--dir", dir_.string()};
  if (!options.cert.empty()) {
    args.insert(args.end(), {"--cert", options.cert.string(), "--key", options.key.string()});
  }
  if (options.requireTls) args.emplace_back("--require-tls");
  if (!options.auth.empty()) args.insert(args.end(), {"--auth", options.auth});
  if (options.failFirst > 0) args.insert(args.end(), {"--fail-first", std::to_string(options.failFirst)});
  if (options.reject > 0) args.insert(args.end(), {"--reject", std::to_string(options.reject)});
  if (!options.tempfailUntil.empty()) args.insert(args.end(), {"--tempfail-until", options.tempfailUntil.string()});
  if (options.port != 0) args.insert(args.end(), {"--port", std::to_string(options.port)});
  process_ = std::make_unique<Process>("/usr/bin/python3", args, dir_ / "server.log");
  if (!process_->waitForLog("PORT ", kStartTimeout)) throw std::runtime_error("SMTP test server did not start:\n" + process_->log());
  auto log = process_->log();
  port_ = std::stoi(log.substr(log.find("PORT ") + 5));
}

std::vector<ReceivedMail> SmtpTestServer::received() const {
  std::vector<std::filesystem::path> metas;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    if (entry.path().extension() == ".json") metas.push_back(entry.path());
  }
  std::sort(metas.begin(), metas.end());
  std::vector<ReceivedMail> out;
  for (const auto& meta : metas) {
    auto object = Poco::JSON::Parser().parse(readFile(meta)).extract<Poco::JSON::Object::Ptr>();
    ReceivedMail mail;
    mail.mailFrom = object->getValue<std::string>("mail_from");
    auto rcpts = object->getArray("rcpt_tos");
    for (std::size_t i = 0; i < rcpts->size(); ++i) mail.rcptTos.push_back(rcpts->getElement<std::string>(static_cast<unsigned>(i)));
    auto options = object->getArray("mail_options");
    for (std::size_t i = 0; i < options->size(); ++i) {
      mail.mailOptions.push_back(options->getElement<std::string>(static_cast<unsigned>(i)));
    }
    mail.tls = object->getValue<bool>("tls");
    if (!object->isNull("auth")) mail.auth = object->getValue<std::string>("auth");
    auto eml = meta;
    mail.file = eml.replace_extension(".eml");
    mail.data = readFile(mail.file);
    out.push_back(std::move(mail));
  }
  return out;
}

std::size_t SmtpTestServer::attempts() const {
  auto path = dir_ / "attempts.log";
  if (!std::filesystem::exists(path)) return 0;
  return countOf(readFile(path), "\n");
}

TestCa::TestCa(const std::filesystem::path& dir, const std::string& name, const std::string& subjectAltName) {
  std::filesystem::create_directories(dir);
  auto base = dir / name;
  auto caKey = base.string() + "-ca.key";
  caCert = base.string() + "-ca.crt";
  serverKey = base.string() + "-server.key";
  serverCert = base.string() + "-server.crt";
  auto csr = base.string() + "-server.csr";
  auto ext = base.string() + "-server.ext";
  std::ofstream(ext) << "subjectAltName = " << subjectAltName << "\n";
  const std::vector<std::string> ecKey{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto withKey = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, ecKey.begin(), ecKey.end());
    return args;
  };
  openssl(withKey({"req", "-x509", "-keyout", caKey, "-out", caCert.string(), "-days", "2", "-subj", "/CN=Strata test " + name}));
  openssl(withKey({"req", "-keyout", serverKey.string(), "-out", csr, "-subj", "/CN=localhost"}));
  openssl({"x509", "-req", "-in", csr, "-CA", caCert.string(), "-CAkey", caKey, "-CAcreateserial", "-out",
           serverCert.string(), "-days", "2", "-extfile", ext});
}

}  // namespace strata::test
