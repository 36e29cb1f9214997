// What this machine's CPU offers the compute libraries, and the dtype
// `--dtype auto` picks from it.
//
// bf16 is only fast where the CPU has bf16 arithmetic (AVX512_BF16 or AMX):
// elsewhere oneDNN emulates it and a bf16 GEMM runs ~30x slower than float32
// (measured on an AVX2-only AMD Zen 3). So "auto" means bf16 where it is
// native and float32 everywhere else.
#pragma once

#include <optional>
#include <string>

#include <torch/torch.h>

namespace videoprism {

// The library behind the CPU float32 GEMMs (RunOptions::cpu_gemm, --f32-gemm):
// oneDNN with weights packed once, or libtorch's BLAS (OpenBLAS on Debian).
enum class CpuGemm { kOneDnn, kOpenBlas };
// Parses "onednn" / "openblas" (the --f32-gemm flag).
CpuGemm parse_cpu_gemm(const std::string& name);
const char* to_string(CpuGemm gemm);

struct CpuFeatures {
  std::string model;         // /proc/cpuinfo "model name"
  bool avx2 = false;         // each flag: the CPU has it and the OS saves its registers
  bool avx512f = false;
  bool avx512_bf16 = false;  // AVX512_BF16 (vdpbf16ps)
  bool amx_bf16 = false;     // AMX tiles with bf16
  // ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) as set in the environment, "" when
  // unset: the cap oneDNN applies, and so the one bf16 speed depends on.
  std::string isa_cap;
  // bf16 GEMMs run on bf16 hardware here: the CPU has AVX512_BF16 or AMX-BF16
  // and no ISA cap takes it away.
  bool native_bf16 = false;

  // The widest ISA in effect, e.g. "avx512_core_amx", "avx512_core_bf16",
  // "avx512_core", "avx2", "sse41" (after the cap).
  std::string isa() const;
};

// The CPUs this process may run on (its affinity mask; cgroup quotas aside).
// libtorch 1.13's own default is 1 thread on some 2-vCPU machines (this
// project's among them), so front-ends start with this many (the CLI and the
// Python package, unless OMP_NUM_THREADS is set).
int available_cores();

// Detected once (cpuid + xgetbv + the environment); thread-safe.
const CpuFeatures& cpu_features();

// The vector ISA of the project's own CPU kernels (src/ops): the widest the
// CPU offers, capped by ONEDNN_MAX_CPU_ISA like oneDNN, so one switch makes
// both behave as on an AVX2-only CPU (scripts/isa-cap.sh).
enum class KernelIsa { kDefault, kAvx2, kAvx512 };
KernelIsa kernel_isa();

// The kernels libtorch's float32 GEMMs run on: OpenBLAS's core name
// (openblas_get_corename, found at run time), "" when OpenBLAS is not loaded.
std::string blas_core();

// The OPENBLAS_CORETYPE this CPU should run with when OpenBLAS chose kernels
// older than the ISA in effect, nullopt when its choice is fine or the
// variable is already set. Debian's OpenBLAS 0.3.21 names CPUs newer than it
// knows (e.g. a Sapphire Rapids Xeon) "Prescott" and runs SSE3 kernels there:
// float32 GEMMs ~10x below the CPU's AVX-512 speed. OpenBLAS reads the
// variable only when it loads, so a process must set it and start again (the
// CLI does; docs/performance.md).
std::optional<std::string> blas_core_override();
// The rule behind it, for a given core name and ISA ("avx512_core", "avx2", ...).
std::optional<std::string> blas_core_override_for(const std::string& core, const std::string& isa);

// "auto" -> kBFloat16 on CUDA or a CPU with native bf16, kFloat32 elsewhere;
// other names as parse_dtype ("int8" -> kQInt8, an error on CUDA).
torch::ScalarType resolve_dtype(const std::string& name, const torch::Device& device);

// The activations' dtype of a run in `dtype`: float32 for kQInt8 (`--dtype
// int8`: float32 activations, int8 projection GEMMs; docs/int8.md), else itself.
inline torch::ScalarType activation_dtype(torch::ScalarType dtype) {
  return dtype == torch::kQInt8 ? torch::kFloat32 : dtype;
}

// The GEMM ceiling: best-of-`repeats` TFLOP/s of an n x n x n matmul in
// `dtype` on `device`, through the library that path uses. CPU float32:
// `cpu_gemm` (oneDNN with packed weights, the default inference path, or
// libtorch's BLAS); kQInt8 (CPU): tera-ops/s of oneDNN's s8 x s8 -> s32 GEMM,
// the int8 path's ceiling; bf16 and CUDA: libtorch's matmul.
double gemm_tflops(int n, torch::ScalarType dtype, const torch::Device& device, int repeats = 3,
                   CpuGemm cpu_gemm = CpuGemm::kOpenBlas);

// When bf16 runs on a CPU without native bf16: a one-line warning with the
// slowdown measured on a small GEMM (a few ms); nullopt otherwise.
std::optional<std::string> bf16_emulation_warning(torch::ScalarType dtype, const torch::Device& device);

}  // namespace videoprism
