// The model facade: build a model from a config or preset, load and save
// released-format checkpoints, and run it on named arrays.
//
//   auto model = videoprism::Model::load("flax_lvt_base_f16r288_repeated.npz");
//   videoprism::RunOptions run;  run.dtype = torch::kBFloat16;
//   auto out = model.forward({{"inputs", video}}, run);   // out["video_embeddings"]
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "videoprism/core/config.h"
#include "videoprism/core/cpu_features.h"

namespace videoprism {

using TensorMap = std::map<std::string, torch::Tensor>;

// How to run, separate from what the model is.

struct RunOptions {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;  // activations: kFloat32 or kBFloat16
  int threads = 0;                            // 0: leave libtorch's setting
  bool frame_embeddings = true;               // video-text model: also pool per frame
  // CUDA inference only: the FFN's GELU as cuBLASLt's fused bias+GELU GEMM
  // epilogue, which computes the tanh approximation of GELU (|difference| <
  // 1e-3, below bf16 rounding) instead of the reference's exact erf form.
  // Saves one read and one write of the largest activation per layer.
  bool approximate_gelu = false;
  // CUDA bf16 inference only (builds with VIDEOPRISM_CUDA): each transformer
  // block's output projection and second FFN matmul add their bias and the
  // residual in the GEMM (one cuBLASLt call with beta = 1 and a bias epilogue)
  // instead of a separate pass. Same arithmetic up to bf16 rounding order.
  // Off by default until measured on a GPU (docs/cuda.md).
  bool fused_residual = false;
  // CPU float32 inference: the projection GEMMs through oneDNN with weights
  // packed once and bias, GELU and residual in the GEMM (kOneDnn), or through
  // libtorch's BLAS, OpenBLAS on Debian (kOpenBlas). docs/performance.md has
  // the measurements behind the default.
  CpuGemm cpu_gemm = CpuGemm::kOneDnn;
};


// Parses "f32"/"float32"/"bf16"/"bfloat16" (for CLI flags).
torch::ScalarType parse_dtype(const std::string& name);
// The one device parser (CLI flags, training configs, Python): "cpu",
// "cuda[:N]". "cuda" is the process's GPU under torchrun (LOCAL_RANK, else 0).
// Errors start with `who` ("--device", "stage1: \"device\"") and quote the
// name. available_device also requires that the CUDA device exist (training
// checks it at start; inference in apply_run_options, after the run's other
// options).
torch::Device parse_device(const std::string& name, const std::string& who = "--device");
torch::Device available_device(const std::string& name, const std::string& who = "--device");
// Applies threads (if > 0) and checks the device is available.
void apply_run_options(const RunOptions& options);

// Sets the compute threads to n (n <= 0: leaves them): libtorch's intra-op
// threads and, when libtorch's BLAS is OpenBLAS (Debian's float32 path),
// OpenBLAS's own pool, which is sized to the machine and otherwise ignores
// `--threads` (its extra threads then fight libtorch's for the cores).
void set_compute_threads(int n);

class Model {
 public:
  // Builds the module tree with uninitialized float32 parameters.
  explicit Model(const ModelConfig& config);

  // Reads a checkpoint; `config` null means detect the model from the keys and
  // shapes. Strict: every array must match a parameter by name, shape and dtype.
  static Model load(const std::string& npz_path, const ModelConfig* config = nullptr);

  // Fills the parameters from a released-layout .npz, straight into their
  // storage (no second copy). Strict like load().
  void load_weights(const std::string& npz_path);
  // Writes the parameters as a released-layout .npz (atomically).
  void save(const std::string& npz_path) const;
  // Random initialization for training from scratch and benchmarks.
  void init_random(uint64_t seed);

  const ModelConfig& config() const { return config_; }
  int64_t num_params() const;
  // (checkpoint key "params/...", parameter) in the module tree's order.
  std::vector<std::pair<std::string, torch::Tensor>> named_arrays() const;
  torch::nn::Module& module() { return *module_; }
  std::shared_ptr<torch::nn::Module> module_ptr() const { return module_; }

  // Moves parameters to a device (they stay float32).
  void to(const torch::Device& device);
  // For inference: moves parameters to the run device and, on CUDA with
  // bfloat16 activations, stores them in bfloat16 (half the weight memory, no
  // cast at every use). On the CPU parameters stay float32. Not for training.
  void prepare_for_inference(const RunOptions& options);

  // Runs the model on named inputs and returns every output the reference
  // returns, under the golden fixtures' names:
  //   inputs: `inputs` [B,T,H,W,3], optional `frame_paddings` [B,T],
  //           `text_token_ids` [B',L] + `text_paddings` [B',L] (video-text model).
  //   encoder: embeddings, spatial_features
  //   video-text: video_embeddings(_unnormalized), spatial_features,
  //               spatiotemporal_features, frame_embeddings,
  //               text_embeddings(_unnormalized)
  //   classifier: logits, spatial_features, spatiotemporal_features, global_embeddings
  // Outputs come back as float32 on the CPU.
  TensorMap forward(const TensorMap& inputs, const RunOptions& options = {});

  // Typed entry points (tensors on the run device, in the run dtype).
  TensorMap encode_video(const torch::Tensor& video, const torch::Tensor& frame_paddings, const RunOptions& options);
  TensorMap encode_text(const torch::Tensor& ids, const torch::Tensor& paddings, const RunOptions& options);

 private:
  ModelConfig config_;
  std::shared_ptr<torch::nn::Module> module_;
};

// Detects the model kind and configuration from a checkpoint's keys and shapes.
// Released checkpoints carry no attention cap or causal flag: the detected
// config uses the released values (cap 50, causal text). A stack whose norms
// are named `layer_norm` is taken as `pre` (post / post_skip use the same names
// and need an explicit config).
ModelConfig detect_config(const std::string& npz_path);
// The preset whose parameter shapes equal this config's, or nullptr.
const Preset* match_preset(const ModelConfig& config);

// The model a user names, resolved once at the boundary (CLI flags, Python,
// the index): `model` is a preset name or a model-config JSON file; empty
// means detected from `checkpoint` (detect_config). Both empty is an error.
ModelConfig resolve_model_config(const std::string& model, const std::string& checkpoint = "");

}  // namespace videoprism
