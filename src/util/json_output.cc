// JSON output helpers (include/videoprism/json_output.h).
#include "videoprism/core/json_output.h"

namespace videoprism {

bool is_valid_utf8(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void put_path(nlohmann::json& object, const std::string& key, const std::string& path) {
  object[key] = path;
  if (is_valid_utf8(path)) return;
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : path) {
    hex.push_back(digits[c >> 4]);
    hex.push_back(digits[c & 15]);
  }
  object[key + "_hex"] = hex;
}

}  // namespace videoprism
