// Video-text manifests: JSON Lines, one clip per line:
//   {"video": "clips/a.mp4", "caption": "a dog runs", "start": 1.5, "end": 4.0}
// "caption" may be left out for video-only data (stage 2); "start"/"end" (seconds) are optional; relative video paths are resolved
// against the manifest's folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace videoprism::train {

struct ManifestItem {
  std::string video;       // absolute or manifest-relative path, resolved
  std::string caption;
  double start_s = -1.0;   // < 0: from the beginning
  double end_s = -1.0;     // < 0: to the end
  int64_t line = 0;        // 1-based line in the manifest (for messages)
};

struct Manifest {
  std::string path;
  std::vector<ManifestItem> items;
};

// Reads a manifest. Blank lines are skipped; a malformed line is an error
// naming "path:line" and what was wrong. An empty manifest is an error.
Manifest read_manifest(const std::string& path);

// "a.jsonl,b.jsonl" -> {"a.jsonl", "b.jsonl"}.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

}  // namespace videoprism::train
