// A small, valid video index (3 files, 5 windows of dimension 8) built
// through the VideoIndex API: the seed of the index fuzzers and the base the
// vector-cache fuzzer puts its input beside.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "videoprism/apps/video_index.h"

namespace videoprism::fuzz {

constexpr int kIndexDim = 8;

inline std::vector<float> unit_vector(int seed) {
  std::vector<float> v(kIndexDim);
  double norm = 0;
  for (int i = 0; i < kIndexDim; ++i) {
    v[i] = static_cast<float>(std::sin(1.7 * seed + 0.9 * i));
    norm += double(v[i]) * v[i];
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

// Fills DIR/index.sqlite (and DIR/vectors.faiss of the given type).
inline void make_index(const std::string& dir, const std::string& vector_type = "flat") {
  VideoIndex index(dir);
  index.set_meta({{"dim", std::to_string(kIndexDim)}, {"frames", "4"}, {"size", "32"}, {"windows", "2"},
                  {"vector_index", vector_type}, {"checkpoint", "/nonexistent/model.npz"},
                  {"checkpoint_fingerprint", "0:{}:0"}, {"model_config", "{\"kind\":\"FactorizedVideoCLIP\"}"}});
  int seed = 0;
  for (int f = 0; f < 3; ++f) {
    IndexedFile file;
    file.path = "/videos/clip" + std::to_string(f) + ".mp4";
    file.size = 1000 + f;
    file.mtime_ns = 1700000000000000000LL + f;
    file.duration_s = 2.0 + f;
    file.num_frames = 50 + f;
    const int windows = f == 1 ? 1 : 2;
    for (int w = 0; w < windows; ++w) {
      file.windows.emplace_back(w * 1.0, w * 1.0 + 1.0);
      const std::vector<float> v = unit_vector(seed++);
      file.embeddings.insert(file.embeddings.end(), v.begin(), v.end());
    }
    index.put_file(file);
  }
  index.build_vectors(vector_type);
}

}  // namespace videoprism::fuzz
