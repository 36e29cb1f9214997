// videoprism train align: LiT-style zero-shot head for a stage-2 encoder.
// The stage-2 video encoder is frozen; the text tower, auxiliary layers and
// MAP pooler (initialized from stage 1) train contrastively with stage 1's
// loop. The run's checkpoints (and RUN_DIR/model.npz) are complete video-text
// models in the released LvT layout.
#include <filesystem>
#include <iostream>

#include "train_command.h"
#include "videoprism/core/model.h"
#include "videoprism/train/checkpoint.h"
#include "videoprism/train/manifest.h"
#include "videoprism/train/stage1.h"

namespace videoprism::cli {
namespace {

struct AlignArgs {
  std::string encoder, init, data, out, config, tokenizer;
  bool resume = false;
  TrainRunFlags run;  // --dtype --device --steps --batch-size --checkpoint-every --stop-at --threads
};

int run_align(const AlignArgs& args) {
  using namespace videoprism::train;
  Stage1Config config;
  config.token_drop = 0.0;  // the frozen encoder sees whole clips
  const std::string recorded = (std::filesystem::path(args.out) / "config.json").string();
  if (args.resume && std::filesystem::exists(recorded)) config = stage1_config_from_json(read_json_file(recorded));
  if (!args.config.empty()) config = stage1_config_from_json(read_json_file(args.config), config);
  if (!args.init.empty()) {
    config.init = resolve_model_checkpoint(args.init);
    config.model_preset.clear();
    config.model_config = detect_config(config.init);
  }
  if (!args.encoder.empty()) config.vision_encoder_init = resolve_model_checkpoint(args.encoder);
  config.freeze_vision_encoder = true;
  if (!args.data.empty()) config.data = split_list(args.data);
  if (!args.tokenizer.empty()) config.tokenizer = args.tokenizer;
  args.run.apply(config);
  check(!config.init.empty(), "align: give the stage-1 model (--init)");
  check(!config.vision_encoder_init.empty(), "align: give the stage-2 encoder (--encoder)");
  Stage1Trainer trainer(config, args.out, args.resume);
  std::vector<Stage1Step> steps = trainer.run();
  const std::string exported = (std::filesystem::path(args.out) / "model.npz").string();
  if (trainer.step() >= config.steps) trainer.model().save(exported);
  nlohmann::json summary = {{"out", args.out}, {"step", trainer.step()}, {"model", exported}};
  if (!steps.empty()) {
    summary["first_loss"] = steps.front().loss;
    summary["last_loss"] = steps.back().loss;
  }
  std::cout << summary.dump() << "\n";
  return 0;
}

VP_REGISTER_TRAIN_COMMAND("align", "LiT-style zero-shot head: text tower + pooler on a frozen stage-2 encoder",
                          [](CLI::App& sub) {
  auto args = std::make_shared<AlignArgs>();
  sub.add_option("--encoder", args->encoder, "Stage-2 run directory or encoder checkpoint (frozen)");
  sub.add_option("--init", args->init, "Stage-1 run directory or checkpoint (text tower, pooler, auxiliary layers)");
  sub.add_option("--data", args->data, "Captioned manifest(s) MANIFEST.jsonl[,...]");
  sub.add_option("--out", args->out, "Run directory; RUN_DIR/model.npz is the exported video-text model")->required();
  sub.add_option("--config", args->config, "Training config JSON (stage-1 keys)");
  sub.add_flag("--resume", args->resume, "Continue from the run directory's latest checkpoint");
  sub.add_option("--tokenizer", args->tokenizer, "SentencePiece .model");
  args->run.add_to(sub);
  sub.footer("Example:\n  videoprism train align --encoder runs/stage2 --init runs/stage1 --data world/stage1.jsonl \\\n    --tokenizer c4_en.model --out runs/align");
  return [args] { return run_align(*args); };
});

}  // namespace
}  // namespace videoprism::cli
