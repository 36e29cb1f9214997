// Typed reads of JSON values from configs and manifests, range-checked.
//
// nlohmann's get<int>() converts whatever number it finds: 4294967344 became
// 48 and 1e9 went through a float-to-int cast (undefined behaviour). Every
// config reader goes through json_value<T>() instead: an integer field takes
// a JSON integer (or an integral float) that fits T, a floating-point field a
// finite number, and anything else is an error naming the key, the expected
// type and range, and the value that came.
#pragma once

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "videoprism/core/error.h"

namespace videoprism {

template <typename T>
T json_value(const nlohmann::json& value, const std::string& where) {
  if constexpr (std::is_same_v<T, bool>) {
    check(value.is_boolean(), where, ": expected true or false, got ", value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    const long double lo = static_cast<long double>(std::numeric_limits<T>::min());
    const long double hi = static_cast<long double>(std::numeric_limits<T>::max());
    auto bad = [&] {
      fail(where, ": expected an integer in [", std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(),
           "], got ", value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    };
    if (value.is_number_unsigned()) {
      const uint64_t u = value.get<uint64_t>();
      if (static_cast<long double>(u) > hi) bad();
      return static_cast<T>(u);
    }
    if (value.is_number_integer()) {
      const int64_t v = value.get<int64_t>();
      if (static_cast<long double>(v) < lo || static_cast<long double>(v) > hi) bad();
      return static_cast<T>(v);
    }
    if (value.is_number_float()) {
      const double d = value.get<double>();
      if (!std::isfinite(d) || d != std::floor(d) || static_cast<long double>(d) < lo ||
          static_cast<long double>(d) > hi)
        bad();
      return static_cast<T>(d);
    }
    bad();
    return T{};  // not reached: bad() throws
  } else if constexpr (std::is_floating_point_v<T>) {
    check(value.is_number(), where, ": expected a number, got ",
          value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    const double d = value.get<double>();
    check(std::isfinite(d) && std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max()), where,
          ": expected a finite number, got ", value.dump());
    return static_cast<T>(d);
  } else {
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception& e) {
      fail(where, ": ", e.what());
    }
  }
}

}  // namespace videoprism
