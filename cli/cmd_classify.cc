// videoprism classify: zero-shot classification of videos against text labels.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "run_flags.h"
#include "videoprism/core/json_output.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "progress_bar.h"
#include "videoprism/media/tokenizer.h"
#include "videoprism/apps/zero_shot.h"

namespace videoprism::cli {
namespace {

struct ClassifyArgs {
  std::string checkpoint, preset, tokenizer, labels, labels_file, templates = "simple", dtype = "auto",
                                                                  device = "cpu";
  std::vector<std::string> videos;
  int k = 5, frames = 0, size = 0, batch = 1, threads = 0;
  double temperature = 0.01;
  bool json = false;
  const CLI::Option *frames_option = nullptr, *size_option = nullptr;
};

int run_classify(const ClassifyArgs& args) {
  check(args.labels.empty() != args.labels_file.empty(), "classify: give --labels or --labels-file");
  // A temperature of 0 (or less, or NaN) divides the similarities into
  // infinities: probabilities would print as -nan.
  check(std::isfinite(args.temperature) && args.temperature > 0, "classify: --temperature: expected a finite value > 0, got ",
        args.temperature);
  check_range("classify: --top", args.k, 1, 1000000);
  check_range("classify: --batch", args.batch, 1, kMaxBatch);
  check_threads("classify: --threads", args.threads);
  const int frames_given = given_or(args.frames_option, args.frames, 1, kMaxClipFrames, 0);
  const int size_given = given_or(args.size_option, args.size, 1, kMaxClipSize, 0);
  const std::vector<std::string> labels =
      args.labels.empty() ? read_labels_file(args.labels_file) : split_labels(args.labels);
  const std::vector<std::string> templates = prompt_templates(args.templates);
  ModelConfig config = resolve_model_config(args.preset, args.checkpoint);
  const Preset* preset = match_preset(config);
  RunOptions run;
  run.device = parse_device(args.device);
  run.dtype = dtype_flag(args.dtype, run.device);
  run.threads = args.threads;
  run.frame_embeddings = false;
  apply_run_options(run);
  Model model = Model::load(args.checkpoint, &config);
  model.prepare_for_inference(run);
  Tokenizer tokenizer(args.tokenizer);
  torch::Tensor classes = class_embeddings(model, tokenizer, labels, templates, run);  // [C, D]

  EmbedOptions options;
  options.clip.num_frames = frames_given > 0 ? frames_given : (preset ? preset->default_num_frames : 16);
  options.clip.size = size_given > 0 ? size_given : (preset ? preset->default_image_size : 288);
  options.batch = args.batch;
  VideoEmbedder embedder(model, run, options);
  Progress bar("classify", static_cast<int64_t>(args.videos.size()), "videos");
  EmbedStats stats = embedder.run(
      args.videos,
      [&](const VideoEmbedding& v) {
        torch::Tensor video = v.embeddings[0].unsqueeze(0);                                // [1, D]
        torch::Tensor similarity = torch::matmul(video, classes.t())[0];                   // [C]
        torch::Tensor probs = zero_shot_probabilities(video, classes, args.temperature)[0];  // [C]
        auto top = top_k(probs, similarity, labels, args.k);
        bar.clear_line();
        if (args.json) {
          nlohmann::json line;
          put_path(line, "path", v.path);  // adds path_hex for a name that is not UTF-8
          for (const auto& s : top)
            line["top"].push_back({{"label", s.label}, {"probability", s.probability}, {"similarity", s.similarity}});
          for (size_t c = 0; c < labels.size(); ++c)
            line["probabilities"][labels[c]] = probs[static_cast<int64_t>(c)].item<double>();
          std::cout << line.dump(-1, ' ', false, videoprism::kJsonReplace) << std::endl;
        } else {
          std::cout << v.path << "\n";
          for (const auto& s : top) {
            char buf[64];
            std::snprintf(buf, sizeof(buf), "  %6.2f%%  (cos %+.3f)  ", 100.0 * s.probability, s.similarity);
            std::cout << buf << s.label << "\n";
          }
          std::cout.flush();
        }
        bar.advance();
      },
      [&](size_t, const std::string& path, const std::string& message) {
        bar.clear_line();
        std::cerr << "videoprism: classify: " << path << ": " << message << "\n";
        bar.advance();
      });
  bar.finish();
  return stats.failed > 0 ? 1 : 0;
}

VP_REGISTER_COMMAND("classify", "Zero-shot video classification against text labels", [](CLI::App& sub) {
  auto args = std::make_shared<ClassifyArgs>();
  sub.add_option("--checkpoint", args->checkpoint, "Video-text weights (.npz)")->required();
  sub.add_option("--model", args->preset, "Preset name (default: detected from the checkpoint)");
  sub.add_option("--tokenizer", args->tokenizer, "SentencePiece model")->required();
  auto* labels = sub.add_option("--labels", args->labels, "Comma-separated labels");
  sub.add_option("--labels-file", args->labels_file, "One label per line")->excludes(labels);
  sub.add_option("--templates", args->templates, "simple | kinetics | none (the bare label) | FILE (one template per line, {} = label)")
      ->capture_default_str();
  sub.add_option("-k,--top", args->k, "Labels shown per video")->capture_default_str();
  sub.add_option("--temperature", args->temperature, "Softmax temperature")->capture_default_str();
  sub.add_option("videos", args->videos, "Video files")->required();
  args->frames_option = sub.add_option("--frames", args->frames, "Frames per clip (default: the preset's, else 16)");
  args->size_option = sub.add_option("--size", args->size, "Frame size (default: the preset's, else 288)");
  sub.add_option("--batch", args->batch, "Clips per forward")->capture_default_str();
  sub.add_option("--dtype", args->dtype, kDtypeHelp)->capture_default_str();
  sub.add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_flag("--json", args->json, "One JSON object per video (top-k and all probabilities)");
  sub.footer(
      "Example:\n  videoprism classify --checkpoint flax_lvt_base_f16r288_repeated.npz --tokenizer c4_en.model \\\n"
      "    --labels \"playing guitar,riding a bike,cooking\" --templates kinetics -k 3 clip.mp4\n"
      "Probabilities: softmax over the labels of cosine similarity / temperature (0.01, as the\n"
      "official demo); with several templates the L2-normalized text embeddings are averaged.");
  return [args] { return run_classify(*args); };
});

}  // namespace
}  // namespace videoprism::cli
