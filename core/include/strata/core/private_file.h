#pragma once

#include <filesystem>
#include <string>

namespace strata::core {

// Refuses a file that holds a secret (a CURVE secret key, a token, a password, a TLS key)
// when it is missing (KeyError, ExitCode::kNoInput: "cannot read WHAT PATH: why") or
// when group or others have any access to it (KeyError: "WHAT PATH has mode 0644; group
// and others must have no access (chmod 600)").
void requirePrivateFile(const std::filesystem::path& path, const std::string& what);

}  // namespace strata::core
