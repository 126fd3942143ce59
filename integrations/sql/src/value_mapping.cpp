#include "value_mapping.h"

#include <cmath>
#include <limits>
#include <sstream>

#include <Poco/Base64Encoder.h>
#include <Poco/Data/Date.h>
#include <Poco/Data/LOB.h>
#include <Poco/Data/Time.h>
#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

namespace strata::integrations::sql {

namespace {

// Spelled out: a Var converts to anything, an optional<Var> included.
std::optional<Poco::Dynamic::Var> some(Poco::Dynamic::Var value) {
  return std::optional<Poco::Dynamic::Var>(std::in_place, std::move(value));
}

}  // namespace

std::optional<Poco::Dynamic::Var> bindValue(const Poco::Dynamic::Var& json) {
  if (json.isEmpty()) return some(Poco::Dynamic::Var());
  if (json.isBoolean()) return some(json.extract<bool>());
  if (json.isString()) return some(json.convert<std::string>());
  if (json.isInteger()) {
    if (json.isSigned()) return some(json.convert<Poco::Int64>());
    auto value = json.convert<Poco::UInt64>();
    if (value > static_cast<Poco::UInt64>(std::numeric_limits<Poco::Int64>::max())) return std::nullopt;
    return some(static_cast<Poco::Int64>(value));
  }
  if (json.isNumeric()) {
    double value = json.convert<double>();
    if (!std::isfinite(value)) return std::nullopt;
    return some(value);
  }
  return std::nullopt;
}

Poco::Dynamic::Var jsonValue(const Poco::Dynamic::Var& column) {
  if (column.isEmpty()) return {};
  const auto& type = column.type();
  if (type == typeid(bool)) return column;
  if (column.isInteger()) {
    if (column.isSigned()) return Poco::Dynamic::Var(column.convert<Poco::Int64>());
    auto value = column.convert<Poco::UInt64>();
    if (value <= static_cast<Poco::UInt64>(std::numeric_limits<Poco::Int64>::max())) {
      return Poco::Dynamic::Var(static_cast<Poco::Int64>(value));
    }
    return Poco::Dynamic::Var(std::to_string(value));  // beyond JSON's safe integers anyway
  }
  if (column.isNumeric()) {
    double value = column.convert<double>();
    return std::isfinite(value) ? Poco::Dynamic::Var(value) : Poco::Dynamic::Var(column.convert<std::string>());
  }
  if (type == typeid(std::string)) return column;
  if (type == typeid(Poco::Data::CLOB)) {
    const auto& lob = column.extract<Poco::Data::CLOB>();
    return Poco::Dynamic::Var(std::string(lob.rawContent(), lob.size()));
  }
  if (type == typeid(Poco::Data::BLOB)) {
    const auto& lob = column.extract<Poco::Data::BLOB>();
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder.write(reinterpret_cast<const char*>(lob.rawContent()), static_cast<std::streamsize>(lob.size()));
    encoder.close();
    return Poco::Dynamic::Var(out.str());
  }
  if (type == typeid(Poco::DateTime)) {
    return Poco::Dynamic::Var(
        Poco::DateTimeFormatter::format(column.extract<Poco::DateTime>(), Poco::DateTimeFormat::ISO8601_FRAC_FORMAT));
  }
  if (type == typeid(Poco::Data::Date)) {
    const auto& date = column.extract<Poco::Data::Date>();
    return Poco::Dynamic::Var(Poco::DateTimeFormatter::format(Poco::DateTime(date.year(), date.month(), date.day()),
                                                              "%Y-%m-%d"));
  }
  if (type == typeid(Poco::Data::Time)) {
    const auto& time = column.extract<Poco::Data::Time>();
    return Poco::Dynamic::Var(Poco::DateTimeFormatter::format(
        Poco::DateTime(1970, 1, 1, time.hour(), time.minute(), time.second()), "%H:%M:%S"));
  }
  return Poco::Dynamic::Var(column.convert<std::string>());
}

}  // namespace strata::integrations::sql
