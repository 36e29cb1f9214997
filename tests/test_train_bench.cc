// Training benchmark and training FLOP counts: the FLOP helpers agree with the
// model's own at the full grid, `videoprism bench --train stage1|stage2` runs
// a tiny model on the CPU and reports a finite loss and its JSON keys (no
// timing is asserted), and the training-device helpers on the CPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/core/model.h"
#include "videoprism/core/config.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/train_step/device.h"
#include "train_step/stage2_decoders.h"
#include "videoprism/train_step/train_bench.h"
#include "train_step/train_flops.h"

namespace videoprism {
namespace {

using namespace videoprism::train;

std::string tiny_clip_path() { return testing::golden_dir("clip_tiny") + "/case.json"; }

TEST(TrainFlops, FullGridEqualsTheModelsForwardCountAndDroppingTokensIsCheaper) {
  const ModelConfig lvt = find_preset("videoprism_lvt_public_v1_base").config;
  const ModelConfig base = find_preset("videoprism_public_v1_base").config;
  const int64_t n = 16 * 16;  // 288 / 18
  EXPECT_DOUBLE_EQ(encoder_forward_flops(base.encoder, 16, n), encoder_flops_per_clip(base.encoder, 16, 288, 288));
  EXPECT_DOUBLE_EQ(clip_video_forward_flops(lvt, 16, n), video_flops_per_clip(lvt, 16, 288, 288));

  const double s1 = stage1_train_flops_per_clip(lvt, 16, 288, 288, 0.5, 64);
  const double s1_full = stage1_train_flops_per_clip(lvt, 16, 288, 288, 0.0, 64);
  EXPECT_EQ(kept_positions(n, 0.5), 128);
  EXPECT_DOUBLE_EQ(s1_full, 3.0 * (video_flops_per_clip(lvt, 16, 288, 288) + text_forward_flops(lvt, 64)));
  EXPECT_LT(s1, 0.6 * s1_full);

  const DecoderOptions decoder = resolve_decoder_options(DecoderOptions{4, 0, 0, 0}, lvt.encoder);
  const double s2 = stage2_train_flops_per_clip(lvt, 16, 288, 288, MaskKind::kTube, 0.65, decoder, true, true);
  const double s2_block = stage2_train_flops_per_clip(lvt, 16, 288, 288, MaskKind::kBlock, 0.65, decoder, true, true);
  EXPECT_GT(s2, video_flops_per_clip(lvt, 16, 288, 288));  // at least the teacher's forward
  EXPECT_GT(s2_block, s2);                                 // block masks run every token
  std::printf("LvT-B 16x288x288 training TFLOP/clip: stage1 (drop 0.5) %.3f (no drop %.3f); stage2 tube %.3f, "
              "block %.3f; teacher forward %.3f\n",
              s1 / 1e12, s1_full / 1e12, s2 / 1e12, s2_block / 1e12, video_flops_per_clip(lvt, 16, 288, 288) / 1e12);
}

TEST(TrainDevice, CpuIsANoOpAndNamesAreChecked) {
  EXPECT_EQ(videoprism::parse_device("cpu", "test"), torch::Device(torch::kCPU));
  torch::Tensor t = torch::ones({2, 3});
  EXPECT_TRUE(to_device(t, torch::kCPU).is_same(t));
  EXPECT_FALSE(to_device(torch::Tensor(), torch::kCPU).defined());
  EXPECT_EQ(device_peak_memory_bytes(torch::kCPU), -1);
  EXPECT_THROW(videoprism::parse_device("cuda:", "test"), Error);
  EXPECT_THROW(videoprism::parse_device("mps", "test"), Error);
  if (!torch::cuda::is_available()) EXPECT_THROW(videoprism::available_device("cuda", "test"), Error);
}

TEST(TrainBench, OneStepOfEachStageOnATinyModelHasAFiniteLoss) {
  for (const char* stage : {"stage1", "stage2"}) {
    TrainBenchOptions options;
    options.stage = stage;
    options.model = load_config_file(tiny_clip_path());
    options.batch = 3;
    options.frames = 2;
    options.size = 24;
    options.text_length = 8;
    options.dtype = torch::kFloat32;
    TrainBench bench(options);
    const TrainBenchStep first = bench.step(), second = bench.step();
    std::printf("%s: loss %.4f -> %.4f, gradient norm %.3g, %ld trained + %ld frozen parameters\n", stage, first.loss,
                second.loss, first.grad_norm, long(bench.trained_params()), long(bench.frozen_params()));
    EXPECT_TRUE(std::isfinite(first.loss) && std::isfinite(second.loss));
    EXPECT_GT(first.grad_norm, 0.0);
    EXPECT_NE(first.loss, second.loss);  // the optimizer moved something
    EXPECT_GT(bench.train_flops_per_clip(), 0.0);
    EXPECT_GT(bench.trained_params(), 0);
  }
}

TEST(TrainBench, CliReportsThroughputAndTheTrainingFlopsOfBothStages) {
  for (const char* stage : {"stage1", "stage2"}) {
    const std::string command = testing::cli_path() + " bench --train " + stage + " --model " + tiny_clip_path() +
                                " --frames 4 --size 24 --batch 4 --text-length 16 --warmup 1 --iterations 2"
                                " --gemm 64 --threads 2";
    auto r = testing::run_command(command);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const nlohmann::json j = nlohmann::json::parse(r.output);
    std::printf("%s\n", j.dump().c_str());
    for (const char* key : {"bench", "stage", "model", "device", "dtype", "batch", "frames", "size", "recipe",
                            "trained_params", "frozen_params", "seconds_per_step", "clips_per_second", "first_loss",
                            "last_loss", "train_tflop_per_clip", "tflop_formula", "achieved_tflops",
                            "gemm_ceiling_tflops", "fraction_of_ceiling", "peak_rss_mb"})
      EXPECT_TRUE(j.contains(key)) << stage << ": " << key;
    EXPECT_EQ(j["bench"], "train");
    EXPECT_EQ(j["stage"], stage);
    // The default is auto: bf16 where this CPU has native bf16, else f32.
    const bool native_bf16 = resolve_dtype("auto", torch::kCPU) == torch::kBFloat16;
    EXPECT_EQ(j["dtype"], native_bf16 ? "bf16" : "f32");
    EXPECT_TRUE(std::isfinite(j["first_loss"].get<double>()));
    EXPECT_TRUE(std::isfinite(j["last_loss"].get<double>()));
    EXPECT_GT(j["clips_per_second"].get<double>(), 0.0);
    EXPECT_GT(j["train_tflop_per_clip"].get<double>(), 0.0);
    EXPECT_FALSE(j.contains("peak_gpu_memory_mb"));  // CPU run
    if (std::string(stage) == "stage2") {
      EXPECT_GT(j["frozen_params"].get<int64_t>(), 0);
      EXPECT_EQ(j["recipe"]["mask_kind"], "tube");
    } else {
      EXPECT_EQ(j["recipe"]["token_drop"].get<double>(), 0.5);
    }
  }
  auto bad = testing::run_command(testing::cli_path() + " bench --train stage3");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("stage3"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace videoprism
