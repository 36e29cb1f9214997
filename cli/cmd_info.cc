// videoprism info: what a checkpoint holds (model, preset, arrays, parameters).
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism::cli {
namespace {

struct InfoArgs {
  std::string checkpoint;
  bool json = false;
  bool arrays = true;
};

int run_info(const InfoArgs& args) {
  NpzReader reader(args.checkpoint);
  ModelConfig config = detect_config(args.checkpoint);
  const Preset* preset = match_preset(config);
  int64_t total = 0;
  nlohmann::json arrays = nlohmann::json::array();
  for (const auto& key : reader.keys()) {
    const NpyInfo& info = reader.info(key);
    int64_t n = 1;
    for (auto d : info.shape) n *= d;
    total += n;
    arrays.push_back({{"key", key}, {"shape", info.shape}, {"dtype", info.descr}});
  }
  // The strict check: the detected model must own exactly these arrays.
  Model model(config);
  const bool exact = model.num_params() == total && model.named_arrays().size() == reader.keys().size();
  if (args.json) {
    nlohmann::json j{{"checkpoint", args.checkpoint},
                     {"kind", to_string(config.kind)},
                     {"preset", preset ? preset->name : ""},
                     {"config", config_to_json(config)},
                     {"num_arrays", reader.keys().size()},
                     {"num_params", total},
                     {"matches_model", exact}};
    if (args.arrays) j["arrays"] = arrays;
    std::cout << j.dump(1, ' ', false, videoprism::kJsonReplace) << "\n";
    return 0;
  }
  std::cout << "checkpoint: " << args.checkpoint << "\n"
            << "model:      " << to_string(config.kind) << "\n"
            << "preset:     " << (preset ? preset->name + (preset->hf_repo.empty() ? "" : " (" + preset->hf_repo + ")") : "none (custom config)") << "\n"
            << "config:     " << config_to_json(config).dump(-1, ' ', false, videoprism::kJsonReplace) << "\n"
            << "arrays:     " << reader.keys().size() << "\n"
            << "parameters: " << total << (exact ? "" : "  (does not match the detected model!)") << "\n";
  if (args.arrays) {
    for (const auto& a : arrays) {
      std::cout << "  " << a["key"].get<std::string>() << "  " << a["dtype"].get<std::string>() << " "
                << a["shape"].dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
    }
  }
  return 0;
}

VP_REGISTER_COMMAND("info", "Describe a checkpoint: detected model, preset, arrays, parameter count", [](CLI::App& sub) {
  auto args = std::make_shared<InfoArgs>();
  sub.add_option("checkpoint", args->checkpoint, "Checkpoint .npz")->required();
  sub.add_flag("--json", args->json, "Machine-readable output");
  sub.add_flag("!--no-arrays", args->arrays, "Omit the per-array listing");
  sub.footer("Example:\n  videoprism info flax_lvt_base_f16r288_repeated.npz --no-arrays");
  return [args] { return run_info(*args); };
});

}  // namespace
}  // namespace videoprism::cli
