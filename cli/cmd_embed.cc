// videoprism embed: video embeddings (one per window), optional tokens and
// frame embeddings, and text embeddings, to .npz or .jsonl.
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "run_flags.h"
#include "videoprism/core/json_output.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "progress_bar.h"
#include "videoprism/media/tokenizer.h"

namespace videoprism::cli {
namespace {

struct EmbedArgs {
  std::string checkpoint, preset, tokenizer, out, dtype = "auto", device = "cpu";
  std::vector<std::string> texts, videos;
  int frames = 0, size = 0, windows = 1, batch = 1, threads = 0;
  bool tokens = false, frame_embeddings = false, json = false;
  const CLI::Option *frames_option = nullptr, *size_option = nullptr;
};

int run_embed(const EmbedArgs& args) {
  check(!args.videos.empty() || !args.texts.empty(), "embed: give VIDEO files and/or --text");
  auto ends_with = [&](const std::string& suffix) {
    return args.out.size() >= suffix.size() && args.out.compare(args.out.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  check(ends_with(".npz") || ends_with(".jsonl") || ends_with(".json"), "embed: --out '", args.out,
        "': expected a .npz or .jsonl file");
  check_range("embed: --windows", args.windows, 1, kMaxWindows);
  check_range("embed: --batch", args.batch, 1, kMaxBatch);
  check_threads("embed: --threads", args.threads);
  const ModelConfig config = resolve_model_config(args.preset, args.checkpoint);
  const Preset* preset = match_preset(config);
  const int frames = given_or(args.frames_option, args.frames, 1, kMaxClipFrames, preset ? preset->default_num_frames : 16);
  const int size = given_or(args.size_option, args.size, 1, kMaxClipSize, preset ? preset->default_image_size : 288);
  RunOptions run;
  run.device = parse_device(args.device);
  run.dtype = dtype_flag(args.dtype, run.device);
  run.threads = args.threads;
  apply_run_options(run);
  Model model = Model::load(args.checkpoint, &config);
  model.prepare_for_inference(run);

  EmbedOptions options;
  options.clip.num_frames = frames;
  options.clip.size = size;
  options.clip.windows = args.windows;
  options.batch = args.batch;
  options.tokens = args.tokens;
  options.frame_embeddings = args.frame_embeddings;
  VideoEmbedder embedder(model, run, options);

  std::vector<VideoEmbedding> videos;
  EmbedStats stats;
  if (!args.videos.empty()) {
    Progress bar("embed", static_cast<int64_t>(args.videos.size()), "videos");
    stats = embedder.run(
        args.videos,
        [&](const VideoEmbedding& v) {
          videos.push_back(v);
          bar.advance();
        },
        [&](size_t, const std::string& path, const std::string& message) {
          bar.clear_line();
          std::cerr << "videoprism: embed: " << path << ": " << message << "\n";
          bar.advance();
        });
    bar.finish();
  }
  torch::Tensor text_embeddings;
  if (!args.texts.empty()) {
    check(!args.tokenizer.empty(), "embed: --text needs --tokenizer (the SentencePiece model)");
    Tokenizer tokenizer(args.tokenizer);
    text_embeddings = encode_texts(model, tokenizer, args.texts, run);
  }
  check(!videos.empty() || !args.texts.empty(), "embed: no video could be read; nothing written");
  save_embeddings(args.out, videos, args.texts, text_embeddings);

  nlohmann::json summary{{"out", args.out},
                         {"videos", videos.size()},
                         {"failed", stats.failed},
                         {"texts", args.texts.size()},
                         {"windows", options.clip.windows},
                         {"frames", options.clip.num_frames},
                         {"size", options.clip.size},
                         {"clips", stats.clips},
                         {"seconds", stats.wall_s},
                         {"model_seconds", stats.model_s},
                         {"decode_wait_seconds", stats.wait_decode_s},
                         {"clips_per_second", stats.wall_s > 0 ? stats.clips / stats.wall_s : 0.0}};
  if (args.json) {
    std::cout << summary.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
  } else {
    std::cout << "embedded " << videos.size() << " video(s) (" << stats.clips << " clips, "
              << summary["clips_per_second"].get<double>() << " clips/s), " << args.texts.size()
              << " text(s) -> " << args.out;
    if (stats.failed) std::cout << "; " << stats.failed << " failed";
    std::cout << "\n";
  }
  return stats.failed > 0 ? 1 : 0;
}

VP_REGISTER_COMMAND("embed", "Video (per window) and text embeddings to .npz or .jsonl", [](CLI::App& sub) {
  auto args = std::make_shared<EmbedArgs>();
  sub.add_option("--checkpoint", args->checkpoint, "Weights (.npz, released layout)")->required();
  sub.add_option("--model", args->preset, "Preset name (default: detected from the checkpoint)");
  sub.add_option("--tokenizer", args->tokenizer, "SentencePiece model (for --text)");
  sub.add_option("--text", args->texts, "A text to embed (repeatable: --text A --text B)")->allow_extra_args(false);
  sub.add_option("videos", args->videos, "Video files");
  sub.add_option("--out", args->out, "Output .npz or .jsonl")->required();
  args->frames_option = sub.add_option("--frames", args->frames, "Frames per clip (default: the preset's, else 16)");
  args->size_option = sub.add_option("--size", args->size, "Frame size in pixels (default: the preset's, else 288)");
  sub.add_option("--windows", args->windows, "K equal windows per video, one embedding each")->capture_default_str();
  sub.add_option("--batch", args->batch, "Clips per forward")->capture_default_str();
  sub.add_flag("--tokens", args->tokens, "Also write the spatiotemporal tokens [N,K,T*n,D] (.npz only)");
  sub.add_flag("--frame-embeddings", args->frame_embeddings, "Also write per-frame embeddings [N,K,T,D]");
  sub.add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  sub.add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_flag("--json", args->json, "Print a JSON summary");
  sub.footer(
      "Example:\n  videoprism embed --checkpoint flax_lvt_base_f16r288_repeated.npz --tokenizer c4_en.model \\\n"
      "    --text \"a dog catching a frisbee\" --windows 4 --batch 4 clip1.mp4 clip2.mp4 --out emb.npz\n"
      "Output (.npz): video_embeddings [N,K,D], window_times [N,K,2] (seconds), paths_utf8,\n"
      "  text_embeddings [M,D], texts_utf8; frame_embeddings / tokens on request.\n"
      "Unreadable videos are reported (one line each) and skipped; the exit code is then 1.");
  return [args] { return run_embed(*args); };
});

}  // namespace
}  // namespace videoprism::cli
