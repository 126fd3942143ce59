#include <strata/core/curve_keys.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sodium.h>
#include <zmq.h>

#include <strata/core/errors.h>
#include <strata/core/private_file.h>

namespace strata::core {

namespace {

constexpr std::size_t kBinaryKeySize = 32;

bool isZ85Key(std::string_view text) {
  if (text.size() != PublicKey::kZ85Length) return false;
  std::string copy(text);
  std::uint8_t binary[kBinaryKeySize];
  return zmq_z85_decode(binary, copy.c_str()) != nullptr;
}

// The first line of a key file, without its line end; key files hold one line.
std::string readKeyLine(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) throw KeyError("cannot read " + std::string(what) + " file " + path.string(), ExitCode::kNoInput);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

void writeFile(const std::filesystem::path& path, const std::string& text, mode_t mode, bool overwrite) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    throw KeyError("cannot create " + path.string() + ": " + std::strerror(errno), ExitCode::kCantCreate);
  }
  // An existing file keeps its mode through O_TRUNC, so set it explicitly.
  bool ok = ::fchmod(fd, mode) == 0;
  ok = ok && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) throw KeyError("cannot write " + path.string() + ": " + std::strerror(errno), ExitCode::kCantCreate);
}

}  // namespace

PublicKey PublicKey::fromZ85(std::string_view text) {
  if (!isZ85Key(text)) throw KeyError("not a Z85 CURVE public key (40 characters expected)", ExitCode::kDataError);
  return PublicKey(std::string(text));
}

SecretKey SecretKey::fromZ85(std::string_view text) {
  if (!isZ85Key(text)) throw KeyError("not a Z85 CURVE secret key (40 characters expected)", ExitCode::kDataError);
  SecretKey key;
  std::memcpy(key.text_.data(), text.data(), PublicKey::kZ85Length);
  key.text_[PublicKey::kZ85Length] = '\0';
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept : text_(other.text_) {
  sodium_memzero(other.text_.data(), other.text_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    text_ = other.text_;
    sodium_memzero(other.text_.data(), other.text_.size());
  }
  return *this;
}

SecretKey::~SecretKey() { sodium_memzero(text_.data(), text_.size()); }

PublicKey SecretKey::publicKey() const {
  char pub[PublicKey::kZ85Length + 1] = {};
  if (zmq_curve_public(pub, text_.data()) != 0) throw KeyError("cannot derive the public key", ExitCode::kSoftware);
  return PublicKey::fromZ85(pub);
}

KeyPair generateKeyPair() {
  char pub[PublicKey::kZ85Length + 1] = {};
  char sec[PublicKey::kZ85Length + 1] = {};
  if (zmq_curve_keypair(pub, sec) != 0) {
    throw KeyError("libzmq was built without CURVE support", ExitCode::kSoftware);
  }
  KeyPair pair{PublicKey::fromZ85(pub), SecretKey::fromZ85(sec)};
  sodium_memzero(sec, sizeof sec);
  return pair;
}

void writeKeyPair(const std::filesystem::path& basePath, const KeyPair& pair, bool overwrite) {
  auto secretPath = std::filesystem::path(basePath.string() + ".key");
  auto publicPath = std::filesystem::path(basePath.string() + ".pub");
  if (!overwrite) {
    for (const auto& p : {secretPath, publicPath}) {
      if (std::filesystem::exists(p)) {
        throw KeyError(p.string() + " already exists; not overwriting a key", ExitCode::kCantCreate);
      }
    }
  }
  std::string secretText = std::string(pair.secretKey.z85()) + "\n";
  writeFile(secretPath, secretText, 0600, overwrite);
  sodium_memzero(secretText.data(), secretText.size());
  writeFile(publicPath, pair.publicKey.z85() + "\n", 0644, overwrite);
}

SecretKey loadSecretKey(const std::filesystem::path& path) {
  requirePrivateFile(path, "secret key file");
  std::string line = readKeyLine(path, "secret key");
  try {
    SecretKey key = SecretKey::fromZ85(line);
    sodium_memzero(line.data(), line.size());
    return key;
  } catch (const KeyError&) {
    sodium_memzero(line.data(), line.size());
    throw KeyError("secret key file " + path.string() + " does not hold a Z85 CURVE secret key",
                   ExitCode::kDataError);
  }
}

PublicKey loadPublicKey(const std::filesystem::path& path) {
  std::string line = readKeyLine(path, "public key");
  try {
    return PublicKey::fromZ85(line);
  } catch (const KeyError&) {
    throw KeyError("public key file " + path.string() + " does not hold a Z85 CURVE public key",
                   ExitCode::kDataError);
  }
}

}  // namespace strata::core
