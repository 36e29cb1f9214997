// serve_bench_index: a synthetic index for bench/serve/serve_load.sh. F files
// (symlinks to one real clip, so thumbnails decode real frames) x K windows of
// random unit vectors, written through the VideoIndex API and recorded with a
// real checkpoint and tokenizer, so `videoprism serve` loads its text tower.
//   serve_bench_index --checkpoint base.npz --tokenizer spm.model --clip clip.mp4 \
//                     --out DIR --files 1000 --windows 10
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "videoprism/core/config.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"
#include "videoprism/core/model.h"
#include "videoprism/apps/video_index.h"
#include "videoprism/media/video_reader.h"

namespace fs = std::filesystem;
using namespace videoprism;

int main(int argc, char** argv) {
  std::string checkpoint, tokenizer, clip, out;
  int files = 1000, windows = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--checkpoint") checkpoint = value;
    else if (key == "--tokenizer") tokenizer = value;
    else if (key == "--clip") clip = value;
    else if (key == "--out") out = value;
    else if (key == "--files") files = std::stoi(value);
    else if (key == "--windows") windows = std::stoi(value);
    else {
      std::cerr << "serve_bench_index: unknown option '" << key << "'\n";
      return 2;
    }
  }
  try {
    check(!checkpoint.empty() && !tokenizer.empty() && !clip.empty() && !out.empty(),
          "serve_bench_index: --checkpoint, --tokenizer, --clip and --out are required");
    check(files > 0 && windows > 0, "serve_bench_index: --files and --windows expected > 0");
    checkpoint = fs::weakly_canonical(fs::absolute(checkpoint)).string();
    clip = fs::weakly_canonical(fs::absolute(clip)).string();
    const ModelConfig config = detect_config(checkpoint);
    const int dim = config.encoder.model_dim;
    const VideoInfo info = probe_video(clip);
    fs::create_directories(out + "/clips");
    VideoIndex index(out);
    index.set_meta({{"checkpoint", checkpoint},
                    {"checkpoint_fingerprint", checkpoint_fingerprint(checkpoint)},
                    {"model_config", config_to_json(config).dump()},
                    {"model", to_string(config.kind)},
                    {"tokenizer", fs::weakly_canonical(fs::absolute(tokenizer)).string()},
                    {"frames", "16"},
                    {"size", "288"},
                    {"windows", std::to_string(windows)},
                    {"dim", std::to_string(dim)},
                    {"vector_index", "flat"}});
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal;
    const auto st = fs::status(clip);
    (void)st;
    for (int f = 0; f < files; ++f) {
      const std::string link = fs::absolute(out + "/clips/clip" + std::to_string(f) + fs::path(clip).extension().string());
      if (!fs::exists(link)) fs::create_symlink(clip, link);
      IndexedFile file;
      file.path = link;
      file.size = static_cast<int64_t>(fs::file_size(clip));
      file.mtime_ns = 0;
      file.duration_s = info.duration_s;
      file.num_frames = info.num_frames;
      for (int k = 0; k < windows; ++k) {
        file.windows.emplace_back(info.duration_s * k / windows, info.duration_s * (k + 1) / windows);
        std::vector<float> v(static_cast<size_t>(dim));
        double norm = 0;
        for (auto& x : v) x = normal(rng), norm += double(x) * x;
        for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
        file.embeddings.insert(file.embeddings.end(), v.begin(), v.end());
      }
      index.put_file(file);
    }
    index.build_vectors("flat");
    std::cout << nlohmann::json{{"db", out}, {"files", index.num_files()}, {"windows", index.num_vectors()},
                                {"dim", dim}}
                     .dump()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "serve_bench_index: " << e.what() << "\n";
    return 1;
  }
}
