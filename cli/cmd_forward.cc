// videoprism forward: run a model on named arrays from an .npz and write every
// output under the reference's names. The parity harness and a debugging tool.
#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism::cli {
namespace {

struct ForwardArgs {
  std::string config_path, preset, checkpoint, inputs, out;
  std::string dtype = "f32", device = "cpu", f32_gemm = "onednn";
  int threads = 0;
  bool fused_residual = false;
};

int run_forward(const ForwardArgs& args) {
  check(args.config_path.empty() != args.preset.empty() || (args.config_path.empty() && args.preset.empty()),
        "forward: give --config or --model, not both");
  ModelConfig config;
  const bool have_config = !args.config_path.empty() || !args.preset.empty();
  if (have_config) config = resolve_model_config(args.config_path.empty() ? args.preset : args.config_path);
  RunOptions run;
  run.dtype = parse_dtype(args.dtype);
  run.device = parse_device(args.device);
  run.threads = args.threads;
  run.fused_residual = args.fused_residual;
  run.cpu_gemm = parse_cpu_gemm(args.f32_gemm);
  apply_run_options(run);

  Model model = Model::load(args.checkpoint, have_config ? &config : nullptr);
  model.prepare_for_inference(run);
  TensorMap inputs;
  {
    NpzReader reader(args.inputs);
    for (const auto& key : reader.keys()) {
      if (key == "inputs" || key == "frame_paddings" || key == "text_token_ids" || key == "text_paddings") {
        inputs[key] = reader.read(key);
      }
    }
  }
  check(!inputs.empty(), args.inputs, ": no input arrays (expected inputs, frame_paddings, text_token_ids, text_paddings)");
  auto start = std::chrono::steady_clock::now();
  TensorMap outputs = model.forward(inputs, run);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::pair<std::string, torch::Tensor>> arrays(outputs.begin(), outputs.end());
  save_npz(args.out, arrays);

  nlohmann::json summary;
  summary["model"] = to_string(model.config().kind);
  summary["seconds"] = seconds;
  for (const auto& [name, value] : outputs) summary["outputs"][name] = value.sizes().vec();
  std::cout << summary.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
  return 0;
}

VP_REGISTER_COMMAND("forward", "Run a model on named arrays (.npz) and write all outputs (.npz)", [](CLI::App& sub) {
  auto args = std::make_shared<ForwardArgs>();
  auto* config = sub.add_option("--config", args->config_path, "Model config JSON (a golden case.json works)");
  sub.add_option("--model", args->preset, "Preset name or Hugging Face id (e.g. videoprism_lvt_public_v1_base)")
      ->excludes(config);
  sub.add_option("--checkpoint", args->checkpoint, "Weights in the released .npz layout")->required();
  sub.add_option("--inputs", args->inputs, "Input arrays: inputs, frame_paddings, text_token_ids, text_paddings")
      ->required();
  sub.add_option("--out", args->out, "Output .npz")->required();
  sub.add_option("--dtype", args->dtype, "f32, bf16 or int8 (CPU: int8 projection GEMMs; docs/int8.md)")->capture_default_str();
  sub.add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  sub.add_option("--threads", args->threads, "Intra-op threads (0: every core, or OMP_NUM_THREADS)");
  sub.add_option("--f32-gemm", args->f32_gemm,
                 "CPU float32: the GEMMs through onednn (weights packed at load: one more copy of the projection "
                 "weights in memory; bias, GELU and residual fused) or openblas (libtorch's BLAS)")
      ->capture_default_str();
  sub.add_flag("--fused-residual", args->fused_residual,
               "CUDA bf16: add bias and residual inside the projection GEMMs (RunOptions::fused_residual)");
  sub.footer(
      "Example:\n  videoprism forward --config ../shared/golden/clip_tiny/case.json \\\n"
      "    --checkpoint ../shared/golden/clip_tiny/params.npz --inputs ../shared/golden/clip_tiny/io.npz --out out.npz");
  return [args] { return run_forward(*args); };
});

}  // namespace
}  // namespace videoprism::cli
