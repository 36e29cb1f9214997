// Fuzz target: the training configs (`train stage1|stage2|align --config`),
// parsed as the CLI reads them and mapped by stage1_config_from_json and
// stage2_config_from_json, then validated.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "videoprism/train/stage1.h"
#include "videoprism/train/stage2.h"

using namespace videoprism;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A file path inside the config ("model_config": "...") must not make the
  // harness read a device that never ends.
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("/dev/") != std::string::npos || text.find("/proc/") != std::string::npos) return 0;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // the CLI's read_json_file reports this
  fuzz::expect_clean([&] {
    train::Stage1Config c = train::stage1_config_from_json(j);
    c.validate();
    (void)train::to_json(c);
  });
  fuzz::expect_clean([&] {
    train::Stage2Config c = train::stage2_config_from_json(j);
    c.validate();
    (void)train::to_json(c);
  });
  return 0;
}
