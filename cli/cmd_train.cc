// videoprism train <stage>: pre-training and fine-tuning stages, each a
// sub-subcommand registered in train_command_registry().
#include <algorithm>
#include <memory>

#include "train_command.h"

namespace videoprism::cli {

std::vector<CommandInfo>& train_command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

namespace {

VP_REGISTER_COMMAND("train", "Pre-train: stage1 (video-text contrastive), stage2 (masked distillation), align (zero-shot head)", [](CLI::App& sub) {
  sub.require_subcommand(1);
  auto& registry = train_command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  auto chosen = std::make_shared<std::function<int()>>();
  for (auto& info : registry) {
    CLI::App* stage = sub.add_subcommand(info.name, info.description);
    auto runner = std::make_shared<std::function<int()>>(info.setup(*stage));
    stage->callback([runner, chosen] { *chosen = *runner; });
  }
  return [chosen] { return *chosen ? (*chosen)() : 1; };
});

}  // namespace
}  // namespace videoprism::cli
