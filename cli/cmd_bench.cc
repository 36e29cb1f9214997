// videoprism bench: inference speed at real shapes with random weights, next
// to a GEMM ceiling for the same dtype measured in the same run. Prints JSON
// lines. Each dtype runs in its own child process so peak RSS is per dtype.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/error.h"
#include "videoprism/model.h"

namespace videoprism::cli {
namespace {

struct BenchArgs {
  std::string preset = "videoprism_public_v1_base";
  std::vector<std::string> dtypes{"f32", "bf16"};
  std::string device = "cpu";
  int frames = 16, size = 288, batch = 1, warmup = 1, iterations = 3, threads = 0, gemm = 2048;
  bool child = false;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kilobytes on Linux
}

void synchronize(const torch::Device& device) {
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  if (device.is_cuda()) torch::cuda::synchronize();
#else
  if (device.is_cuda()) torch::zeros({1}, device).cpu();
#endif
}

// Best-of-N TFLOP/s of an n^3 matmul in the given dtype.
double gemm_ceiling(int n, torch::ScalarType dtype, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  torch::Tensor c = torch::matmul(a, b);
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    synchronize(device);
    double start = now_seconds();
    c = torch::matmul(a, b);
    synchronize(device);
    best = std::min(best, now_seconds() - start);
  }
  return 2.0 * n * double(n) * n / best / 1e12;
}

int run_one(const BenchArgs& args, const std::string& dtype_name) {
  RunOptions run;
  run.dtype = parse_dtype(dtype_name);
  run.device = parse_device(args.device);
  run.threads = args.threads;
  run.frame_embeddings = false;
  apply_run_options(run);
  const Preset& preset = find_preset(args.preset);
  Model model(preset.config);
  model.init_random(0);
  model.to(run.device);
  torch::Tensor video = torch::rand({args.batch, args.frames, args.size, args.size, 3});
  TensorMap inputs{{"inputs", video}};

  // Validate before timing: finite outputs of the right shape. The first run
  // also pays one-time costs (oneDNN kernel generation, first-touch pages).
  double first_start = now_seconds();
  TensorMap out = model.forward(inputs, run);
  synchronize(run.device);
  const double first_run = now_seconds() - first_start;
  for (const auto& [name, value] : out) {
    check(torch::isfinite(value).all().item<bool>(), "bench: non-finite output '", name, "'");
  }
  for (int i = 1; i < args.warmup; ++i) model.forward(inputs, run);
  std::vector<double> times;
  for (int i = 0; i < args.iterations; ++i) {
    double start = now_seconds();
    model.forward(inputs, run);
    synchronize(run.device);
    times.push_back(now_seconds() - start);
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const double flops = video_flops_per_clip(preset.config, args.frames, args.size, args.size);
  const double per_clip = median / args.batch;
  const double achieved = flops / per_clip / 1e12;
  const double ceiling = gemm_ceiling(args.gemm, run.dtype, run.device);
  nlohmann::json line{{"bench", "forward"},
                      {"model", preset.name},
                      {"kind", to_string(preset.config.kind)},
                      {"device", args.device},
                      {"dtype", dtype_name},
                      {"threads", torch::get_num_threads()},
                      {"batch", args.batch},
                      {"frames", args.frames},
                      {"size", args.size},
                      {"seconds_per_clip", per_clip},
                      {"seconds_min", times.front() / args.batch},
                      {"first_run_seconds", first_run},
                      {"clips_per_second", 1.0 / per_clip},
                      {"tflop_per_clip", flops / 1e12},
                      {"achieved_tflops", achieved},
                      {"gemm_n", args.gemm},
                      {"gemm_ceiling_tflops", ceiling},
                      {"fraction_of_ceiling", achieved / ceiling},
                      {"peak_rss_mb", peak_rss_mb()}};
  std::cout << line.dump() << std::endl;
  return 0;
}

int run_bench(const BenchArgs& args) {
  if (args.child || args.dtypes.size() == 1) return run_one(args, args.dtypes.front());
  // One child per dtype: re-run this binary with --child so peak RSS is per dtype.
  int status_all = 0;
  for (const auto& dtype : args.dtypes) {
    std::vector<std::string> argv_s = {"/proc/self/exe", "bench", "--child", "--model", args.preset,
                                       "--dtype", dtype, "--device", args.device,
                                       "--frames", std::to_string(args.frames), "--size", std::to_string(args.size),
                                       "--batch", std::to_string(args.batch), "--warmup", std::to_string(args.warmup),
                                       "--iterations", std::to_string(args.iterations),
                                       "--threads", std::to_string(args.threads), "--gemm", std::to_string(args.gemm)};
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::cout.flush();
    pid_t pid = fork();
    check(pid >= 0, "bench: fork failed");
    if (pid == 0) {
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) status_all = 1;
  }
  return status_all;
}

VP_REGISTER_COMMAND("bench", "Inference speed at real shapes (random weights) vs. a GEMM ceiling; JSON lines",
                    [](CLI::App& sub) {
  auto args = std::make_shared<BenchArgs>();
  sub.add_option("--model", args->preset, "Preset (default VideoPrism-B)")->capture_default_str();
  sub.add_option("--dtype", args->dtypes, "f32 and/or bf16 (default both)")->expected(1, 2);
  sub.add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  sub.add_option("--frames", args->frames, "Frames per clip")->capture_default_str();
  sub.add_option("--size", args->size, "Frame size (pixels)")->capture_default_str();
  sub.add_option("--batch", args->batch, "Clips per forward")->capture_default_str();
  sub.add_option("--warmup", args->warmup, "Untimed runs (the first also validates)")->capture_default_str();
  sub.add_option("--iterations", args->iterations, "Timed runs; the median is reported")->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: libtorch default)");
  sub.add_option("--gemm", args->gemm, "GEMM ceiling size n (n^3 matmul)")->capture_default_str();
  sub.add_flag("--child", args->child)->group("");
  sub.footer("Example:\n  videoprism bench --dtype bf16 --threads 2\n  videoprism bench --model videoprism_lvt_public_v1_base --frames 8 --size 144");
  return [args] { return run_bench(*args); };
});

}  // namespace
}  // namespace videoprism::cli
