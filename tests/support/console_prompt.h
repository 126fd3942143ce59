#pragma once

// For tests that prove a TLS client never asks the console about a bad certificate:
// an application like strata-node (from whose configuration Poco's SSLManager takes its
// defaults, a ConsoleCertificateHandler among them), and a console whose stdin holds
// answers and whose stdout is captured.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Util/Application.h>

namespace strata::test {

// Stands in for strata-node, which is a Poco::Util::Application.
class NodeLikeApplication : public Poco::Util::Application {
 protected:
  int main(const std::vector<std::string>&) override { return EXIT_OK; }
};

// std::cin reads answers and std::cout is captured while it lives.
class RedirectedConsole {
 public:
  explicit RedirectedConsole(const std::string& answers)
      : answers_(answers), oldIn_(std::cin.rdbuf(answers_.rdbuf())), oldOut_(std::cout.rdbuf(printed_.rdbuf())) {}
  ~RedirectedConsole() {
    std::cin.rdbuf(oldIn_);
    std::cout.rdbuf(oldOut_);
  }
  RedirectedConsole(const RedirectedConsole&) = delete;
  RedirectedConsole& operator=(const RedirectedConsole&) = delete;

  std::streamoff answersRead() { return answers_.tellg(); }
  std::string printed() const { return printed_.str(); }

 private:
  std::istringstream answers_;
  std::ostringstream printed_;
  std::streambuf* oldIn_;
  std::streambuf* oldOut_;
};

}  // namespace strata::test
