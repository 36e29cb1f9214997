// Fuzz target: .npz archives (stored, deflated, zip64 members) and single .npy
// files, through NpzReader (every member's header, then its data) and load_npy.
#include <cstdint>

#include "fuzz_util.h"
#include "videoprism/npz.h"

using namespace videoprism;

namespace {
// Arrays the harness reads in full; larger ones are only listed (the reader
// itself must refuse a member whose declared size its file cannot hold).
constexpr int64_t kMaxReadBytes = int64_t(64) << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string npz = fuzz::write_input("input.npz", data, size);
  fuzz::expect_clean([&] {
    NpzReader reader(npz);
    for (const std::string& key : reader.keys()) {
      const NpyInfo& info = reader.info(key);
      int64_t numel = 1;
      for (int64_t d : info.shape) numel = d > 0 && numel <= kMaxReadBytes / d ? numel * d : (d == 0 ? 0 : kMaxReadBytes + 1);
      if (numel * 8 > kMaxReadBytes) continue;
      torch::Tensor t = reader.read(key);
      (void)t.numel();
    }
  });
  const std::string npy = fuzz::write_input("input.npy", data, size);
  fuzz::expect_clean([&] { (void)load_npy(npy).numel(); });
  return 0;
}
