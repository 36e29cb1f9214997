#include "videoprism/core/cpu_features.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <sched.h>

#include <ATen/Context.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/profile.h"

namespace videoprism {
namespace {

uint64_t xgetbv0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) break;
      std::string name = line.substr(colon + 1);
      name.erase(0, name.find_first_not_of(" \t"));
      return name;
    }
  return "unknown";
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// oneDNN's cpu_isa names, ordered; a cap admits every ISA at or below it.
int isa_rank(const std::string& name) {
  const std::string n = upper(name);
  if (n == "SSE41") return 1;
  if (n == "AVX") return 2;
  if (n == "AVX2" || n == "AVX2_VNNI" || n == "AVX2_VNNI_2") return 3;
  if (n == "AVX512_CORE" || n == "AVX512_CORE_VNNI") return 4;
  if (n == "AVX512_CORE_BF16" || n == "AVX512_CORE_FP16") return 5;
  if (n == "AVX512_CORE_AMX" || n == "AVX512_CORE_AMX_FP16" || n == "ALL") return 6;
  return 6;  // unknown names: oneDNN ignores them, so no cap
}

CpuFeatures detect() {
  CpuFeatures f;
  f.model = cpu_model_name();
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool has_leaf7 = __get_cpuid_max(0, nullptr) >= 7;
  __get_cpuid(1, &a, &b, &c, &d);
  const bool osxsave = (c >> 27) & 1;
  const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool ymm_state = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM hi256, hi16 ZMM
  const bool tile_state = (xcr0 & 0x60000) == 0x60000;  // XTILECFG + XTILEDATA
  if (has_leaf7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = ymm_state && ((b >> 5) & 1);
    f.avx512f = zmm_state && ((b >> 16) & 1);
    const bool amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
    f.amx_bf16 = f.avx512f && amx_bf16 && amx_tile && tile_state;
    __cpuid_count(7, 1, a, b, c, d);
    f.avx512_bf16 = f.avx512f && ((a >> 5) & 1);
  }
  for (const char* var : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
    if (const char* value = std::getenv(var); value != nullptr && *value != '\0') {
      f.isa_cap = value;
      break;
    }
  const int cap = f.isa_cap.empty() ? 6 : isa_rank(f.isa_cap);
  f.native_bf16 = (f.avx512_bf16 && cap >= 5) || (f.amx_bf16 && cap >= 6);
  return f;
}

}  // namespace

std::string CpuFeatures::isa() const {
  const int cap = isa_cap.empty() ? 6 : isa_rank(isa_cap);
  if (amx_bf16 && cap >= 6) return "avx512_core_amx";
  if (avx512_bf16 && cap >= 5) return "avx512_core_bf16";
  if (avx512f && cap >= 4) return "avx512_core";
  if (avx2 && cap >= 3) return "avx2";
  return "sse41";
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

KernelIsa kernel_isa() {
  static const KernelIsa isa = [] {
    const CpuFeatures& f = cpu_features();
    const int cap = f.isa_cap.empty() ? 6 : isa_rank(f.isa_cap);
    if (f.avx512f && cap >= 4) return KernelIsa::kAvx512;
    if (f.avx2 && cap >= 3) return KernelIsa::kAvx2;
    return KernelIsa::kDefault;
  }();
  return isa;
}

namespace {

// Under an ISA cap that takes AVX-512 away on a CPU that has it
// (scripts/isa-cap.sh), libtorch would still hand bf16 matmuls to oneDNN (its
// check reads the CPU, not the cap) and oneDNN then refuses them ("could not
// create a primitive descriptor"). An AVX2-only CPU runs them in libtorch's
// own bf16 GEMM instead; so does a capped one, from process start on.
const bool kOneDnnFollowsTheCap = [] {
  const bool avx512_capped_away = cpu_features().avx512f && kernel_isa() != KernelIsa::kAvx512;
  if (avx512_capped_away) at::globalContext().setUserEnabledMkldnn(false);
  return avx512_capped_away;
}();

}  // namespace

std::string blas_core() {
  using CoreName = char* (*)();
  const auto core = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = core != nullptr ? core() : nullptr;
  return name != nullptr ? name : "";
}

std::optional<std::string> blas_core_override_for(const std::string& core, const std::string& isa) {
  if (core.empty()) return std::nullopt;
  const std::string name = upper(core);
  // OpenBLAS's x86-64 cores whose kernels use AVX-512 or AVX2 (its names for
  // them in 0.3.21 and later).
  const bool core_avx512 = name == "SKYLAKEX" || name == "COOPERLAKE" || name == "SAPPHIRERAPIDS";
  const bool core_avx2 = core_avx512 || name == "HASWELL" || name == "ZEN";
  const bool cpu_avx512 = isa.rfind("avx512", 0) == 0;
  const bool cpu_avx2 = cpu_avx512 || isa == "avx2";
  if (cpu_avx512 && !core_avx2) return "SkylakeX";
  if (cpu_avx2 && !cpu_avx512 && (!core_avx2 || core_avx512)) return "Haswell";  // an AVX2 CPU, or an AVX2 cap
  return std::nullopt;
}

std::optional<std::string> blas_core_override() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return std::nullopt;
  return blas_core_override_for(blas_core(), cpu_features().isa());
}

torch::ScalarType resolve_dtype(const std::string& name, const torch::Device& device) {
  if (name == "auto") return device.is_cuda() || cpu_features().native_bf16 ? torch::kBFloat16 : torch::kFloat32;
  const torch::ScalarType dtype = parse_dtype(name);
  if (dtype == torch::kQInt8)
    check_arg(device.is_cpu(), "--dtype int8: CPU only (oneDNN int8 GEMMs), got --device ", device.str(),
              "; use --dtype bf16 on CUDA");
  return dtype;
}

std::optional<std::string> bf16_emulation_warning(torch::ScalarType dtype, const torch::Device& device) {
  if (dtype != torch::kBFloat16 || !device.is_cpu() || cpu_features().native_bf16) return std::nullopt;
  // 128^3: ~0.2 ms in float32, a few ms emulated; enough to show the ratio.
  const double f32 = gemm_tflops(128, torch::kFloat32, device, 3);
  double bf16 = 0;
  try {
    bf16 = gemm_tflops(128, torch::kBFloat16, device, 2);
  } catch (const std::exception&) {  // no bf16 GEMM at all: the forward will say so
  }
  std::ostringstream out;
  out.precision(2);
  out << "warning: --dtype bf16 on a CPU without native bf16 (" << cpu_features().model << ", ISA "
      << cpu_features().isa() << "): a bf16 GEMM measured " << std::fixed << (bf16 > 0 ? f32 / bf16 : 0.0)
      << "x slower than float32 here; --dtype auto or f32 is faster";
  return out.str();
}

}  // namespace videoprism
