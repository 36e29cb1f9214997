// Registry of `videoprism train <stage>` sub-subcommands (stage1, later
// stage2, align, ...). Each cli/cmd_train_*.cc registers one with
// VP_REGISTER_TRAIN_COMMAND; cmd_train.cc builds `train` from the registry.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/error.h"

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

struct TrainCommandRegistrar {
  TrainCommandRegistrar(std::string name, std::string description, CommandSetup setup) {
    train_command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace videoprism::cli

#define VP_REGISTER_TRAIN_COMMAND(name, description, setup) \
  static ::videoprism::cli::TrainCommandRegistrar VP_CONCAT(vp_train_command_, __LINE__)(name, description, setup)
