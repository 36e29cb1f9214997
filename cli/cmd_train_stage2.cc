// videoprism train stage2: masked video modeling with global-local
// distillation from a stage-1 teacher (library: videoprism/train/stage2.h).
// Options override the JSON config; with --resume the run directory's
// recorded config is the base.
#include <filesystem>
#include <iostream>

#include "train_command.h"
#include "videoprism/train/manifest.h"
#include "videoprism/train/stage2.h"

namespace videoprism::cli {
namespace {

struct Stage2Args {
  std::string teacher, data, out, config, mask;
  bool resume = false, no_shuffle = false, no_global = false, no_local = false;
  double mask_ratio = -1;
  TrainRunFlags run;  // --dtype --device --steps --batch-size --checkpoint-every --stop-at --threads
};

int run_stage2(const Stage2Args& args) {
  using namespace videoprism::train;
  Stage2Config config;
  const std::string recorded = (std::filesystem::path(args.out) / "config.json").string();
  if (args.resume && std::filesystem::exists(recorded)) config = stage2_config_from_json(read_json_file(recorded));
  if (!args.config.empty()) config = stage2_config_from_json(read_json_file(args.config), config);
  if (!args.teacher.empty()) config.teacher = args.teacher;
  if (!args.data.empty()) config.data = split_list(args.data);
  if (!args.mask.empty()) config.mask_kind = parse_mask_kind(args.mask);
  if (args.mask_ratio >= 0) config.mask_ratio = args.mask_ratio;
  if (args.no_shuffle) config.shuffle = false;
  if (args.no_global) config.global_loss = false;
  if (args.no_local) config.token_loss = false;
  args.run.apply(config);
  Stage2Trainer trainer(config, args.out, args.resume);
  std::vector<Stage2Step> steps = trainer.run();
  nlohmann::json summary = {{"out", args.out}, {"step", trainer.step()}, {"teacher_distance", trainer.teacher_distance()}};
  if (!steps.empty()) {
    summary["first_loss"] = steps.front().loss;
    summary["last_loss"] = steps.back().loss;
    summary["last_token_loss"] = steps.back().token_loss;
    summary["last_global_loss"] = steps.back().global_loss;
  }
  std::cout << summary.dump() << "\n";
  return 0;
}

VP_REGISTER_TRAIN_COMMAND("stage2", "Masked video modeling with global-local distillation from a stage-1 teacher",
                          [](CLI::App& sub) {
  auto args = std::make_shared<Stage2Args>();
  sub.add_option("--teacher", args->teacher, "Stage-1 run directory or checkpoint (.npz)");
  sub.add_option("--data", args->data, "Manifest(s) MANIFEST.jsonl[,MANIFEST2...] (captions ignored)");
  sub.add_option("--out", args->out, "Run directory (config, metrics, checkpoints)")->required();
  sub.add_option("--config", args->config, "Training config JSON (every option)");
  sub.add_flag("--resume", args->resume, "Continue from the run directory's latest checkpoint");
  sub.add_option("--mask", args->mask, "Mask kind: tube (dropped tokens) or block (BEVT, paddings)");
  sub.add_option("--mask-ratio", args->mask_ratio, "Fraction of tokens masked (default 0.65)");
  sub.add_flag("--no-shuffle", args->no_shuffle, "Ablation: no token shuffling in the token decoder");
  sub.add_flag("--no-global", args->no_global, "Ablation: token-wise distillation only");
  sub.add_flag("--no-local", args->no_local, "Ablation: global distillation only");
  args->run.add_to(sub);
  sub.footer(
      "Checkpoints hold the student as a bare FactorizedEncoder (model.npz, released layout).\n"
      "Distributed: one process per rank with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set.\n"
      "Example:\n  videoprism train stage2 --teacher runs/s1 --data clips.jsonl --out runs/s2");
  return [args] { return run_stage2(*args); };
});

}  // namespace
}  // namespace videoprism::cli
