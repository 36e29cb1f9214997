// Registry of CLI subcommands. Each cli/cmd_*.cc file registers one command
// with VP_REGISTER_COMMAND; main.cc builds the CLI11 app from the registry.
#pragma once

#include <CLI/CLI.hpp>

#include "videoprism/core/limits.h"

#include <functional>
#include <string>
#include <vector>

namespace videoprism::cli {

// Adds the subcommand's options to `sub` and returns the function that runs it
// (after parsing) and returns the process exit code.
using CommandSetup = std::function<std::function<int()>(CLI::App& sub)>;

struct CommandInfo {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandInfo>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

// An option whose default is decided later (e.g. the preset's frame count):
// `fallback` when it was not given, else its value, which must lie in
// [lo, hi] ("--frames 0" is an error, not "use the default").
inline int given_or(const CLI::Option* option, int value, int lo, int hi, int fallback) {
  if (option == nullptr || option->count() == 0) return fallback;
  check_range(option->get_name(), value, lo, hi);
  return value;
}

}  // namespace videoprism::cli

#define VP_CONCAT_INNER(a, b) a##b
#define VP_CONCAT(a, b) VP_CONCAT_INNER(a, b)
#define VP_REGISTER_COMMAND(name, description, setup) \
  static ::videoprism::cli::CommandRegistrar VP_CONCAT(vp_command_, __LINE__)(name, description, setup)
