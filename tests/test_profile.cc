// profile::Session / Region (videoprism/profile.h) over a real forward: the
// regions name what the model ran, count it, declare its FLOPs, and their
// exclusive times add up to the session's wall time. And `bench --breakdown`.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/profile.h"

namespace videoprism {
namespace {

// The golden tiny CLIP: 2 spatial, 2 temporal and 1 auxiliary layer, D = 48.
ModelConfig tiny_clip() { return load_config_file(testing::golden_dir("clip_tiny") + "/case.json"); }

std::map<std::string, profile::RegionStats> by_name(const std::vector<profile::RegionStats>& stats) {
  std::map<std::string, profile::RegionStats> out;
  for (const auto& s : stats) out[s.name] = s;
  return out;
}

class ProfileRegions : public ::testing::TestWithParam<CpuGemm> {};

// Both CPU float32 paths: libtorch's BLAS with a region per op, and oneDNN
// with bias + residual in the output projection and the whole FFN fused.
TEST_P(ProfileRegions, NameCountAndTimeTheForward) {
  const CpuGemm gemm = GetParam();
  const ModelConfig config = tiny_clip();
  const int spatial = config.encoder.num_spatial_layers, temporal = config.encoder.num_temporal_layers;
  ASSERT_EQ(config.num_auxiliary_layers, 1);
  Model model(config);
  model.init_random(3);
  const int64_t b = 2, t = 4, size = 24, n = (size / 6) * (size / 6), d = 48, f = 96;
  torch::Tensor video = torch::rand({b, t, size, size, 3});
  RunOptions run;
  run.frame_embeddings = false;
  run.cpu_gemm = gemm;
  model.forward({{"inputs", video}}, run);  // warm up outside the session

  profile::Session session(torch::kCPU);
  model.forward({{"inputs", video}}, run);
  const auto stats = session.stats();
  const double elapsed = session.elapsed();
  const auto regions = by_name(stats);

  // Each transformer layer's ops, once per layer, under their stack.
  const std::vector<const char*> ops =
      gemm == CpuGemm::kOpenBlas
          ? std::vector<const char*>{"ln1", "qkv", "attend", "post", "residual1", "ln2", "ffn1/matmul", "ffn1/gelu",
                                     "ffn2/matmul", "residual2"}
          : std::vector<const char*>{"ln1", "qkv", "attend", "post+residual1", "ln2", "ffn1+gelu+ffn2+residual2"};
  for (const auto& [stack, layers] : std::vector<std::pair<std::string, int>>{
           {"spatial", spatial}, {"temporal", temporal}, {"auxiliary", 1}}) {
    for (const char* op : ops) {
      const std::string name = stack + "/" + op;
      ASSERT_TRUE(regions.count(name)) << "no region " << name;
      EXPECT_EQ(regions.at(name).calls, layers) << name;
    }
  }
  EXPECT_EQ(regions.count("text"), 0u);  // no text inputs
  EXPECT_EQ(regions.at("pooler").calls, 1);
  EXPECT_EQ(regions.at("pooler/attend").calls, 1);
  EXPECT_EQ(regions.at("patch_embed/matmul").calls, 1);

  // Declared FLOPs are the layer shapes': tokens x D x 3D per QKV, tokens x D x F per FFN matmul.
  const double spatial_tokens = double(b * t * n), temporal_tokens = double(b * n * t);
  EXPECT_DOUBLE_EQ(regions.at("spatial/qkv").flops, spatial * 2.0 * spatial_tokens * d * 3 * d);
  if (gemm == CpuGemm::kOpenBlas) {
    EXPECT_DOUBLE_EQ(regions.at("temporal/ffn1/matmul").flops, temporal * 2.0 * temporal_tokens * d * f);
  } else {
    EXPECT_DOUBLE_EQ(regions.at("temporal/ffn1+gelu+ffn2+residual2").flops,
                     temporal * 2.0 * 2.0 * temporal_tokens * d * f);
  }
  // Spatial attention: B*T sequences of N tokens; QK^T and PV.
  EXPECT_DOUBLE_EQ(regions.at("spatial/attend").flops, spatial * 4.0 * double(b * t) * n * n * d);
  // LayerNorm reads and writes its input once (float32 activations).
  EXPECT_DOUBLE_EQ(regions.at("spatial/ln1").bytes, spatial * 2.0 * spatial_tokens * d * 4);

  // Exclusive times: non-negative and summing to the session's wall time.
  double sum = 0;
  for (const auto& s : stats) {
    EXPECT_GE(s.seconds, 0.0) << s.name;
    sum += s.seconds;
  }
  EXPECT_GT(sum, 0.0);
  EXPECT_LE(sum, elapsed * 1.0001);
  EXPECT_GT(sum, elapsed * 0.99);
  EXPECT_EQ(stats.back().name, "(outside)");

  // reset() forgets; a region with no session open elsewhere is inert.
  session.reset();
  EXPECT_EQ(session.stats().size(), 1u);  // only "(outside)"
}

INSTANTIATE_TEST_SUITE_P(Profile, ProfileRegions, ::testing::Values(CpuGemm::kOpenBlas, CpuGemm::kOneDnn),
                         [](const ::testing::TestParamInfo<CpuGemm>& info) {
                           return std::string(to_string(info.param));
                         });

TEST(Profile, NestedRegionsAreExclusiveAndOneSessionPerThread) {
  {
    profile::Region no_session("ignored");  // no session: nothing to record, no error
  }
  EXPECT_FALSE(profile::active());
  profile::Session session(torch::kCPU);
  EXPECT_TRUE(profile::active());
  EXPECT_THROW(profile::Session second(torch::kCPU), Error);
  {
    profile::Region outer("outer", 10, 20);
    torch::Tensor x = torch::randn({256, 256});
    for (int i = 0; i < 3; ++i) {
      profile::Region inner("inner", 1, 2);
      x = torch::matmul(x, x).tanh();
    }
  }
  const auto regions = by_name(session.stats());
  ASSERT_TRUE(regions.count("outer/inner"));
  EXPECT_EQ(regions.at("outer/inner").calls, 3);
  EXPECT_DOUBLE_EQ(regions.at("outer/inner").flops, 3);
  EXPECT_DOUBLE_EQ(regions.at("outer/inner").bytes, 6);
  EXPECT_EQ(regions.at("outer").calls, 1);
  EXPECT_DOUBLE_EQ(regions.at("outer").flops, 10);
  EXPECT_GT(regions.at("outer/inner").seconds, 0.0);
}

TEST(Profile, SessionEndsWithItsScope) {
  { profile::Session session(torch::kCPU); }
  EXPECT_FALSE(profile::active());
  profile::Session again(torch::kCPU);  // a new one may open
  EXPECT_TRUE(profile::active());
}

// The ops `bench --breakdown` reports for each CPU float32 path.
std::map<std::string, nlohmann::json> breakdown_ops(const std::string& f32_gemm, std::string& output) {
  // The golden tiny encoder's config: 2 spatial + 2 temporal layers, D=48.
  const std::string config = testing::golden_dir("encoder_tiny") + "/case.json";
  const auto result = testing::run_command(testing::cli_path() + " bench --breakdown --model " + config +
                                           " --frames 4 --size 24 --dtype f32 --iterations 2 --threads 1 --f32-gemm " +
                                           f32_gemm);
  output = result.output;
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::istringstream lines(result.output);
  std::string line;
  std::map<std::string, nlohmann::json> ops;
  double forward_ms = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    if (j.contains("forward_ms")) forward_ms = j["forward_ms"];
    if (j.contains("op")) ops[j["op"]] = j;
  }
  EXPECT_GT(forward_ms, 0.0);
  EXPECT_NE(result.output.find("| op | calls | ms |"), std::string::npos);
  return ops;
}

TEST(BenchBreakdown, ReportsEveryOpOfATinyForward) {
  std::string output;
  // libtorch's BLAS: the CPU attention's parts (QK^T, capped softmax, PV, the head layout copies) and each op.
  auto ops = breakdown_ops("openblas", output);
  for (const char* op : {"qkv", "attend/scores", "attend/softmax", "attend/values", "attend/split_heads",
                         "attend/merge_heads", "post", "ffn1/matmul", "ffn1/gelu", "ffn2/matmul", "ln1", "ln2"}) {
    ASSERT_TRUE(ops.count(op)) << "no op " << op << " in:\n" << output;
    EXPECT_DOUBLE_EQ(ops[op]["calls_per_forward"].get<double>(), 4.0) << op;  // 2 spatial + 2 temporal layers
  }
  EXPECT_TRUE(ops["qkv"].contains("tflops"));
  EXPECT_TRUE(ops["ln1"].contains("gb_per_s"));
  // oneDNN: q, k and v read in place (no split_heads), epilogues fused.
  ops = breakdown_ops("onednn", output);
  for (const char* op : {"qkv", "attend/scores", "attend/softmax", "attend/values", "attend/merge_heads",
                         "post+residual1", "ffn1+gelu+ffn2+residual2", "ln1", "ln2"}) {
    ASSERT_TRUE(ops.count(op)) << "no op " << op << " in:\n" << output;
    EXPECT_DOUBLE_EQ(ops[op]["calls_per_forward"].get<double>(), 4.0) << op;
  }
  for (const char* op : {"attend/split_heads", "ffn1/gelu", "residual2"})
    EXPECT_EQ(ops.count(op), 0u) << op << " ran on the oneDNN path:\n" << output;
  EXPECT_TRUE(ops["ffn1+gelu+ffn2+residual2"].contains("tflops"));
}

}  // namespace
}  // namespace videoprism
