// Fuzz target: model config JSON files (`--config`), through load_config_file
// (parse, config_from_json, validate).
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "videoprism/core/config.h"

using namespace videoprism;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input("config.json", data, size);
  fuzz::expect_clean([&] {
    ModelConfig config = load_config_file(path);
    (void)config_to_json(config);
  });
  return 0;
}
