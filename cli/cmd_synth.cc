// videoprism synth: a captioned Fashion-MNIST motion corpus (videos + manifests)
// for small-scale training and frozen-backbone evaluation.
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/apps/synth.h"

namespace videoprism::cli {
namespace {

int run_synth(const eval::SynthCorpusOptions& options) {
  const auto stats = eval::write_synth_corpus(options);
  std::cout << nlohmann::json{{"out", options.out_dir},
                              {"train_videos", stats.train_videos},
                              {"test_videos", stats.test_videos},
                              {"retrieval_videos", stats.retrieval_videos},
                              {"seconds", stats.seconds}}
                   .dump(-1, ' ', false, videoprism::kJsonReplace)
            << "\n";
  return 0;
}

std::function<int()> setup_synth(CLI::App& sub) {
  auto options = std::make_shared<eval::SynthCorpusOptions>();
  sub.add_option("--out", options->out_dir, "Output folder")->required();
  sub.add_option("--videos", options->train_videos, "Training videos")->capture_default_str();
  sub.add_option("--test-videos", options->test_videos, "Test videos (0: half of --videos)")->capture_default_str();
  sub.add_option("--seed", options->seed, "Random seed (the test split derives its own)")->capture_default_str();
  sub.add_option("--frames", options->video.num_frames, "Frames per video")->capture_default_str();
  sub.add_option("--size", options->video.size, "Canvas size in pixels")->capture_default_str();
  options->mnist_dir = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist
  sub.add_option("--mnist", options->mnist_dir, "Fashion-MNIST IDX folder")->capture_default_str();
  sub.add_option("--motion-captions", options->motion_captions, "Share of stage 1 captions with motion words")
      ->capture_default_str();
  sub.add_option("--noisy-captions", options->noisy_captions, "Share of wrong or generic captions")->capture_default_str();
  sub.footer(
      "Writes train/*.mkv, test/*.mkv (FFV1), stage1.jsonl {video,caption}, stage2.jsonl {video},\n"
      "eval_train.jsonl / eval_test.jsonl {video,class,direction,arrow,speed,*_name}, retrieval.jsonl\n"
      "(unique captions). Example:\n  videoprism synth --out world --videos 400 --seed 1 --frames 16 --size 64");
  return [options] { return run_synth(*options); };
}

VP_REGISTER_COMMAND("synth", "Write a synthetic Fashion-MNIST motion corpus with manifests", setup_synth);

}  // namespace
}  // namespace videoprism::cli
