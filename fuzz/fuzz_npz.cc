// Fuzz target: .npz archives (stored, deflated, zip64 members) and single .npy
// files, through NpzReader (every member's header, then every array's data)
// and load_npy. The library's own size cap (VIDEOPRISM_NPZ_MAX_BYTES, set low
// here) must refuse what the file cannot back before anything is allocated or
// inflated; the harness reads every array the reader accepts.
#include <cstdint>
#include <cstdlib>

#include "fuzz_util.h"
#include "videoprism/core/npz.h"

using namespace videoprism;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("VIDEOPRISM_NPZ_MAX_BYTES", "64M", /*overwrite=*/0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string npz = fuzz::write_input("input.npz", data, size);
  fuzz::expect_clean([&] {
    NpzReader reader(npz);
    for (const std::string& key : reader.keys()) {
      (void)reader.info(key);
      torch::Tensor t = reader.read(key);
      (void)t.numel();
    }
  });
  const std::string npy = fuzz::write_input("input.npy", data, size);
  fuzz::expect_clean([&] { (void)load_npy(npy).numel(); });
  return 0;
}
