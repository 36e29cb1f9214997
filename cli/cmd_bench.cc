// videoprism bench: inference speed at real shapes with random weights, next
// to a GEMM ceiling for the same dtype measured in the same run. Prints JSON
// lines. Each dtype runs in its own child process so peak RSS is per dtype.
// `--train stage1|stage2`: training-step throughput instead (library:
// videoprism/train/train_bench.h), one JSON line. `--breakdown`: where the
// time of one forward goes, per named region (videoprism/profile.h).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench_cuda.h"
#include "command.h"
#include "run_flags.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/profile.h"
#include "videoprism/train_step/device.h"
#include "videoprism/train_step/train_bench.h"

namespace videoprism::cli {
namespace {

struct BenchArgs {
  std::string preset = "videoprism_public_v1_base";
  std::vector<std::string> dtypes{"auto"};
  std::string device = "cpu";
  std::string f32_gemm = "onednn";
  int frames = 16, size = 288, batch = 1, warmup = 1, iterations = 3, threads = 0, gemm = 2048;
  bool child = false, breakdown = false;
  // --train: which stage's optimizer step to time instead of the forward.
  std::string train;
  int text_length = 64;
  bool model_given = false, dtype_given = false, batch_given = false, gemm_given = false;
  bool warmup_given = false, iterations_given = false;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kilobytes on Linux
}

void synchronize(const torch::Device& device) { profile::synchronize(device); }

const char* dtype_label(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? "bf16" : dtype == torch::kQInt8 ? "int8" : "f32";
}

// Best-of-5 TFLOP/s of an n^3 matmul in the given dtype (int8: s8 x s8 -> s32
// tera-ops/s of the oneDNN GEMM alone).
double gemm_ceiling(int n, torch::ScalarType dtype, const torch::Device& device) {
  return gemm_tflops(n, dtype, device, 5);
}

// Inference run options for one dtype, applied (threads; device checked).
RunOptions inference_options(const BenchArgs& args, const std::string& dtype_name) {
  RunOptions run;
  run.device = parse_device(args.device);
  run.dtype = dtype_flag(dtype_name, run.device);
  run.threads = args.threads;
  run.frame_embeddings = false;
  run.cpu_gemm = parse_cpu_gemm(args.f32_gemm);
  apply_run_options(run);
  return run;
}

int run_one(const BenchArgs& args, const std::string& dtype_name) {
  const RunOptions run = inference_options(args, dtype_name);
  const Preset& preset = find_preset(args.preset);
  Model model(preset.config);
  model.init_random(0);
  const double prepare_start = now_seconds();
  model.prepare_for_inference(run);  // int8: quantizes the weights
  const double prepare_seconds = now_seconds() - prepare_start;
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
  // float32 on the CPU: the better of libtorch's (OpenBLAS) and oneDNN's GEMM.
  const double ceiling_libtorch = gemm_ceiling(args.gemm, run.dtype, run.device);
  const bool cpu_f32 = run.device.is_cpu() && run.dtype == torch::kFloat32;
  const double ceiling_onednn = cpu_f32 ? gemm_tflops(args.gemm, torch::kFloat32, torch::kCPU, 5, CpuGemm::kOneDnn) : 0.0;
  const double ceiling = std::max(ceiling_libtorch, ceiling_onednn);
  nlohmann::json line{{"bench", "forward"},
                      {"model", preset.name},
                      {"kind", to_string(preset.config.kind)},
                      {"device", args.device},
                      {"dtype", dtype_label(run.dtype)},
                      {"cpu", cpu_features().model},
                      {"isa", cpu_features().isa()},
                      {"threads", torch::get_num_threads()},
                      {"batch", args.batch},
                      {"frames", args.frames},
                      {"size", args.size},
                      {"seconds_per_clip", per_clip},
                      {"seconds_min", times.front() / args.batch},
                      {"prepare_seconds", prepare_seconds},
                      {"first_run_seconds", first_run},
                      {"clips_per_second", 1.0 / per_clip},
                      {"tflop_per_clip", flops / 1e12},
                      {"achieved_tflops", achieved},
                      {"gemm_n", args.gemm},
                      {"gemm_ceiling_tflops", ceiling},
                      {"fraction_of_ceiling", achieved / ceiling},
                      {"peak_rss_mb", peak_rss_mb()}};
  if (cpu_f32) {
    line["f32_gemm"] = to_string(run.cpu_gemm);
    line["gemm_ceiling_libtorch_tflops"] = ceiling_libtorch;
    line["gemm_ceiling_onednn_tflops"] = ceiling_onednn;
  }
  std::cout << line.dump(-1, ' ', false, videoprism::kJsonReplace) << std::endl;
  return 0;
}

// The op of a region path, for per-op totals across the transformer stacks:
// what follows the first stack component ("spatial/ffn1/matmul",
// "forward/temporal/ffn1/matmul" -> "ffn1/matmul"); paths with no stack
// ("pooler/attend", "backward") stay whole.
std::string op_of(const std::string& path) {
  size_t begin = 0;
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', begin)) {
    const std::string part = path.substr(begin, slash - begin);
    if (part == "spatial" || part == "temporal" || part == "auxiliary" || part == "text") return path.substr(slash + 1);
    begin = slash + 1;
  }
  return path;
}

// Prints a profile (per region, then per op summed over the stacks, as JSON
// lines; then the ops as a Markdown table). `unit` names what one iteration is
// ("forward", "step"); `title` heads the table.
void print_breakdown(const std::vector<profile::RegionStats>& regions, int iterations, double profiled_seconds,
                     const std::string& unit, const std::string& title) {
  struct Row {
    std::string name;
    double calls = 0, ms = 0, flops = 0, bytes = 0;
  };
  const double unit_ms = profiled_seconds * 1e3;
  auto emit = [&](const char* kind, const Row& r) {
    nlohmann::json line{{"bench", "breakdown"}, {kind, r.name}, {"calls_per_" + unit, r.calls},
                        {"ms_per_" + unit, r.ms}, {"share", r.ms / unit_ms}};
    if (r.flops > 0) line["tflops"] = r.flops / (r.ms * 1e-3) / 1e12;
    if (r.bytes > 0) line["gb_per_s"] = r.bytes / (r.ms * 1e-3) / 1e9;
    std::cout << line.dump(-1, ' ', false, videoprism::kJsonReplace) << std::endl;
  };
  std::vector<Row> by_region;
  std::map<std::string, Row> by_op;
  for (const auto& s : regions) {
    // A region with regions inside keeps only the time outside them: "(rest)".
    const bool container = std::any_of(regions.begin(), regions.end(), [&](const profile::RegionStats& o) {
      return o.name.size() > s.name.size() && o.name.compare(0, s.name.size() + 1, s.name + "/") == 0;
    });
    const std::string name = container ? s.name + " (rest)" : s.name;
    // A container's FLOPs and bytes are its whole work's, not its rest's.
    Row r{name, double(s.calls) / iterations, s.seconds * 1e3 / iterations, container ? 0 : s.flops / iterations,
          container ? 0 : s.bytes / iterations};
    by_region.push_back(r);
    Row& op = by_op[op_of(name)];
    op.name = op_of(name);
    op.calls += r.calls;
    op.ms += r.ms;
    op.flops += r.flops;
    op.bytes += r.bytes;
  }
  for (const auto& r : by_region) emit("region", r);
  std::vector<Row> ops;
  for (const auto& [name, r] : by_op) ops.push_back(r);
  std::sort(ops.begin(), ops.end(), [](const Row& a, const Row& b) { return a.ms > b.ms; });
  for (const auto& r : ops) emit("op", r);

  std::cout << "\n" << title << "\n\n| op | calls | ms | share | TFLOP/s | GB/s |\n|---|---|---|---|---|---|\n" << std::fixed;
  for (const auto& r : ops) {
    std::cout << "| " << r.name << " | " << std::setprecision(0) << r.calls << " | " << std::setprecision(3) << r.ms
              << " | " << std::setprecision(1) << 100.0 * r.ms / unit_ms << "% | ";
    if (r.flops > 0) {
      const double tflops = r.flops / (r.ms * 1e-3) / 1e12;
      std::cout << std::setprecision(tflops < 10 ? 3 : 1) << tflops;
    }
    std::cout << " | ";
    if (r.bytes > 0) std::cout << std::setprecision(0) << r.bytes / (r.ms * 1e-3) / 1e9;
    std::cout << " |\n";
  }
  std::cout << std::defaultfloat << std::flush;
}

// Training-step throughput: TrainBench (the trainers' own step on random
// weights and data), warm-up steps (the first validates: finite loss and
// gradient norm), then timed steps with device synchronization.
int run_train_bench(const BenchArgs& args) {
  check(args.train == "stage1" || args.train == "stage2", "bench --train: expected stage1 or stage2, got '",
        args.train, "'");
  check(args.dtypes.size() == 1 || !args.dtype_given, "bench --train: give one --dtype (auto, f32 or bf16)");
  const std::string dtype_name = args.dtype_given ? args.dtypes.front() : "auto";
  train::TrainBenchOptions options;
  options.stage = args.train;
  // --model: a preset name or a model config JSON (tiny test models); default LvT-B
  // (stage 1: the model trained; stage 2: the teacher, the student is its encoder).
  const std::string model = args.model_given ? args.preset : "videoprism_lvt_public_v1_base";
  options.model = resolve_model_config(model);
  options.batch = args.batch_given ? args.batch : 16;
  options.frames = args.frames;
  options.size = args.size;
  options.text_length = args.text_length;
  options.dtype = dtype_flag(dtype_name, parse_device(args.device));
  options.device = available_device(args.device, "bench --train --device");
  RunOptions run;
  run.dtype = options.dtype;
  run.device = options.device;
  run.threads = args.threads;
  apply_run_options(run);

  train::TrainBench bench(options);
  train::reset_device_peak_memory(options.device);
  synchronize(options.device);
  double start = now_seconds();
  const train::TrainBenchStep first = bench.step();
  synchronize(options.device);
  const double first_step = now_seconds() - start;
  check(std::isfinite(first.loss) && std::isfinite(first.grad_norm), "bench --train ", args.train,
        ": non-finite first step (loss ", first.loss, ", gradient norm ", first.grad_norm, ")");
  for (int i = 1; i < args.warmup; ++i) bench.step();
  std::vector<double> times;
  train::TrainBenchStep last = first;
  for (int i = 0; i < std::max(1, args.iterations); ++i) {
    synchronize(options.device);
    start = now_seconds();
    last = bench.step();
    synchronize(options.device);
    times.push_back(now_seconds() - start);
  }
  check(std::isfinite(last.loss), "bench --train ", args.train, ": non-finite loss ", last.loss);
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const double flops = bench.train_flops_per_clip();
  const double clips_per_second = double(options.batch) / median;
  const double achieved = flops * clips_per_second / 1e12;
  const int64_t peak_device = train::device_peak_memory_bytes(options.device);
  // A GPU reaches its matmul peak only at large n.
  const int gemm = args.gemm_given || !options.device.is_cuda() ? args.gemm : 8192;
  const double ceiling = gemm_ceiling(gemm, options.dtype, options.device);
  nlohmann::json line{{"bench", "train"},
                      {"stage", args.train},
                      {"model", model},
                      {"device", args.device},
                      {"dtype", dtype_label(options.dtype)},
                      {"threads", torch::get_num_threads()},
                      {"batch", options.batch},
                      {"frames", options.frames},
                      {"size", options.size},
                      {"recipe", bench.recipe()},
                      {"trained_params", bench.trained_params()},
                      {"frozen_params", bench.frozen_params()},
                      {"seconds_per_step", median},
                      {"seconds_per_step_min", times.front()},
                      {"first_step_seconds", first_step},
                      {"clips_per_second", clips_per_second},
                      {"first_loss", first.loss},
                      {"last_loss", last.loss},
                      {"train_tflop_per_clip", flops / 1e12},
                      {"tflop_formula", bench.flops_formula()},
                      {"achieved_tflops", achieved},
                      {"gemm_n", gemm},
                      {"gemm_ceiling_tflops", ceiling},
                      {"fraction_of_ceiling", achieved / ceiling},
                      {"peak_rss_mb", peak_rss_mb()}};
  if (peak_device >= 0) line["peak_gpu_memory_mb"] = double(peak_device) / (1024.0 * 1024.0);
  std::cout << line.dump(-1, ' ', false, videoprism::kJsonReplace) << std::endl;
  if (args.breakdown) {
    // The same steps again, profiled: teacher (stage 2), forward, backward,
    // gradient clipping, optimizer; the forward's layers in detail.
    const int steps = std::max(1, args.iterations);
    profile::Session session(options.device);
    for (int i = 0; i < steps; ++i) bench.step();
    const std::vector<profile::RegionStats> regions = session.stats();
    const double profiled = session.elapsed() / steps;
    std::ostringstream title;
    title << "train " << args.train << ", " << model << ", " << dtype_label(options.dtype) << " on " << args.device << ", batch "
          << options.batch << ": step " << std::fixed << std::setprecision(2) << median * 1e3 << " ms, profiled "
          << profiled * 1e3 << " ms";
    print_breakdown(regions, steps, profiled, "step", title.str());
  }
  return 0;
}

// Inference on a GPU: bench_cuda.h (checks first, then eager / CUDA graph /
// float32 timings and the GEMM ceilings, one process).
int run_cuda_inference_bench(const BenchArgs& args) {
  CudaBenchOptions o;
  o.device = args.device;
  if (args.model_given) o.preset = args.preset;
  o.frames = args.frames;
  o.size = args.size;
  if (args.batch_given) o.batches = {args.batch};
  if (args.iterations_given) o.iterations = args.iterations;
  if (args.warmup_given) o.warmup = args.warmup;
  if (args.gemm_given) o.gemm = args.gemm;
  if (args.dtype_given) {
    o.f32 = std::find(args.dtypes.begin(), args.dtypes.end(), "f32") != args.dtypes.end();
  }
  return run_cuda_bench(o);
}

// --breakdown: one JSON line per region of a forward (exclusive time per
// forward, its share, achieved TFLOP/s or GB/s where the region declares
// FLOPs or bytes), per-op totals across stages, and the plain forward's time
// next to the profiled one (a profiled CUDA forward synchronizes at every
// region boundary), then the same as a Markdown table.
int run_breakdown(const BenchArgs& args) {
  const bool cuda = args.device.rfind("cuda", 0) == 0;
  check(args.dtypes.size() == 1 || !args.dtype_given, "bench --breakdown: give one --dtype (auto, f32, bf16 or int8)");
  const std::string dtype_name = args.dtype_given ? args.dtypes.front() : "auto";
  const RunOptions run = inference_options(args, dtype_name);
  // --model: a preset or a model config JSON (e.g. a golden case.json).
  const ModelConfig config = resolve_model_config(args.preset);
  Model model(config);
  model.init_random(0);
  model.prepare_for_inference(run);
  const int batch = args.batch_given ? args.batch : (cuda ? 16 : 1);
  const int iterations = args.iterations_given ? args.iterations : (cuda ? 10 : 2);
  const int warmup = args.warmup_given ? args.warmup : (cuda ? 3 : 1);
  check(iterations > 0, "bench --breakdown: --iterations expected > 0, got ", iterations);
  // The model's own call, as `bench --device cuda` times it: a video already on
  // the device in the run's dtype, outputs left there.
  torch::Tensor video =
      torch::rand({batch, args.frames, args.size, args.size, 3}).to(run.device, activation_dtype(run.dtype));
  // Inference as `bench` and the applications run it: no autograd graph (with
  // one, attention takes its training path and the profile misleads; int8
  // runs only without gradients).
  auto forward = [&] {
    torch::NoGradGuard no_grad;
    TensorMap out = model.encode_video(video, {}, run);
    synchronize(run.device);
    return out;
  };
  for (const auto& [name, value] : forward()) {
    check(torch::isfinite(value).all().item<bool>(), "bench --breakdown: non-finite output '", name, "'");
  }
  for (int i = 1; i < warmup; ++i) forward();
  std::vector<double> plain;
  for (int i = 0; i < iterations; ++i) {
    const double start = now_seconds();
    forward();
    plain.push_back(now_seconds() - start);
  }
  std::sort(plain.begin(), plain.end());
  const double plain_seconds = plain[plain.size() / 2];

  profile::Session session(run.device);
  for (int i = 0; i < iterations; ++i) forward();
  const std::vector<profile::RegionStats> regions = session.stats();
  const double profiled_seconds = session.elapsed() / iterations;

  const double flops = video_flops_per_clip(config, args.frames, args.size, args.size) * batch;
  nlohmann::json head{{"bench", "breakdown"},     {"model", args.preset},
                      {"device", args.device},     {"dtype", dtype_label(run.dtype)},
                      {"threads", torch::get_num_threads()},
                      {"batch", batch},            {"frames", args.frames},
                      {"size", args.size},         {"iterations", iterations},
                      {"forward_ms", plain_seconds * 1e3},
                      {"profiled_forward_ms", profiled_seconds * 1e3},
                      {"clips_per_second", batch / plain_seconds},
                      {"achieved_tflops", flops / plain_seconds / 1e12}};
  std::cout << head.dump(-1, ' ', false, videoprism::kJsonReplace) << std::endl;
  std::ostringstream title;
  title << args.preset << ", " << dtype_label(run.dtype) << " on " << args.device << ", batch " << batch << ", " << args.frames
        << "x" << args.size << "x" << args.size << ": forward " << std::fixed << std::setprecision(2)
        << plain_seconds * 1e3 << " ms (" << batch / plain_seconds << " clips/s), profiled " << profiled_seconds * 1e3
        << " ms";
  print_breakdown(regions, iterations, profiled_seconds, "forward", title.str());
  return 0;
}

int run_bench(const BenchArgs& args) {
  if (args.breakdown && args.train.empty()) return run_breakdown(args);
  if (!args.train.empty()) return run_train_bench(args);
  if (args.device.rfind("cuda", 0) == 0) return run_cuda_inference_bench(args);
  if (args.child || args.dtypes.size() == 1) return run_one(args, args.dtypes.front());
  // One child per dtype: re-run this binary with --child so peak RSS is per dtype.
  int status_all = 0;
  for (const auto& dtype : args.dtypes) {
    std::vector<std::string> argv_s = {"/proc/self/exe", "bench", "--child", "--model", args.preset,
                                       "--dtype", dtype, "--device", args.device,
                                       "--frames", std::to_string(args.frames), "--size", std::to_string(args.size),
                                       "--batch", std::to_string(args.batch), "--warmup", std::to_string(args.warmup),
                                       "--iterations", std::to_string(args.iterations),
                                       "--threads", std::to_string(args.threads), "--gemm", std::to_string(args.gemm),
                                       "--f32-gemm", args.f32_gemm};
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
  auto* model = sub.add_option("--model", args->preset,
                               "Preset (--train: default LvT-B; a model config JSON also works)")
                    ->capture_default_str();
  auto* dtype = sub.add_option("--dtype", args->dtypes, "auto, f32, bf16 and/or int8 (default auto: bf16 where the CPU has native bf16 or on CUDA, else f32; --train and --breakdown: one)")
                    ->expected(1, 3);
  sub.add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  sub.add_option("--frames", args->frames, "Frames per clip")->capture_default_str();
  sub.add_option("--size", args->size, "Frame size (pixels)")->capture_default_str();
  auto* batch = sub.add_option("--batch", args->batch, "Clips per forward (--train: per step, default 16)")
                    ->capture_default_str();
  auto* warmup = sub.add_option("--warmup", args->warmup, "Untimed runs (the first also validates; cuda: 3)")
                     ->capture_default_str();
  auto* iterations = sub.add_option("--iterations", args->iterations, "Timed runs; the median is reported (cuda: 20)")
                         ->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_option("--f32-gemm", args->f32_gemm,
                 "CPU float32: the projection GEMMs through onednn (packed weights, fused epilogues) or openblas "
                 "(libtorch's BLAS)")
      ->capture_default_str();
  auto* gemm = sub.add_option("--gemm", args->gemm, "GEMM ceiling size n (n^3 matmul; --train on cuda: 8192)")
                   ->capture_default_str();
  sub.add_option("--train", args->train,
                 "Time a training step instead: stage1 (contrastive, token drop 0.5) or stage2 (frozen teacher + "
                 "masked student + decoders)");
  sub.add_option("--text-length", args->text_length, "--train stage1: text ids per caption")->capture_default_str();
  sub.add_flag("--breakdown", args->breakdown,
               "Where one forward's time goes, per region and per op (one --dtype, default bf16; cuda: batch 16); "
               "with --train: one training step's (forward, backward, clipping, optimizer)");
  sub.add_flag("--child", args->child)->group("");
  sub.footer(
      "Example:\n  videoprism bench --dtype bf16 --threads 2\n  videoprism bench --model videoprism_lvt_public_v1_base "
      "--frames 8 --size 144\n  videoprism bench --train stage1 --device cuda --batch 16\n"
      "  videoprism bench --train stage2 --device cuda --dtype bf16 --warmup 2 --iterations 5\n"
      "  videoprism bench --device cuda   # GPU: checks, then batch 16 and 1 (eager, CUDA graph), float32, ceilings\n"
      "  videoprism bench --breakdown --device cuda   # per-op time of a batch-16 bf16 forward");
  return [=] {
    args->model_given = model->count() > 0;
    args->dtype_given = dtype->count() > 0;
    args->batch_given = batch->count() > 0;
    args->gemm_given = gemm->count() > 0;
    args->warmup_given = warmup->count() > 0;
    args->iterations_given = iterations->count() > 0;
    // Checked before anything runs: --iterations 0 left no time to report,
    // --frames 0 divided by zero in the encoder.
    check_range("bench: --iterations", args->iterations, 1, kMaxIterations);
    check_range("bench: --warmup", args->warmup, 0, kMaxIterations);
    check_range("bench: --frames", args->frames, 1, kMaxClipFrames);
    check_range("bench: --size", args->size, 1, kMaxClipSize);
    check_range("bench: --batch", args->batch, 1, kMaxBatch);
    check_range("bench: --gemm", args->gemm, 1, 65536);
    check_range("bench: --text-length", args->text_length, 1, kMaxTextLength);
    check_threads("bench: --threads", args->threads);
    return run_bench(*args);
  };
});

}  // namespace
}  // namespace videoprism::cli
