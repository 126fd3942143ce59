#include <strata/core/private_file.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <strata/core/errors.h>

namespace strata::core {

void requirePrivateFile(const std::filesystem::path& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw KeyError("cannot read " + what + " " + path.string() + ": " + std::strerror(errno), ExitCode::kNoInput);
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyError(what + " " + path.string() + " has mode " + mode +
                   "; group and others must have no access (chmod 600)");
  }
}

}  // namespace strata::core
