// Loading VideoPrism-B holds one float32 copy of the weights: the peak RSS of
// a `forward` on a small clip stays well below two copies (2 x 457 MB).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "test_util.h"
#include "videoprism/npz.h"

namespace videoprism {
namespace {

TEST(Memory, LoadingBaseHoldsOneCopyOfTheWeights) {
  testing::TempDir tmp;
  const std::string ckpt = tmp.file("b.npz"), in = tmp.file("in.npz"), out = tmp.file("out.npz");
  auto init = testing::run_command(testing::cli_path() + " init --model videoprism_public_v1_base --seed 1 --out " + ckpt);
  ASSERT_EQ(init.exit_code, 0) << init.output;
  const double weights_mb = std::filesystem::file_size(ckpt) / 1048576.0;
  save_npz(in, {{"inputs", torch::rand({1, 2, 36, 36, 3})}});

  auto forward = testing::run_command(testing::cli_path() + " forward --threads 1 --checkpoint " + ckpt +
                                      " --inputs " + in + " --out " + out);
  ASSERT_EQ(forward.exit_code, 0) << forward.output;
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  const double peak_mb = usage.ru_maxrss / 1024.0;
  std::cout << "[memory] VideoPrism-B weights " << weights_mb << " MB, peak RSS of load + forward " << peak_mb
            << " MB\n";
  // One copy plus the libtorch runtime (~150 MB) and a tiny forward; a second
  // float32 copy would put the peak above 2 x weights.
  EXPECT_LT(peak_mb, weights_mb + 300.0);
}

}  // namespace
}  // namespace videoprism
