// JSON for output (stdout, .jsonl files) when strings may hold any bytes.
//
// Linux file names are bytes, not text: a name that is not valid UTF-8 would
// make nlohmann::json::dump() throw in the middle of a result. Output instead
// replaces each invalid byte by U+FFFD (dump with kJsonReplace), and where a
// path is written, put_path() adds "<key>_hex", the exact bytes in lowercase
// hex, so the file can still be found. docs/usage.md ("JSON output") says so.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace videoprism {

inline constexpr auto kJsonReplace = nlohmann::json::error_handler_t::replace;

// dump() that never throws on invalid UTF-8 (see above).
inline std::string dump_json(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, kJsonReplace);
}

// True when text is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(const std::string& text);

// object[key] = path; when path is not valid UTF-8 also object[key + "_hex"].
void put_path(nlohmann::json& object, const std::string& key, const std::string& path);

}  // namespace videoprism
