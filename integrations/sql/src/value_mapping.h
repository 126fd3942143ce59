#pragma once

#include <optional>
#include <string>

#include <Poco/Dynamic/Var.h>

namespace strata::integrations::sql {

// The value to bind for a JSON parameter value, or nullopt when JSON has no SQL form for
// it (an object, an array, an integer beyond 64 bits, a non-finite number). JSON null
// binds SQL NULL (an empty Var), a string TEXT, an integer a 64-bit integer, a fraction a
// double, a boolean a boolean.
std::optional<Poco::Dynamic::Var> bindValue(const Poco::Dynamic::Var& json);

// The JSON value for a column value as Poco::Data extracted it: NULL -> null, integers ->
// numbers, floating point -> numbers, booleans, text -> strings, bytes (BLOB, bytea) ->
// base64 strings, dates and times -> ISO 8601 strings.
Poco::Dynamic::Var jsonValue(const Poco::Dynamic::Var& column);

}  // namespace strata::integrations::sql
