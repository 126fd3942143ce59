#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace strata::core {

// A CURVE public key as the 40-character Z85 text libzmq takes.
class PublicKey {
 public:
  static constexpr std::size_t kZ85Length = 40;

  // Throws KeyError unless text is 40 Z85 characters that decode to 32 bytes.
  static PublicKey fromZ85(std::string_view text);
  const std::string& z85() const { return z85_; }
  bool operator==(const PublicKey&) const = default;

 private:
  explicit PublicKey(std::string z85) : z85_(std::move(z85)) {}
  std::string z85_;
};

// A CURVE secret key. The text is wiped with sodium_memzero when the key dies; it is
// never printed (no stream operator on purpose). Move-only.
class SecretKey {
 public:
  static SecretKey fromZ85(std::string_view text);
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // The NUL-terminated Z85 text, for zmq_setsockopt only.
  const char* z85() const { return text_.data(); }
  // The public key that belongs to this secret key.
  PublicKey publicKey() const;

 private:
  SecretKey() = default;
  std::array<char, PublicKey::kZ85Length + 1> text_{};
};

struct KeyPair {
  PublicKey publicKey;
  SecretKey secretKey;
};

KeyPair generateKeyPair();

// Writes PATH.key (secret, mode 0600, created exclusively) and PATH.pub. Throws KeyError
// if either exists (unless overwrite) or cannot be written.
void writeKeyPair(const std::filesystem::path& basePath, const KeyPair& pair, bool overwrite = false);

// Reads a secret key file; refuses one that group or others may read or write.
SecretKey loadSecretKey(const std::filesystem::path& path);
PublicKey loadPublicKey(const std::filesystem::path& path);

}  // namespace strata::core
