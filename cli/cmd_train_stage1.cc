// videoprism train stage1: video-text contrastive pre-training (library:
// videoprism/train/stage1.h). Options override the JSON config; with
// --resume the run directory's recorded config is the base.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "train_command.h"
#include "videoprism/core/error.h"
#include "videoprism/train/manifest.h"
#include "videoprism/train/stage1.h"

namespace videoprism::cli {
namespace {

struct Stage1Args {
  std::string data, out, config, init, model, tokenizer;
  bool resume = false;
  TrainRunFlags run;  // --dtype --device --steps --batch-size --checkpoint-every --stop-at --threads
};

int run_stage1(const Stage1Args& args) {
  using namespace videoprism::train;
  Stage1Config config;
  const std::string recorded = (std::filesystem::path(args.out) / "config.json").string();
  if (args.resume && std::filesystem::exists(recorded)) config = stage1_config_from_json(read_json_file(recorded));
  if (!args.config.empty()) config = stage1_config_from_json(read_json_file(args.config), config);
  if (!args.data.empty()) config.data = split_list(args.data);
  if (!args.init.empty()) config.init = args.init;
  if (!args.model.empty()) {
    if (std::filesystem::exists(args.model)) {
      config.model_preset.clear();
      config.model_config = load_config_file(args.model);
    } else {
      config.model_preset = args.model;
    }
  }
  if (!args.tokenizer.empty()) config.tokenizer = args.tokenizer;
  args.run.apply(config);
  Stage1Trainer trainer(config, args.out, args.resume);
  std::vector<Stage1Step> steps = trainer.run();
  nlohmann::json summary = {{"out", args.out}, {"step", trainer.step()}, {"skipped_items", trainer.skipped_items()}};
  if (!steps.empty()) {
    summary["first_loss"] = steps.front().loss;
    summary["last_loss"] = steps.back().loss;
    double rate = 0;
    for (const auto& s : steps) rate += s.clips_per_s;
    summary["mean_clips_per_s"] = rate / double(steps.size());
  }
  std::cout << summary.dump() << "\n";
  return 0;
}

VP_REGISTER_TRAIN_COMMAND("stage1", "Video-text contrastive pre-training (symmetric InfoNCE)", [](CLI::App& sub) {
  auto args = std::make_shared<Stage1Args>();
  sub.add_option("--data", args->data, "Manifest(s) MANIFEST.jsonl[,MANIFEST2...]; batches alternate");
  sub.add_option("--out", args->out, "Run directory (config, metrics, checkpoints)")->required();
  sub.add_option("--config", args->config, "Training config JSON (every option)");
  sub.add_option("--init", args->init, "Start from this checkpoint (.npz)");
  sub.add_flag("--resume", args->resume, "Continue from the run directory's latest checkpoint");
  sub.add_option("--model", args->model, "Preset name or model config JSON");
  sub.add_option("--tokenizer", args->tokenizer, "SentencePiece .model");
  args->run.add_to(sub);
  sub.footer(
      "Distributed: launch one process per rank with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set.\n"
      "Example:\n  videoprism train stage1 --data clips.jsonl --out runs/s1 --config train.json");
  return [args] { return run_stage1(*args); };
});

}  // namespace
}  // namespace videoprism::cli
