// Model configuration: plain structs mirroring the official keyword arguments
// (videoprism/encoders.py), validated once, plus the preset registry.
//
// Runtime options (device, dtype, threads, batch) are not configuration; they
// live in RunOptions (videoprism/model.h).
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace videoprism {

// Normalization placement inside a transformer block (official `norm_policy`).
//   pre:           LN before attention / FFN (keys `layer_norm`).
//   primer_hybrid: LN before and after (keys `pre_layer_norm`, `post_layer_norm`).
//   post:          LN on the branch output before the residual add (`layer_norm`).
//   post_skip:     LN after the residual add (`layer_norm`).
enum class NormPolicy { kPre, kPrimerHybrid, kPost, kPostSkip };
NormPolicy parse_norm_policy(const std::string& name);
std::string to_string(NormPolicy policy);

// FactorizedEncoder(...) keyword arguments.
struct EncoderConfig {
  int patch_size = 18;
  std::array<int, 3> pos_emb_shape{16, 16, 16};  // (T, H, W) of the learned embeddings
  int model_dim = 768;
  int num_spatial_layers = 12;
  int num_temporal_layers = 4;
  int num_heads = 12;
  int mlp_dim = 3072;
  double atten_logit_cap = 0.0;  // 0 disables the cap
  NormPolicy norm_policy = NormPolicy::kPre;
  bool scan = true;  // stacked `x_layers` (true) or `x_layers_{i}` (false)
};

enum class ModelKind { kEncoder, kVideoClip, kVideoClassifier };
std::string to_string(ModelKind kind);  // official class names

// One model: the video encoder plus, by kind, the text tower or classifier head.
struct ModelConfig {
  ModelKind kind = ModelKind::kEncoder;
  EncoderConfig encoder;
  // FactorizedVideoCLIP. The vision encoder and auxiliary layers always use
  // `pre`; `text_norm_policy` is the CLIP's `norm_policy` (text tower only).
  int num_auxiliary_layers = 0;
  int vocabulary_size = 128;
  bool enable_causal_atten = true;
  int num_unimodal_layers = 12;
  NormPolicy text_norm_policy = NormPolicy::kPre;
  // FactorizedVideoClassifier.
  int num_classes = 0;

  // Throws videoprism::Error naming the first invalid field.
  void validate() const;
  // Number of parameters of the model this config builds.
  int64_t num_params() const;
};

// Official case.json / config dict <-> ModelConfig. Accepts the golden
// fixtures' `config` object (with `kind`) or a whole case.json (with `config`).
ModelConfig config_from_json(const nlohmann::json& j);
nlohmann::json config_to_json(const ModelConfig& config);
ModelConfig load_config_file(const std::string& path);
// The bare-encoder config of a video-text model: its vision encoder as a
// FactorizedEncoder (the stage-2 student's and its checkpoint's).
ModelConfig encoder_model_config(const ModelConfig& clip);

struct Preset {
  std::string name;             // official model name, e.g. videoprism_lvt_public_v1_base
  std::string config_name;      // official CONFIGS key, e.g. videoprism_lvt_v1_base
  std::string hf_repo;          // Hugging Face id, empty for unreleased configs
  std::string hf_file;          // checkpoint file in that repository
  ModelConfig config;
  int default_num_frames = 16;  // frames of the released checkpoint
  int default_image_size = 288;
};

const std::vector<Preset>& presets();
// By official model name, config name or Hugging Face id. Throws listing the known names.
const Preset& find_preset(const std::string& name);

}  // namespace videoprism

namespace videoprism {
// Multiply-add FLOPs (2 per MAC) of one forward pass of the video encoder on a
// T x H x W clip: patch projection, both transformer stacks (projections, FFN,
// QK^T and PV). VideoPrism-B at 16x288x288 is 0.973 TFLOP.
double encoder_flops_per_clip(const EncoderConfig& config, int64_t t, int64_t h, int64_t w);
}  // namespace videoprism

namespace videoprism {
// FLOPs of the video side of a whole model on one clip: the encoder plus, for
// the video-text model, the auxiliary layers (global attention over all T*N
// tokens) and the pooler; for the classifier, its pooler and projection.
double video_flops_per_clip(const ModelConfig& config, int64_t t, int64_t h, int64_t w);
}  // namespace videoprism
