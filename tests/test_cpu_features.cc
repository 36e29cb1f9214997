// CPU feature detection and `--dtype auto`: cpuid against the kernel's view
// (/proc/cpuinfo flags), the oneDNN ISA cap, and the bf16-emulation warning.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"

namespace videoprism {
namespace {

using testing::cli_path;
using testing::run_command;

// The flags the kernel reports for the first CPU (it hides those the OS does not enable).
std::set<std::string> proc_cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;) flags.insert(w);
      return flags;
    }
  return {};
}

nlohmann::json doctor(const std::string& env) {
  auto r = run_command(env + " " + cli_path() + " doctor --json --gemm 128");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto brace = r.output.rfind('{');
  if (brace == std::string::npos) return {};
  return nlohmann::json::parse(r.output.substr(brace));
}

TEST(CpuFeatures, CpuidAgreesWithTheKernelsFlags) {
  const auto flags = proc_cpu_flags();
  ASSERT_FALSE(flags.empty());
  const CpuFeatures& cpu = cpu_features();
  EXPECT_EQ(cpu.avx2, flags.count("avx2") == 1);
  EXPECT_EQ(cpu.avx512f, flags.count("avx512f") == 1);
  EXPECT_EQ(cpu.avx512_bf16, flags.count("avx512_bf16") == 1);
  EXPECT_EQ(cpu.amx_bf16, flags.count("amx_bf16") == 1 && flags.count("amx_tile") == 1);
  std::printf("cpu: %s, isa %s, native bf16 %s\n", cpu.model.c_str(), cpu.isa().c_str(), cpu.native_bf16 ? "yes" : "no");
}

TEST(CpuFeatures, AutoIsBf16ExactlyWhereBf16IsNative) {
  const auto flags = proc_cpu_flags();
  const bool capped = std::getenv("ONEDNN_MAX_CPU_ISA") != nullptr || std::getenv("DNNL_MAX_CPU_ISA") != nullptr;
  const bool native = flags.count("avx512_bf16") == 1 || flags.count("amx_bf16") == 1;
  if (!capped) {
    EXPECT_EQ(cpu_features().native_bf16, native);
  }
  EXPECT_EQ(resolve_dtype("auto", torch::kCPU), cpu_features().native_bf16 ? torch::kBFloat16 : torch::kFloat32);
  EXPECT_EQ(resolve_dtype("f32", torch::kCPU), torch::kFloat32);
  EXPECT_EQ(resolve_dtype("bf16", torch::kCPU), torch::kBFloat16);
  EXPECT_EQ(resolve_dtype("auto", torch::Device("cuda")), torch::kBFloat16);
  EXPECT_THROW(resolve_dtype("fp8", torch::kCPU), Error);
}

// Capping oneDNN to AVX2 makes this machine an AVX2-only one for bf16: auto
// must then pick float32 and an explicit bf16 must warn with a measured ratio.
TEST(CpuFeatures, AvxTwoCapPicksFloat32AndWarnsOnBf16) {
  nlohmann::json capped = doctor("ONEDNN_MAX_CPU_ISA=AVX2");
  EXPECT_EQ(capped["native_bf16"], false);
  EXPECT_EQ(capped["dtype_auto"], "f32");
  EXPECT_EQ(capped["isa_cap"], "AVX2");
  EXPECT_GT(capped["gemm_f32_tflops"].get<double>(), 0.0);
  EXPECT_GT(capped["gemm_bf16_tflops"].get<double>(), 0.0);
  nlohmann::json plain = doctor("");
  EXPECT_EQ(plain["dtype_auto"], plain["native_bf16"].get<bool>() ? "bf16" : "f32");
  std::printf("doctor: %s\ndoctor capped: %s\n", plain.dump().c_str(), capped.dump().c_str());

  const std::string config = testing::golden_dir("clip_tiny") + "/case.json";
  testing::TempDir dir;
  auto r = run_command(cli_path() + " init --config " + config + " --seed 1 --out " + dir.file("tiny.npz"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command("ONEDNN_MAX_CPU_ISA=AVX2 " + cli_path() + " embed --checkpoint " + dir.file("tiny.npz") +
                  " --tokenizer " + testing::shared_dir() + "/assets/test_spm.model --text hello --dtype bf16 --out " +
                  dir.file("t.npz"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: --dtype bf16 on a CPU without native bf16"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("x slower than float32"), std::string::npos) << r.output;
  r = run_command("ONEDNN_MAX_CPU_ISA=AVX2 " + cli_path() + " embed --checkpoint " + dir.file("tiny.npz") +
                  " --tokenizer " + testing::shared_dir() + "/assets/test_spm.model --text hello --out " + dir.file("a.npz"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;  // auto: float32, no warning
}

// Which OpenBLAS core a CPU should run on (blas_core_override_for): only a
// core older than the ISA in effect is replaced; a good detection is kept.
TEST(CpuFeatures, BlasCoreOverrideReplacesOnlyKernelsOlderThanTheIsa) {
  EXPECT_EQ(blas_core_override_for("Prescott", "avx512_core_amx").value_or(""), "SkylakeX");
  EXPECT_EQ(blas_core_override_for("Prescott", "avx512_core").value_or(""), "SkylakeX");
  EXPECT_EQ(blas_core_override_for("Nehalem", "avx2").value_or(""), "Haswell");
  EXPECT_EQ(blas_core_override_for("SkylakeX", "avx2").value_or(""), "Haswell");  // an AVX2 cap on AVX-512
  EXPECT_FALSE(blas_core_override_for("SkylakeX", "avx512_core_bf16").has_value());
  EXPECT_FALSE(blas_core_override_for("Zen", "avx512_core_bf16").has_value());  // Zen 4 as 0.3.21 names it
  EXPECT_FALSE(blas_core_override_for("Zen", "avx2").has_value());
  EXPECT_FALSE(blas_core_override_for("Haswell", "avx2").has_value());
  EXPECT_FALSE(blas_core_override_for("Prescott", "sse41").has_value());
  EXPECT_FALSE(blas_core_override_for("", "avx512_core").has_value());  // OpenBLAS not loaded
}

// The CLI starts OpenBLAS on the core the CPU deserves: the doctor's report
// names a core that matches the ISA, or the one the user set.
TEST(CpuFeatures, CliRunsOpenBlasOnACoreThatMatchesTheIsa) {
  auto r = run_command(cli_path() + " doctor --json --gemm 64");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  const std::string core = j["openblas_core"], isa = j["isa"];
  std::printf("openblas core %s (OPENBLAS_CORETYPE=%s), isa %s\n", core.c_str(),
              j["openblas_coretype_env"].get<std::string>().c_str(), isa.c_str());
  if (!core.empty() && std::getenv("OPENBLAS_CORETYPE") == nullptr)
    EXPECT_FALSE(blas_core_override_for(core, isa).has_value()) << core << " on " << isa;
  r = run_command("OPENBLAS_CORETYPE=Haswell " + cli_path() + " doctor --json --gemm 64");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto kept = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(kept["openblas_coretype_env"], "Haswell");
  if (!core.empty()) EXPECT_EQ(kept["openblas_core"], "Haswell");
}

}  // namespace
}  // namespace videoprism
