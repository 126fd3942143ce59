#pragma once

#include <string>

#include <strata/core/curve_keys.h>

namespace strata::core::test {

// A fresh public key. About a third of them hold '#', a Z85 digit that authorized_keys
// files must not take for a comment, so tests get those keys too.
inline PublicKey freshKey() { return generateKeyPair().publicKey; }

}  // namespace strata::core::test
