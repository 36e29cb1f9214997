// Registry of `videoprism train <stage>` sub-subcommands (stage1, later
// stage2, align, ...). Each cli/cmd_train_*.cc registers one with
// VP_REGISTER_TRAIN_COMMAND; cmd_train.cc builds `train` from the registry.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/error.h"

namespace videoprism::cli {

std::vector<CommandInfo>& train_command_registry();

// A --config file (shared by the train sub-subcommands).
inline nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  check(in.good(), "cannot open ", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": ", e.what());
  }
}

// The run flags every train sub-subcommand takes; they override the config.
struct TrainRunFlags {
  std::string dtype, device;
  int64_t steps = 0, batch_size = 0, stop_at = 0, checkpoint_every = 0;
  int threads = 0;

  const CLI::Option *steps_option = nullptr, *batch_option = nullptr, *every_option = nullptr,
                    *stop_option = nullptr, *threads_option = nullptr;

  void add_to(CLI::App& sub) {
    sub.add_option("--dtype", dtype, "Activations: bf16 or f32");
    sub.add_option("--device", device, "Train on cpu (default), cuda or cuda:N");
    steps_option = sub.add_option("--steps", steps, "Total optimizer steps");
    batch_option = sub.add_option("--batch-size", batch_size, "Global batch (clips per step over all processes)");
    every_option = sub.add_option("--checkpoint-every", checkpoint_every, "Steps between checkpoints");
    stop_option = sub.add_option("--stop-at", stop_at, "Stop after this step (checkpointed), as if interrupted");
    threads_option = sub.add_option("--threads", threads, "Intra-op threads");
  }

  // Stage1Config / Stage2Config: the given flags replace the config's values
  // (a given value must be in range: "--steps 0" is an error, not "keep").
  template <typename Config>
  void apply(Config& config) const {
    auto given = [](const CLI::Option* option) { return option != nullptr && option->count() > 0; };
    if (!dtype.empty()) config.dtype = dtype;
    if (!device.empty()) config.device = device;
    if (given(steps_option)) check_range("--steps", steps, 1, int64_t{1} << 40), config.steps = steps;
    if (given(batch_option)) check_range("--batch-size", batch_size, 1, int64_t{1} << 20), config.batch_size = batch_size;
    if (given(every_option))
      check_range("--checkpoint-every", checkpoint_every, 1, int64_t{1} << 40), config.checkpoint_every = checkpoint_every;
    if (given(threads_option)) check_threads("--threads", threads), config.threads = threads;
    if (given(stop_option)) check_range("--stop-at", stop_at, 0, int64_t{1} << 40);
    config.stop_at = stop_at;
  }
};

struct TrainCommandRegistrar {
  TrainCommandRegistrar(std::string name, std::string description, CommandSetup setup) {
    train_command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace videoprism::cli

#define VP_REGISTER_TRAIN_COMMAND(name, description, setup) \
  static ::videoprism::cli::TrainCommandRegistrar VP_CONCAT(vp_train_command_, __LINE__)(name, description, setup)
