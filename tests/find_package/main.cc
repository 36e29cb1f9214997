// Forward of a golden fixture through the installed library: loads the
// case's config and weights, runs the model on its inputs and compares every
// reference output (max |ours - reference| <= 1e-4, the fixtures' tolerance).
//   consumer GOLDEN_CASE_DIR
#include <cstdio>
#include <string>

#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer GOLDEN_CASE_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  try {
    const videoprism::ModelConfig config = videoprism::load_config_file(dir + "/case.json");
    videoprism::Model model = videoprism::Model::load(dir + "/params.npz", &config);
    const auto io = videoprism::load_npz(dir + "/io.npz");
    videoprism::TensorMap inputs;
    for (const char* name : {"inputs", "frame_paddings", "text_token_ids", "text_paddings"})
      if (io.count(name)) inputs[name] = io.at(name);
    const videoprism::TensorMap outputs = model.forward(inputs);
    int compared = 0;
    double worst = 0;
    for (const auto& [name, got] : outputs) {
      if (!io.count(name)) continue;
      const double diff = (got - io.at(name)).abs().max().item<double>();
      std::printf("%s: max|ours-ref| = %.3g\n", name.c_str(), diff);
      worst = std::max(worst, diff);
      ++compared;
    }
    if (compared == 0 || worst > 1e-4) {
      std::fprintf(stderr, "consumer: %d outputs compared, worst %.3g (expected > 0 outputs, <= 1e-4)\n", compared,
                   worst);
      return 1;
    }
    std::printf("consumer: %d outputs within 1e-4 of the reference\n", compared);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
