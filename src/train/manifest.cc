#include "videoprism/train/manifest.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "videoprism/core/error.h"

namespace videoprism::train {

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(separator, begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) parts.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

Manifest read_manifest(const std::string& path) {
  std::ifstream in(path);
  check(in.good(), "manifest ", path, ": cannot open");
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(path).parent_path();
  Manifest manifest;
  manifest.path = path;
  std::string text;
  int64_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail(where, "not valid JSON (", e.what(), ")");
    }
    check(j.is_object(), where, "expected a JSON object");
    check(j.contains("video") && j["video"].is_string() && !j["video"].get<std::string>().empty(), where,
          "expected a non-empty string \"video\"");
    // Video-only data (stage 2) may leave the caption out.
    check(!j.contains("caption") || j["caption"].is_string(), where, "expected a string \"caption\"");
    ManifestItem item;
    fs::path video = j["video"].get<std::string>();
    item.video = video.is_absolute() || folder.empty() ? video.string() : (folder / video).string();
    if (j.contains("caption")) item.caption = j["caption"].get<std::string>();
    for (const char* key : {"start", "end"}) {
      if (!j.contains(key) || j[key].is_null()) continue;
      // Bounded so that seconds * fps stays far inside int64 when it becomes a frame index.
      check(j[key].is_number() && j[key].get<double>() >= 0 && j[key].get<double>() <= 1e9, where, "\"", key,
            "\" must be seconds in [0, 1e9], got ", j[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      (std::string(key) == "start" ? item.start_s : item.end_s) = j[key].get<double>();
    }
    check(item.end_s < 0 || item.end_s > std::max(0.0, item.start_s), where, "\"end\" must be after \"start\"");
    item.line = line;
    manifest.items.push_back(std::move(item));
  }
  check(!manifest.items.empty(), "manifest ", path, ": no items");
  return manifest;
}

}  // namespace videoprism::train
