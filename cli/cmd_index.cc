// videoprism index: build or update a searchable video index (SQLite + FAISS).
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "run_flags.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"
#include "videoprism/core/model.h"

namespace videoprism::cli {
namespace {

struct IndexArgs {
  IndexBuildOptions build;
  std::string db, dir, list;
  bool json = false;
  const CLI::Option *frames_option = nullptr, *size_option = nullptr;
};

int run_index(IndexArgs args) {
  check(args.dir.empty() != args.list.empty(), "index: give a VIDEO_DIR or --list FILE");
  // Validated before anything is read or written (0 below: the preset's).
  args.build.frames = given_or(args.frames_option, args.build.frames, 1, kMaxClipFrames, 0);
  args.build.size = given_or(args.size_option, args.build.size, 1, kMaxClipSize, 0);
  check_threads("index: --threads", args.build.threads);
  dtype_flag(args.build.dtype, parse_device(args.build.device));  // validates; warns on emulated bf16
  std::vector<std::string> paths = args.dir.empty() ? read_path_list(args.list) : list_videos(args.dir);
  IndexBuildReport report = build_index(args.db, paths, args.build, [](const std::string& path, const std::string& message) {
    std::cerr << "videoprism: index: " << path << ": " << message << "\n";
  });
  nlohmann::json summary{{"db", args.db},         {"embedded", report.embedded}, {"skipped", report.skipped},
                         {"removed", report.removed}, {"failed", report.failed},   {"files", report.files},
                         {"vectors", report.vectors}, {"seconds", report.seconds},
                         {"clips", report.embed.clips}, {"embed_seconds", report.embed.wall_s},
                         {"model_seconds", report.embed.model_s}, {"wait_decode_seconds", report.embed.wait_decode_s},
                         {"clips_per_second", report.embed.wall_s > 0 ? report.embed.clips / report.embed.wall_s : 0.0}};
  if (args.json)
    std::cout << summary.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
  else
    std::cout << "index " << args.db << ": " << report.embedded << " embedded, " << report.skipped << " unchanged, "
              << report.removed << " removed, " << report.failed << " failed; " << report.files << " files, "
              << report.vectors << " vectors\n";
  return report.failed > 0 ? 1 : 0;
}

VP_REGISTER_COMMAND("index", "Build or update a searchable video index (SQLite + FAISS)", [](CLI::App& sub) {
  auto args = std::make_shared<IndexArgs>();
  IndexBuildOptions& b = args->build;
  sub.add_option("--checkpoint", b.checkpoint, "Video-text weights (.npz)")->required();
  sub.add_option("--model", b.preset, "Preset or config JSON (default: detected from the checkpoint)");
  sub.add_option("--tokenizer", b.tokenizer, "SentencePiece model, recorded for text search");
  sub.add_option("--db", args->db, "Index directory (created if missing)")->required();
  auto* dir = sub.add_option("dir", args->dir, "Directory of videos (searched recursively)");
  sub.add_option("--list", args->list, "File with one video path per line")->excludes(dir);
  args->frames_option = sub.add_option("--frames", b.frames, "Frames per clip (default: the preset's, else 16)");
  args->size_option = sub.add_option("--size", b.size, "Frame size in pixels (default: the preset's, else 288)");
  sub.add_option("--windows", b.windows, "Windows (time ranges) per video, one vector each")->capture_default_str();
  sub.add_option("--batch", b.batch, "Clips per forward")->capture_default_str();
  sub.add_option("--vector-index", b.vector_index, "flat (exact) | hnsw | ivf (large libraries)")
      ->capture_default_str();
  sub.add_option("--dtype", b.dtype, kDtypeHelp)->capture_default_str();
  sub.add_option("--device", b.device, "cpu or cuda")->capture_default_str();
  sub.add_option("--threads", b.threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_flag("--json", args->json, "Print a JSON summary: embedded, skipped, removed, failed, files, vectors");
  sub.footer(
      "Example:\n  videoprism index --checkpoint flax_lvt_base_f16r288_repeated.npz --tokenizer c4_en.model \\\n"
      "    --db ~/videos.vpdb --windows 4 ~/Videos\n"
      "Re-running updates the index: unchanged files are skipped, changed ones re-embedded, deleted\n"
      "ones removed. Each file commits on its own, so an interrupted build resumes where it stopped.");
  return [args] { return run_index(*args); };
});

}  // namespace
}  // namespace videoprism::cli
