// Fuzz target: both manifest kinds (JSON Lines): the video-text manifests of
// training (train::read_manifest) and the labelled manifests of evaluation
// (eval::read_labelled_manifest, with and without a task).
#include <cstdint>

#include "fuzz_util.h"
#include "videoprism/apps/features.h"
#include "videoprism/train/manifest.h"

using namespace videoprism;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input("manifest.jsonl", data, size);
  fuzz::expect_clean([&] { (void)train::read_manifest(path); });
  fuzz::expect_clean([&] { (void)eval::read_labelled_manifest(path, "class"); });
  fuzz::expect_clean([&] { (void)eval::read_labelled_manifest(path, ""); });
  return 0;
}
