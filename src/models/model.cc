#include "videoprism/core/model.h"

#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "encoders/factorized_encoder.h"
#include "layers/feed_forward.h"
#include "layers/packed_weights.h"
#include "layers/epilogues.h"
#include "models/model_modules.h"
#include "ops/blas_threads.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"
#include "videoprism/core/profile.h"

namespace videoprism {

torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "f32" || name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  if (name == "int8") return torch::kQInt8;
  fail_arg("--dtype: expected f32, bf16 or int8, got '", name, "'");
}


namespace {

// The per-call layer options a RunOptions asks for (layers/epilogues.h).
EpilogueOptions epilogue_options(const RunOptions& options) {
  EpilogueOptions e;
  e.approximate_gelu = options.approximate_gelu;
  e.fused_residual = options.fused_residual;
  e.int8_gemms = options.dtype == torch::kQInt8;
  e.packed_f32_gemms =
      options.dtype == torch::kFloat32 && options.device.is_cpu() && options.cpu_gemm == CpuGemm::kOneDnn;
  return e;
}

}  // namespace

torch::Device parse_device(const std::string& name, const std::string& who) {
  if (name == "cpu") return torch::kCPU;
  int64_t index = -1;
  if (name == "cuda") {
    // One process per GPU under torchrun: LOCAL_RANK picks this process's GPU.
    const char* local = std::getenv("LOCAL_RANK");
    index = (local != nullptr && *local != '\0') ? std::atoi(local) : 0;
  } else if (name.rfind("cuda:", 0) == 0 && name.size() > 5 &&
             name.find_first_not_of("0123456789", 5) == std::string::npos && name.size() <= 8) {
    index = std::stoi(name.substr(5));
  } else {
    fail_arg(who, ": expected cpu, cuda or cuda:N, got \"", name, "\"");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Device available_device(const std::string& name, const std::string& who) {
  const torch::Device device = parse_device(name, who);
  if (device.is_cpu()) return device;
  const int64_t index = device.index();
  check(torch::cuda::is_available(), who, ": \"", name,
        "\" needs CUDA, but torch::cuda::is_available() is false (a CPU-only libtorch, or no visible GPU); "
        "use \"cpu\"");
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  check(index < count, who, ": \"", name, "\" asks for GPU ", index, " but ", count, " CUDA device(s) are visible");
  return device;
}

void set_compute_threads(int n) {
  if (n <= 0) return;
  // set_num_threads costs milliseconds even when nothing changes (it resets
  // the thread pools): 6 ms of a 7 ms tiny forward before this check.
  if (torch::get_num_threads() != n) torch::set_num_threads(n);
  // OpenBLAS is libtorch's dependency, not ours: its pool, if loaded.
  ops::set_blas_num_threads(n);
}

void apply_run_options(const RunOptions& options) {
  if (options.dtype == torch::kQInt8)
    check_arg(options.device.is_cpu(), "--dtype int8: CPU only (oneDNN int8 GEMMs), got --device ",
              options.device.str(), "; use --dtype bf16 on CUDA");
  check_threads("--threads", options.threads);
  set_compute_threads(options.threads);
  if (options.device.is_cuda()) {
    check(torch::cuda::is_available(), "--device cuda: this build of libtorch has no CUDA device available");
  }
  check(options.dtype == torch::kFloat32 || options.dtype == torch::kBFloat16 || options.dtype == torch::kQInt8,
        "dtype: expected float32, bfloat16 or int8, got ", options.dtype);
}

Model::Model(const ModelConfig& config) : config_(config) {
  config_.validate();
  switch (config_.kind) {
    case ModelKind::kEncoder:
      module_ = std::make_shared<FactorizedEncoderImpl>(config_.encoder);
      break;
    case ModelKind::kVideoClip:
      module_ = std::make_shared<FactorizedVideoCLIPImpl>(config_);
      break;
    case ModelKind::kVideoClassifier:
      module_ = std::make_shared<FactorizedVideoClassifierImpl>(config_);
      break;
  }
  module_->eval();
}

int64_t Model::num_params() const {
  int64_t n = 0;
  for (const auto& p : module_->parameters()) n += p.numel();
  return n;
}

std::vector<std::pair<std::string, torch::Tensor>> Model::named_arrays() const {
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (const auto& item : module_->named_parameters()) {
    std::string key = "params/" + item.key();
    for (char& c : key) c = c == '.' ? '/' : c;
    arrays.emplace_back(key, item.value());
  }
  return arrays;
}

void Model::to(const torch::Device& device) { module_->to(device); }

void Model::prepare_for_inference(const RunOptions& options) {
  if (options.dtype == torch::kQInt8)
    check_arg(options.device.is_cpu(), "--dtype int8: CPU only (oneDNN int8 GEMMs), got --device ",
              options.device.str(), "; use --dtype bf16 on CUDA");
  if (options.device.is_cuda() && options.dtype == torch::kBFloat16) {
    module_->to(options.device, torch::kBFloat16);
  } else {
    module_->to(options.device);
  }
  if (options.dtype == torch::kQInt8) prepare_packed_weights(*module_, PackedKind::kInt8);
  if (epilogue_options(options).packed_f32_gemms) prepare_packed_weights(*module_, PackedKind::kF32);
}

void Model::init_random(uint64_t seed) {
  torch::NoGradGuard no_grad;
  clear_packed_weights(*module_);
  torch::manual_seed(seed);
  for (auto& [key, p] : named_arrays()) {
    const std::string leaf = key.substr(key.rfind('/') + 1);
    const std::string parent = key.substr(0, key.rfind('/'));
    const auto& s = p.sizes();
    if (leaf == "bias" || leaf == "b" || leaf == "scale" || leaf == "per_dim_scale") {
      p.zero_();  // LN scale is an offset from 1; softplus(0)*1.4427 = 1
    } else if (leaf == "emb_var" || leaf == "cls_emb" || leaf == "pooling_attention_query") {
      p.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(s.back())));
    } else if (leaf == "w") {
      // [L?, D, N, H]: fan-in D for q/k/v; N*H for the output projection.
      const bool output = parent.size() >= 4 && parent.compare(parent.size() - 4, 4, "post") == 0;
      const int64_t d = s[s.size() - 3], nh = s[s.size() - 2] * s[s.size() - 1];
      p.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(output ? nh : d)));
    } else if (leaf == "kernel") {
      p.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(s[s.size() - 2])));
    } else {
      fail("init_random: no rule for parameter ", key);
    }
  }
}

TensorMap Model::encode_video(const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const RunOptions& options) {
  EpilogueScope epilogues(epilogue_options(options));
  TensorMap out;
  switch (config_.kind) {
    case ModelKind::kEncoder: {
      EncoderOutputs r = encoder_module(*this, "encode_video").forward(video, frame_paddings);
      out["embeddings"] = r.embeddings;
      out["spatial_features"] = r.spatial_features;
      break;
    }
    case ModelKind::kVideoClip: {
      VideoClipOutputs r =
          video_clip_module(*this, "encode_video").encode_video(video, frame_paddings, options.frame_embeddings);
      out["video_embeddings"] = r.video_embeddings;
      out["video_embeddings_unnormalized"] = r.video_embeddings_unnormalized;
      out["spatial_features"] = r.spatial_features;
      out["spatiotemporal_features"] = r.spatiotemporal_features;
      if (r.frame_embeddings.defined()) out["frame_embeddings"] = r.frame_embeddings;
      break;
    }
    case ModelKind::kVideoClassifier: {
      ClassifierOutputs r = classifier_module(*this, "encode_video").forward(video, frame_paddings);
      out["logits"] = r.logits;
      out["spatial_features"] = r.spatial_features;
      out["spatiotemporal_features"] = r.spatiotemporal_features;
      out["global_embeddings"] = r.global_embeddings;
      break;
    }
  }
  return out;
}

TensorMap Model::encode_text(const torch::Tensor& ids, const torch::Tensor& paddings, const RunOptions& options) {
  EpilogueScope epilogues(epilogue_options(options));
  check_arg(config_.kind == ModelKind::kVideoClip, "text_token_ids: the ", to_string(config_.kind),
        " model has no text tower");
  TextOutputs r = video_clip_module(*this, "encode_text").encode_text(ids, paddings);
  return {{"text_embeddings", r.text_embeddings}, {"text_embeddings_unnormalized", r.text_embeddings_unnormalized}};
}

TensorMap Model::forward(const TensorMap& inputs, const RunOptions& options) {
  std::optional<profile::Region> inputs_region(std::in_place, "inputs");
  apply_run_options(options);
  torch::NoGradGuard no_grad;
  for (const auto& [name, value] : inputs) {
    check_arg(name == "inputs" || name == "frame_paddings" || name == "text_token_ids" || name == "text_paddings",
          "inputs: unknown array '", name, "'; expected inputs, frame_paddings, text_token_ids, text_paddings");
  }
  auto get = [&](const char* name) {
    auto it = inputs.find(name);
    return it == inputs.end() ? torch::Tensor() : it->second;
  };
  torch::Tensor video = get("inputs"), frame_paddings = get("frame_paddings");
  torch::Tensor ids = get("text_token_ids"), text_paddings = get("text_paddings");
  check_arg(video.defined() || ids.defined(), "inputs: expected an array 'inputs' [B,T,H,W,3]",
        config_.kind == ModelKind::kVideoClip ? " and/or 'text_token_ids'" : "");
  check_arg(!(ids.defined() ^ text_paddings.defined()), "inputs: 'text_token_ids' and 'text_paddings' come together");
  if (frame_paddings.defined()) check_arg(video.defined(), "inputs: 'frame_paddings' without 'inputs'");

  TensorMap out;
  if (video.defined()) {
    check_arg(video.is_floating_point(), "inputs: expected a float video, got ", video.scalar_type());
    check_arg(video.dim() == 5, "inputs: expected [B,T,H,W,3], got ", shape_str(video.sizes()));
    check_arg(video.size(0) > 0 && video.size(1) > 0 && video.size(2) > 0 && video.size(3) > 0,
          "inputs: expected [B,T,H,W,3] with B, T, H, W > 0, got ", shape_str(video.sizes()));
    const torch::ScalarType dtype = activation_dtype(options.dtype);
    torch::Tensor v = video.to(options.device, dtype);
    torch::Tensor fp = frame_paddings.defined() ? frame_paddings.to(options.device, dtype) : torch::Tensor();
    // All-zero paddings mean the same as none (tested); skipping them saves the
    // masks and the FFN re-masking on every layer.
    if (fp.defined()) {
      check_arg(fp.dim() == 2 && fp.size(0) == video.size(0) && fp.size(1) == video.size(1), "frame_paddings: expected [",
            video.size(0), ",", video.size(1), "], got ", shape_str(fp.sizes()));
      if (!(fp != 0).any().item<bool>()) fp = torch::Tensor();
    }
    inputs_region.reset();
    out = encode_video(v, fp, options);
  }
  inputs_region.reset();
  if (ids.defined()) {
    TensorMap text = encode_text(ids.to(options.device), text_paddings.to(options.device, activation_dtype(options.dtype)), options);
    out.insert(text.begin(), text.end());
  }
  profile::Region region("outputs");
  for (auto& [name, value] : out) value = value.to(torch::kCPU, torch::kFloat32).contiguous();
  return out;
}

ModelConfig resolve_model_config(const std::string& model, const std::string& checkpoint) {
  if (!model.empty()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(model, ec)) return load_config_file(model);
    return find_preset(model).config;
  }
  check_arg(!checkpoint.empty(), "model: expected a preset name, a model config .json or a checkpoint, got none");
  return detect_config(checkpoint);
}

}  // namespace videoprism
