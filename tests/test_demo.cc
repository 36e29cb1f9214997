// `videoprism demo --quick`: the whole pipeline end to end, checked for a
// complete and sane report (not for any particular accuracy).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace videoprism {
namespace {

TEST(Demo, QuickRunWritesACompleteReport) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) GTEST_SKIP() << "Fashion-MNIST is not installed";
  testing::TempDir dir;
  const std::string out = dir.file("demo");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = testing::run_command(testing::cli_path() + " demo --quick --out " + out + " --tokenizer " +
                                      testing::shared_dir() + "/assets/test_spm.model");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Time is reported, not asserted (speed goes in benchmarks; a loaded
  // machine must not fail the suite). The 3-minute budget is measured in the
  // issue notes: 67 s on a quiet 2-core machine.
  std::printf("demo --quick took %.1f s\n", seconds);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::vector<std::string> encoders = {"stage1", "stage2", "stage2_no_shuffle", "stage2_no_global", "random_init"};
  const std::vector<std::string> tasks = {"class", "direction", "arrow", "speed"};

  std::ifstream report_in(out + "/report.md");
  ASSERT_TRUE(report_in.good());
  std::stringstream report;
  report << report_in.rdbuf();
  const std::string md = report.str();
  for (const auto& e : encoders) EXPECT_NE(md.find("| " + e + " |"), std::string::npos) << e;
  for (const auto& t : tasks) EXPECT_NE(md.find(" " + t + " |"), std::string::npos) << t;
  EXPECT_NE(md.find("| chance |"), std::string::npos);
  EXPECT_NE(md.find("What this shows"), std::string::npos);

  std::ifstream results_in(out + "/results.json");
  ASSERT_TRUE(results_in.good());
  const nlohmann::json results = nlohmann::json::parse(results_in);
  for (const auto& e : encoders)
    for (const auto& t : tasks) {
      SCOPED_TRACE(e + "/" + t);
      ASSERT_TRUE(results["encoders"].contains(e));
      const auto& r = results["encoders"][e][t];
      ASSERT_TRUE(r.contains("mean") && r.contains("std") && r.contains("seeds") && r.contains("chance"));
      EXPECT_GE(r["mean"].get<double>(), 0.0);
      EXPECT_LE(r["mean"].get<double>(), 1.0);
      EXPECT_GE(r["std"].get<double>(), 0.0);
      EXPECT_GE(r["seeds"].get<int>(), 1);
      EXPECT_GT(r["chance"].get<double>(), 0.0);
      EXPECT_LT(r["chance"].get<double>(), 1.0);
    }
  for (const auto& png : {"loss_stage1.png", "loss_stage2.png", "results.png"}) {
    const std::string path = out + "/" + png;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_GT(std::filesystem::file_size(path), 0u) << path;
  }
}

}  // namespace
}  // namespace videoprism
