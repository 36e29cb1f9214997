// videoprism doctor: what this machine offers the engine (CPU, ISA, native
// bf16, the libraries' kernels, GEMM ceilings, threads) and the dtype
// `--dtype auto` picks here.
#include <cstdlib>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"

namespace videoprism::cli {
namespace {

struct DoctorArgs {
  int gemm = 1024, threads = 0;
  bool json = false;
};

int run_doctor(const DoctorArgs& args) {
  check(args.gemm >= 16 && args.gemm <= 8192, "doctor: --gemm expected 16..8192, got ", args.gemm);
  set_compute_threads(args.threads);
  const CpuFeatures& cpu = cpu_features();
  const torch::Device device = torch::kCPU;
  const double f32 = gemm_tflops(args.gemm, torch::kFloat32, device, 3);
  const double f32_onednn = gemm_tflops(args.gemm, torch::kFloat32, torch::kCPU, 3, CpuGemm::kOneDnn);  // the float32 inference path's GEMM
  // Emulated bf16 is ~30x slower: a smaller GEMM keeps the check to a second.
  const int bf16_n = cpu.native_bf16 ? args.gemm : std::min(args.gemm, 256);
  double bf16 = 0;  // 0: libtorch has no bf16 GEMM here
  try {
    bf16 = gemm_tflops(bf16_n, torch::kBFloat16, device, 2);
  } catch (const std::exception&) {
  }
  const bool auto_bf16 = resolve_dtype("auto", device) == torch::kBFloat16;
  nlohmann::json j{{"cpu", cpu.model},
                   {"cores", std::thread::hardware_concurrency()},
                   {"avx2", cpu.avx2},
                   {"avx512f", cpu.avx512f},
                   {"avx512_bf16", cpu.avx512_bf16},
                   {"amx_bf16", cpu.amx_bf16},
                   {"isa_cap", cpu.isa_cap},
                   {"isa", cpu.isa()},
                   {"native_bf16", cpu.native_bf16},
                   {"openblas_core", blas_core()},
                   {"openblas_coretype_env", std::getenv("OPENBLAS_CORETYPE") != nullptr ? std::getenv("OPENBLAS_CORETYPE") : ""},
                   {"libtorch", TORCH_VERSION},
                   {"threads", torch::get_num_threads()},
                   {"gemm_f32_tflops", f32},
                   {"gemm_f32_onednn_tflops", f32_onednn},
                   {"f32_gemm", to_string(RunOptions{}.cpu_gemm)},  // the default float32 inference path
                   {"gemm_f32_n", args.gemm},
                   {"gemm_bf16_tflops", bf16},
                   {"gemm_bf16_n", bf16_n},
                   {"dtype_auto", auto_bf16 ? "bf16" : "f32"},
                   {"cuda", torch::cuda::is_available()}};
  if (args.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "cpu:          " << cpu.model << " (" << std::thread::hardware_concurrency() << " logical cores)\n"
            << "isa:          " << cpu.isa() << (cpu.isa_cap.empty() ? "" : " (capped by ONEDNN_MAX_CPU_ISA=" + cpu.isa_cap + ")")
            << "; avx2 " << (cpu.avx2 ? "yes" : "no") << ", avx512f " << (cpu.avx512f ? "yes" : "no")
            << ", avx512_bf16 " << (cpu.avx512_bf16 ? "yes" : "no") << ", amx_bf16 " << (cpu.amx_bf16 ? "yes" : "no") << "\n"
            << "native bf16:  " << (cpu.native_bf16 ? "yes" : "no (bf16 is emulated: slow)") << "\n"
            << "openblas:     " << (blas_core().empty() ? "not loaded" : blas_core())
            << (std::getenv("OPENBLAS_CORETYPE") != nullptr ? std::string(" (OPENBLAS_CORETYPE=") + std::getenv("OPENBLAS_CORETYPE") + ")" : " (detected)") << "\n"
            << "libtorch:     " << TORCH_VERSION << (torch::cuda::is_available() ? ", CUDA available" : ", CPU only") << "\n"
            << "threads:      " << torch::get_num_threads() << " (--threads N to change)\n"
            << "gemm f32:     " << f32_onednn << " TFLOP/s through oneDNN, packed weights (float32 inference), "
            << f32 << " through libtorch's BLAS (" << args.gemm << "^3)\n"
            << "gemm bf16:    " << bf16 << " TFLOP/s (" << bf16_n << "^3)"
            << (cpu.native_bf16 ? "" : ", " + std::to_string(f32 / std::max(bf16, 1e-12)).substr(0, 5) + "x slower than f32") << "\n"
            << "--dtype auto: " << (auto_bf16 ? "bf16" : "f32") << "\n";
  return 0;
}

VP_REGISTER_COMMAND("doctor", "What this machine offers: CPU, ISA, native bf16, GEMM ceilings, threads", [](CLI::App& sub) {
  auto args = std::make_shared<DoctorArgs>();
  sub.add_option("--gemm", args->gemm, "GEMM ceiling size n (n^3 matmul)")->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_flag("--json", args->json, "One JSON object");
  sub.footer("Example:\n  videoprism doctor\n  ONEDNN_MAX_CPU_ISA=AVX2 videoprism doctor --json   # as an AVX2-only CPU");
  return [=] { return run_doctor(*args); };
});

}  // namespace
}  // namespace videoprism::cli
