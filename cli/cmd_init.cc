// videoprism init: write a randomly initialized checkpoint in the released
// layout, from a preset or a config file (tiny models for tests and demos,
// or a from-scratch starting point for training).
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"

namespace videoprism::cli {
namespace {

struct InitArgs {
  std::string config_path, preset, out;
  uint64_t seed = 0;
};

int run_init(const InitArgs& args) {
  check(!args.config_path.empty() || !args.preset.empty(), "init: give --config or --model");
  ModelConfig config = resolve_model_config(args.config_path.empty() ? args.preset : args.config_path);
  Model model(config);
  model.init_random(args.seed);
  model.save(args.out);
  std::cout << nlohmann::json{{"out", args.out},
                              {"kind", to_string(config.kind)},
                              {"num_params", model.num_params()},
                              {"num_arrays", model.named_arrays().size()},
                              {"config", config_to_json(config)}}
                   .dump(-1, ' ', false, videoprism::kJsonReplace)
            << "\n";
  return 0;
}

VP_REGISTER_COMMAND("init", "Write a randomly initialized checkpoint (released .npz layout)", [](CLI::App& sub) {
  auto args = std::make_shared<InitArgs>();
  auto* config = sub.add_option("--config", args->config_path, "Model config JSON");
  sub.add_option("--model", args->preset, "Preset name or Hugging Face id")->excludes(config);
  sub.add_option("--out", args->out, "Output .npz")->required();
  sub.add_option("--seed", args->seed, "Random seed")->capture_default_str();
  sub.footer("Example:\n  videoprism init --config ../shared/golden/clip_tiny/case.json --seed 1 --out tiny_lvt.npz");
  return [args] { return run_init(*args); };
});

}  // namespace
}  // namespace videoprism::cli
