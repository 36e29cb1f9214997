// Loading VideoPrism-B holds one float32 copy of the weights: the peak RSS of
// a `forward` on a small clip stays well below two copies (2 x 457 MB). The
// oneDNN float32 path (the default) adds exactly one packed copy of the
// projection weights, and nothing else.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "test_util.h"
#include "videoprism/core/npz.h"

namespace videoprism {
namespace {

TEST(Memory, LoadingBaseHoldsOneCopyOfTheWeights) {
  testing::TempDir tmp;
  const std::string ckpt = tmp.file("b.npz"), in = tmp.file("in.npz"), out = tmp.file("out.npz");
  auto init = testing::run_command(testing::cli_path() + " init --model videoprism_public_v1_base --seed 1 --out " + ckpt);
  ASSERT_EQ(init.exit_code, 0) << init.output;
  const double weights_mb = std::filesystem::file_size(ckpt) / 1048576.0;
  // The projection weights oneDNN packs: the FFN kernels and attention's w arrays.
  double projection_mb = 0;
  for (const auto& [key, value] : load_npz(ckpt)) {
    const bool ffn = key.find("/ffn_layer") != std::string::npos && key.size() >= 7 &&
                     key.compare(key.size() - 7, 7, "/kernel") == 0;
    const bool attention = key.size() >= 2 && key.compare(key.size() - 2, 2, "/w") == 0;
    if (ffn || attention) projection_mb += value.numel() * 4 / 1048576.0;
  }
  save_npz(in, {{"inputs", torch::rand({1, 2, 36, 36, 3})}});

  // libtorch's BLAS first: RUSAGE_CHILDREN reports the largest child so far.
  auto forward = testing::run_command(testing::cli_path() + " forward --threads 1 --f32-gemm openblas --checkpoint " +
                                      ckpt + " --inputs " + in + " --out " + out);
  ASSERT_EQ(forward.exit_code, 0) << forward.output;
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  const double peak_mb = usage.ru_maxrss / 1024.0;
  std::cout << "[memory] VideoPrism-B weights " << weights_mb << " MB (projections " << projection_mb
            << " MB), peak RSS of load + forward " << peak_mb << " MB (openblas)\n";
  // One copy plus the libtorch runtime (~150 MB) and a tiny forward; a second
  // float32 copy would put the peak above 2 x weights.
  EXPECT_LT(peak_mb, weights_mb + 300.0);

  // oneDNN: the same plus one packed copy of the projections.
  forward = testing::run_command(testing::cli_path() + " forward --threads 1 --f32-gemm onednn --checkpoint " + ckpt +
                                 " --inputs " + in + " --out " + out);
  ASSERT_EQ(forward.exit_code, 0) << forward.output;
  getrusage(RUSAGE_CHILDREN, &usage);
  const double peak_onednn_mb = usage.ru_maxrss / 1024.0;
  std::cout << "[memory] peak RSS of load + forward " << peak_onednn_mb << " MB (onednn, packed weights)\n";
  EXPECT_LT(peak_onednn_mb, weights_mb + projection_mb + 300.0);
}

}  // namespace
}  // namespace videoprism
