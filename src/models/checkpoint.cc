// Loading and saving released-layout checkpoints: a 1:1 walk of the module
// tree's parameters (`a.b.c` <-> `params/a/b/c`), and detection of the model
// from a checkpoint's keys and shapes.
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>

#include "layers/packed_weights.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism {

Model Model::load(const std::string& npz_path, const ModelConfig* config) {
  Model model(config != nullptr ? *config : detect_config(npz_path));
  model.load_weights(npz_path);
  return model;
}

void Model::load_weights(const std::string& npz_path) {
  NpzReader reader(npz_path);
  auto arrays = named_arrays();
  std::set<std::string> expected;
  for (const auto& [key, param] : arrays) expected.insert(key);
  for (const auto& key : reader.keys()) {
    check(expected.count(key) > 0, npz_path, ": unexpected array '", key, "' for a ", to_string(config_.kind),
          " with this config (", expected.size(), " parameters)");
  }
  torch::NoGradGuard no_grad;
  clear_packed_weights(*module_);  // made from the old values
  for (auto& [key, param] : arrays) {
    check(reader.contains(key), npz_path, ": missing array '", key, "' (expected ", shape_str(param.sizes()), ")");
    const NpyInfo& info = reader.info(key);
    check(info.shape == param.sizes().vec(), npz_path, ": '", key, "' expected ", shape_str(param.sizes()), ", got ",
          shape_str(info.shape));
    check(info.dtype == torch::kFloat32, npz_path, ": '", key, "' expected float32 (<f4), got ", info.descr);
    if (param.device().is_cpu() && param.is_contiguous()) {
      torch::Tensor target = param;
      reader.read_into(key, target);
    } else {
      param.copy_(reader.read(key));
    }
  }
}

void Model::save(const std::string& npz_path) const {
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (auto& [key, param] : named_arrays()) arrays.emplace_back(key, param.detach().to(torch::kCPU, torch::kFloat32));
  save_npz(npz_path, arrays, /*compress=*/false);
}

namespace {

// Shape of a checkpoint array, or an error naming what detection needed.
struct Shapes {
  const NpzReader& reader;
  const std::string& path;
  bool has(const std::string& key) const { return reader.contains(key); }
  // The array's shape, checked to have one of the ranks detection reads
  // (a 0-d or wrong-rank array is an error, not an out-of-bounds read) and
  // dimensions that fit the config's int fields.
  std::vector<int64_t> operator()(const std::string& key, std::initializer_list<size_t> ranks) const {
    check(reader.contains(key), path, ": cannot detect the model: missing '", key, "'");
    const std::vector<int64_t>& shape = reader.info(key).shape;
    bool rank_ok = false;
    std::string expected;
    for (size_t r : ranks) {
      rank_ok = rank_ok || shape.size() == r;
      expected += (expected.empty() ? "" : " or ") + std::to_string(r);
    }
    check(rank_ok, path, ": cannot detect the model: '", key, "' expected rank ", expected, ", got shape ",
          shape_str(shape));
    for (int64_t d : shape) {
      check(d > 0 && d <= std::numeric_limits<int32_t>::max(), path, ": cannot detect the model: '", key,
            "' has dimension ", d, ", expected 1..", std::numeric_limits<int32_t>::max(), " (shape ",
            shape_str(shape), ")");
    }
    return shape;
  }
};

// Layer count, scan flag and norm policy of a stack under `prefix`
// (".../transformers_stack" or "text_encoder/unimodal_transformer").
struct StackInfo {
  int num_layers = 0;
  bool scan = true;
  NormPolicy policy = NormPolicy::kPre;
  int num_heads = 0;
  int mlp_dim = 0;
};

StackInfo detect_stack(const Shapes& shapes, const std::string& prefix) {
  StackInfo info;
  const std::string scanned = prefix + "/x_layers/";
  std::string block;
  if (shapes.has(scanned + "self_attention/query/w")) {
    block = scanned;
    info.num_layers = static_cast<int>(shapes(scanned + "self_attention/query/w", {4})[0]);
    info.scan = true;
  } else {
    info.scan = false;
    while (shapes.has(prefix + "/x_layers_" + std::to_string(info.num_layers) + "/self_attention/query/w")) {
      ++info.num_layers;
    }
    if (info.num_layers == 0) return info;
    block = prefix + "/x_layers_0/";
  }
  const size_t stacked = info.scan ? 1 : 0;
  auto w = shapes(block + "self_attention/query/w", {3 + stacked});  // [L?, D, N, H]
  info.num_heads = static_cast<int>(w[w.size() - 2]);
  auto k = shapes(block + "ff_layer/ffn_layer1/linear/kernel", {2 + stacked});  // [L?, D, F]
  info.mlp_dim = static_cast<int>(k.back());
  info.policy = shapes.has(block + "pre_layer_norm/scale") ? NormPolicy::kPrimerHybrid : NormPolicy::kPre;
  return info;
}

int isqrt_exact(int64_t n, const std::string& what) {
  int r = static_cast<int>(std::llround(std::sqrt(static_cast<double>(n))));
  check(int64_t(r) * r == n, what, ": ", n, " is not a square");
  return r;
}

EncoderConfig detect_encoder(const Shapes& shapes, const std::string& e) {
  EncoderConfig c;
  auto kernel = shapes(e + "patch_projection/linear/kernel", {2});  // [P*P*3, D]
  c.model_dim = static_cast<int>(kernel[1]);
  check(kernel[0] % 3 == 0, shapes.path, ": patch_projection kernel rows ", kernel[0], " is not P*P*3");
  c.patch_size = isqrt_exact(kernel[0] / 3, shapes.path + ": patch size");
  const int grid = isqrt_exact(shapes(e + "spatial_pos_emb/emb_var", {2})[0], shapes.path + ": spatial_pos_emb (square grid expected)");
  c.pos_emb_shape = {static_cast<int>(shapes(e + "temporal_pos_emb/emb_var", {2})[0]), grid, grid};
  StackInfo spatial = detect_stack(shapes, e + "spatial_encoder/transformers_stack");
  StackInfo temporal = detect_stack(shapes, e + "temporal_encoder/transformers_stack");
  c.num_spatial_layers = spatial.num_layers;
  c.num_temporal_layers = temporal.num_layers;
  const StackInfo& any = spatial.num_layers > 0 ? spatial : temporal;
  check(any.num_layers > 0, shapes.path, ": cannot detect the model: the encoder has no transformer layers");
  c.num_heads = any.num_heads;
  c.mlp_dim = any.mlp_dim;
  c.scan = any.scan;
  c.norm_policy = any.policy;
  c.atten_logit_cap = 50.0;  // every released VideoPrism uses 50
  return c;
}

}  // namespace

ModelConfig detect_config(const std::string& npz_path) {
  NpzReader reader(npz_path);
  Shapes shapes{reader, npz_path};
  std::vector<std::string> keys = reader.keys();
  ModelConfig config;
  if (shapes.has("params/vision_encoder/patch_projection/linear/kernel")) {
    config.kind = ModelKind::kVideoClip;
    config.encoder = detect_encoder(shapes, "params/vision_encoder/");
    config.encoder.norm_policy = NormPolicy::kPre;
    StackInfo aux = detect_stack(shapes, "params/auxiliary_encoder/transformers_stack");
    config.num_auxiliary_layers = aux.num_layers;
    StackInfo text = detect_stack(shapes, "params/text_encoder/unimodal_transformer");
    config.num_unimodal_layers = text.num_layers;
    config.text_norm_policy = text.policy;
    config.vocabulary_size = static_cast<int>(shapes("params/text_encoder/token_emb/emb_var", {2})[0]);
    config.enable_causal_atten = true;
  } else if (shapes.has("params/encoder/patch_projection/linear/kernel")) {
    config.kind = ModelKind::kVideoClassifier;
    config.encoder = detect_encoder(shapes, "params/encoder/");
    config.num_classes = static_cast<int>(shapes("params/projection/linear/kernel", {2})[1]);
  } else if (shapes.has("params/patch_projection/linear/kernel")) {
    config.kind = ModelKind::kEncoder;
    config.encoder = detect_encoder(shapes, "params/");
  } else {
    fail(npz_path, ": cannot detect the model: no 'params/patch_projection', 'params/vision_encoder/...' or "
                   "'params/encoder/...' arrays (", keys.size(), " arrays, first '", keys.empty() ? "" : keys[0], "')");
  }
  config.validate();
  return config;
}

const Preset* match_preset(const ModelConfig& config) {
  for (const auto& preset : presets()) {
    const ModelConfig& p = preset.config;
    const EncoderConfig &a = p.encoder, &b = config.encoder;
    bool same = p.kind == config.kind && a.patch_size == b.patch_size && a.pos_emb_shape == b.pos_emb_shape &&
                a.model_dim == b.model_dim && a.num_spatial_layers == b.num_spatial_layers &&
                a.num_temporal_layers == b.num_temporal_layers && a.num_heads == b.num_heads &&
                a.mlp_dim == b.mlp_dim && a.scan == b.scan;
    if (same && p.kind == ModelKind::kVideoClip) {
      same = p.num_auxiliary_layers == config.num_auxiliary_layers && p.vocabulary_size == config.vocabulary_size &&
             p.num_unimodal_layers == config.num_unimodal_layers && p.text_norm_policy == config.text_norm_policy;
    }
    if (same) return &preset;
  }
  return nullptr;
}

}  // namespace videoprism
