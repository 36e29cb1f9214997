// Resource limits (include/videoprism/limits.h).
#include "videoprism/core/limits.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "videoprism/core/error.h"

namespace videoprism {

int max_threads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::max<unsigned>(256, 4 * cores));
}

void check_range(const std::string& what, int64_t value, int64_t lo, int64_t hi) {
  check(value >= lo && value <= hi, what, ": expected ", lo, "..", hi, ", got ", value);
}

void check_threads(const std::string& what, int64_t threads) {
  check(threads >= 0 && threads <= max_threads(), what, ": expected 0 (default) .. ", max_threads(),
        " threads, got ", threads);
}

uint64_t npz_max_member_bytes() {
  constexpr uint64_t kDefault = uint64_t{4} << 30;
  const char* env = std::getenv("VIDEOPRISM_NPZ_MAX_BYTES");
  if (env == nullptr || *env == '\0') return kDefault;
  const std::string text = env;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  uint64_t scale = 1;
  std::string suffix = end ? std::string(end) : std::string();
  if (suffix == "K" || suffix == "k") scale = uint64_t{1} << 10;
  else if (suffix == "M" || suffix == "m") scale = uint64_t{1} << 20;
  else if (suffix == "G" || suffix == "g") scale = uint64_t{1} << 30;
  else if (suffix == "T" || suffix == "t") scale = uint64_t{1} << 40;
  else check(suffix.empty(), "VIDEOPRISM_NPZ_MAX_BYTES: expected a byte count such as 1000000 or 8G, got '", text, "'");
  uint64_t bytes = 0;
  const bool ok = errno == 0 && end != text.c_str() && text[0] != '-' && value > 0 &&
                  !__builtin_mul_overflow(static_cast<uint64_t>(value), scale, &bytes);
  check(ok, "VIDEOPRISM_NPZ_MAX_BYTES: expected a positive byte count such as 1000000 or 8G, got '", text, "'");
  return bytes;
}

}  // namespace videoprism
