#include "videoprism/core/config.h"

#include <cerrno>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/json_value.h"
#include "videoprism/core/error.h"

namespace videoprism {

NormPolicy parse_norm_policy(const std::string& name) {
  if (name == "pre") return NormPolicy::kPre;
  if (name == "primer_hybrid") return NormPolicy::kPrimerHybrid;
  if (name == "post") return NormPolicy::kPost;
  if (name == "post_skip") return NormPolicy::kPostSkip;
  fail("norm_policy: expected one of pre, primer_hybrid, post, post_skip, got '", name, "'");
}

std::string to_string(NormPolicy policy) {
  switch (policy) {
    case NormPolicy::kPre: return "pre";
    case NormPolicy::kPrimerHybrid: return "primer_hybrid";
    case NormPolicy::kPost: return "post";
    case NormPolicy::kPostSkip: return "post_skip";
  }
  return "?";
}

std::string to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::kEncoder: return "FactorizedEncoder";
    case ModelKind::kVideoClip: return "FactorizedVideoCLIP";
    case ModelKind::kVideoClassifier: return "FactorizedVideoClassifier";
  }
  return "?";
}

namespace {

ModelKind parse_kind(const std::string& name) {
  if (name == "FactorizedEncoder") return ModelKind::kEncoder;
  if (name == "FactorizedVideoCLIP") return ModelKind::kVideoClip;
  if (name == "FactorizedVideoClassifier") return ModelKind::kVideoClassifier;
  fail("config kind: expected FactorizedEncoder, FactorizedVideoCLIP or FactorizedVideoClassifier, got '",
       name, "'");
}

// Keys each kind accepts; anything else is an error so typos do not pass silently.
const std::vector<std::string> kEncoderKeys = {
    "patch_size", "pos_emb_shape", "model_dim", "num_spatial_layers", "num_temporal_layers",
    "num_heads", "mlp_dim", "atten_logit_cap", "norm_policy", "scan"};
const std::vector<std::string> kClipKeys = {
    "patch_size", "pos_emb_shape", "model_dim", "num_spatial_layers", "num_temporal_layers",
    "num_heads", "mlp_dim", "atten_logit_cap", "norm_policy", "scan", "num_auxiliary_layers",
    "vocabulary_size", "enable_causal_atten", "num_unimodal_layers"};

void check_keys(const nlohmann::json& j, const std::vector<std::string>& allowed,
                const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "kind") continue;
    bool known = false;
    for (const auto& k : allowed) known = known || k == it.key();
    check(known, where, ": unknown key '", it.key(), "'");
  }
}

// Range-checked (util/json_value.h): 4294967344 is an error, not 48.
template <typename T>
void get_if(const nlohmann::json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  out = json_value<T>(j.at(key), std::string("config key '") + key + "'");
}

EncoderConfig encoder_from_json(const nlohmann::json& j) {
  EncoderConfig c;
  get_if(j, "patch_size", c.patch_size);
  if (j.contains("pos_emb_shape")) {
    const nlohmann::json& v = j.at("pos_emb_shape");
    check(v.is_array() && v.size() == 3, "config pos_emb_shape: expected 3 values (T,H,W), got ", v.dump());
    for (int i = 0; i < 3; ++i) c.pos_emb_shape[i] = json_value<int>(v[i], "config key 'pos_emb_shape'");
  }
  get_if(j, "model_dim", c.model_dim);
  get_if(j, "num_spatial_layers", c.num_spatial_layers);
  get_if(j, "num_temporal_layers", c.num_temporal_layers);
  get_if(j, "num_heads", c.num_heads);
  get_if(j, "mlp_dim", c.mlp_dim);
  get_if(j, "atten_logit_cap", c.atten_logit_cap);
  if (j.contains("norm_policy")) c.norm_policy = parse_norm_policy(j.at("norm_policy").get<std::string>());
  get_if(j, "scan", c.scan);
  return c;
}

nlohmann::json encoder_to_json(const EncoderConfig& c) {
  return {{"patch_size", c.patch_size},
          {"pos_emb_shape", {c.pos_emb_shape[0], c.pos_emb_shape[1], c.pos_emb_shape[2]}},
          {"model_dim", c.model_dim},
          {"num_spatial_layers", c.num_spatial_layers},
          {"num_temporal_layers", c.num_temporal_layers},
          {"num_heads", c.num_heads},
          {"mlp_dim", c.mlp_dim},
          {"atten_logit_cap", c.atten_logit_cap},
          {"norm_policy", to_string(c.norm_policy)},
          {"scan", c.scan}};
}

}  // namespace

ModelConfig config_from_json(const nlohmann::json& input) {
  check(input.is_object(), "config: expected a JSON object");
  const nlohmann::json& j = input.contains("config") ? input.at("config") : input;
  check(j.contains("kind"), "config: missing 'kind' (FactorizedEncoder, FactorizedVideoCLIP or FactorizedVideoClassifier)");
  check(j.at("kind").is_string(), "config: 'kind' expected a string (FactorizedEncoder, FactorizedVideoCLIP or "
        "FactorizedVideoClassifier), got ", j.at("kind").dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  ModelConfig c;
  c.kind = parse_kind(j.at("kind").get<std::string>());
  switch (c.kind) {
    case ModelKind::kEncoder:
      check_keys(j, kEncoderKeys, "FactorizedEncoder config");
      c.encoder = encoder_from_json(j);
      break;
    case ModelKind::kVideoClip: {
      check_keys(j, kClipKeys, "FactorizedVideoCLIP config");
      c.encoder = encoder_from_json(j);
      // The CLIP's norm_policy applies to its text tower; the vision side is always pre.
      c.text_norm_policy = c.encoder.norm_policy;
      c.encoder.norm_policy = NormPolicy::kPre;
      get_if(j, "num_auxiliary_layers", c.num_auxiliary_layers);
      get_if(j, "vocabulary_size", c.vocabulary_size);
      get_if(j, "enable_causal_atten", c.enable_causal_atten);
      get_if(j, "num_unimodal_layers", c.num_unimodal_layers);
      break;
    }
    case ModelKind::kVideoClassifier:
      check_keys(j, {"encoder_params", "num_classes"}, "FactorizedVideoClassifier config");
      check(j.contains("encoder_params"), "FactorizedVideoClassifier config: missing 'encoder_params'");
      check_keys(j.at("encoder_params"), kEncoderKeys, "FactorizedVideoClassifier encoder_params");
      c.encoder = encoder_from_json(j.at("encoder_params"));
      get_if(j, "num_classes", c.num_classes);
      break;
  }
  c.validate();
  return c;
}

nlohmann::json config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  switch (c.kind) {
    case ModelKind::kEncoder:
      j = encoder_to_json(c.encoder);
      break;
    case ModelKind::kVideoClip:
      j = encoder_to_json(c.encoder);
      j["norm_policy"] = to_string(c.text_norm_policy);
      j["num_auxiliary_layers"] = c.num_auxiliary_layers;
      j["vocabulary_size"] = c.vocabulary_size;
      j["enable_causal_atten"] = c.enable_causal_atten;
      j["num_unimodal_layers"] = c.num_unimodal_layers;
      break;
    case ModelKind::kVideoClassifier:
      j["encoder_params"] = encoder_to_json(c.encoder);
      j["num_classes"] = c.num_classes;
      break;
  }
  j["kind"] = to_string(c.kind);
  return j;
}

ModelConfig load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in.good() && errno == ENOENT) fail_not_found("config: cannot open '", path, "' (no such file)");
  check(in.good(), "config: cannot open '", path, "'");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    fail("config: '", path, "' is not valid JSON: ", e.what());
  }
  try {
    return config_from_json(j);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
}

void ModelConfig::validate() const {
  const EncoderConfig& e = encoder;
  check(e.patch_size > 0, "config patch_size: expected > 0, got ", e.patch_size);
  for (int d : e.pos_emb_shape) check(d > 0, "config pos_emb_shape: expected positive values, got ", shape_str(e.pos_emb_shape));
  check(e.model_dim > 0, "config model_dim: expected > 0, got ", e.model_dim);
  check(e.num_heads > 0 && e.model_dim % e.num_heads == 0, "config num_heads: expected a divisor of model_dim ",
        e.model_dim, ", got ", e.num_heads);
  check(e.num_spatial_layers >= 0 && e.num_temporal_layers >= 0, "config layer counts: expected >= 0");
  check(e.mlp_dim > 0, "config mlp_dim: expected > 0, got ", e.mlp_dim);
  check(e.atten_logit_cap >= 0, "config atten_logit_cap: expected >= 0, got ", e.atten_logit_cap);
  if (kind == ModelKind::kVideoClip) {
    check(num_auxiliary_layers >= 0, "config num_auxiliary_layers: expected >= 0, got ", num_auxiliary_layers);
    check(vocabulary_size > 0, "config vocabulary_size: expected > 0, got ", vocabulary_size);
    check(num_unimodal_layers >= 0, "config num_unimodal_layers: expected >= 0, got ", num_unimodal_layers);
    check((4 * e.model_dim) % e.num_heads == 0, "config: pooler hidden 4*model_dim must divide by num_heads");
  }
  if (kind == ModelKind::kVideoClassifier) {
    check(num_classes > 0, "config num_classes: expected > 0, got ", num_classes);
  }
}

namespace {
int64_t transformer_params(int64_t d, int64_t mlp, NormPolicy policy) {
  int64_t attention = 4 * d * d + 4 * d;  // q,k,v,post weights and biases
  int64_t ffn = d * mlp + mlp + mlp * d + d;
  int64_t norms = policy == NormPolicy::kPrimerHybrid ? 4 : 2;  // LayerNorms per block
  return attention + ffn + norms * 2 * d;
}
int64_t pooler_params(int64_t d, int64_t hidden) {
  // query [1,D]; q/k/v [D,N,H'] + [N,H']; post [D,N,H'] + [D]; LayerNorm. per_dim_scale is added by the caller.
  return d + 3 * (d * hidden + hidden) + (hidden * d + d) + 2 * d;
}
}  // namespace

int64_t ModelConfig::num_params() const {
  const EncoderConfig& e = encoder;
  const int64_t d = e.model_dim, p = e.patch_size;
  int64_t n = p * p * 3 * d + d;                                                   // patch projection
  n += int64_t(e.pos_emb_shape[1]) * e.pos_emb_shape[2] * d + int64_t(e.pos_emb_shape[0]) * d;  // pos embs
  n += (e.num_spatial_layers + e.num_temporal_layers) * transformer_params(d, e.mlp_dim, e.norm_policy);
  n += 2 * 2 * d;  // spatial_ln, temporal_ln
  auto per_dim = [&](int64_t hidden) { return hidden / e.num_heads; };
  if (kind == ModelKind::kVideoClip) {
    n += num_auxiliary_layers * transformer_params(d, e.mlp_dim, NormPolicy::kPre);
    n += pooler_params(d, 4 * d) + per_dim(4 * d);
    n += int64_t(vocabulary_size) * d + d;  // token_emb, cls_emb
    n += num_unimodal_layers * transformer_params(d, 4 * d, text_norm_policy) + 2 * d;
  } else if (kind == ModelKind::kVideoClassifier) {
    n += pooler_params(d, d) + per_dim(d);
    n += d * num_classes + num_classes;
  }
  return n;
}

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = [] {
    auto encoder = [](int d, int heads, int mlp, int spatial, std::array<int, 3> pos) {
      EncoderConfig e;
      e.model_dim = d;
      e.num_heads = heads;
      e.mlp_dim = mlp;
      e.num_spatial_layers = spatial;
      e.num_temporal_layers = 4;
      e.pos_emb_shape = pos;
      e.patch_size = 18;
      e.atten_logit_cap = 50.0;
      return e;
    };
    auto video = [](EncoderConfig e) {
      ModelConfig c;
      c.kind = ModelKind::kEncoder;
      c.encoder = e;
      return c;
    };
    auto lvt = [](EncoderConfig e, int text_layers, NormPolicy text_norm) {
      ModelConfig c;
      c.kind = ModelKind::kVideoClip;
      c.encoder = e;
      c.num_auxiliary_layers = 2;
      c.vocabulary_size = 32000;  // c4_en SentencePiece
      c.enable_causal_atten = true;
      c.num_unimodal_layers = text_layers;
      c.text_norm_policy = text_norm;
      return c;
    };
    const EncoderConfig b = encoder(768, 12, 3072, 12, {16, 16, 16});
    const EncoderConfig l = encoder(1024, 16, 4096, 24, {8, 16, 16});
    const EncoderConfig g = encoder(1408, 16, 6144, 40, {8, 16, 16});
    return std::vector<Preset>{
        {"videoprism_public_v1_base", "videoprism_v1_base", "google/videoprism-base-f16r288",
         "flax_base_f16r288_repeated.npz", video(b), 16, 288},
        {"videoprism_public_v1_large", "videoprism_v1_large", "google/videoprism-large-f8r288",
         "flax_large_f8r288_repeated.npz", video(l), 8, 288},
        {"videoprism_v1_giant", "videoprism_v1_giant", "", "", video(g), 8, 288},
        {"videoprism_lvt_public_v1_base", "videoprism_lvt_v1_base", "google/videoprism-lvt-base-f16r288",
         "flax_lvt_base_f16r288_repeated.npz", lvt(b, 12, NormPolicy::kPre), 16, 288},
        {"videoprism_lvt_public_v1_large", "videoprism_lvt_v1_large", "google/videoprism-lvt-large-f8r288",
         "flax_lvt_large_f8r288_repeated.npz", lvt(l, 12, NormPolicy::kPre), 8, 288},
        {"videoprism_lvt_v1_giant", "videoprism_lvt_v1_giant", "", "", lvt(g, 16, NormPolicy::kPrimerHybrid), 8,
         288},
    };
  }();
  return all;
}

const Preset& find_preset(const std::string& name) {
  std::string known;
  for (const auto& p : presets()) {
    if (p.name == name || p.config_name == name || (!p.hf_repo.empty() && p.hf_repo == name)) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  fail("model: unknown preset '", name, "'; expected one of ", known,
       " (or a config name / Hugging Face id such as google/videoprism-base-f16r288)");
}

}  // namespace videoprism

namespace videoprism {

double encoder_flops_per_clip(const EncoderConfig& c, int64_t t, int64_t h, int64_t w) {
  const double d = c.model_dim, f = c.mlp_dim, p = c.patch_size;
  const double n = static_cast<double>(h / c.patch_size) * static_cast<double>(w / c.patch_size);
  const double tokens = n * static_cast<double>(t);
  const double dense = 2.0 * tokens * (4.0 * d * d + 2.0 * d * f);  // q,k,v,post + FFN, per layer
  const double spatial_attention = 4.0 * static_cast<double>(t) * n * n * d;
  const double temporal_attention = 4.0 * n * static_cast<double>(t) * static_cast<double>(t) * d;
  return 2.0 * tokens * p * p * 3.0 * d + c.num_spatial_layers * (dense + spatial_attention) +
         c.num_temporal_layers * (dense + temporal_attention);
}

}  // namespace videoprism

namespace videoprism {

double video_flops_per_clip(const ModelConfig& c, int64_t t, int64_t h, int64_t w) {
  const EncoderConfig& e = c.encoder;
  const double d = e.model_dim;
  const double tokens = static_cast<double>(t) * static_cast<double>(h / e.patch_size) *
                        static_cast<double>(w / e.patch_size);
  // One learned query: K and V projections of every token dominate.
  auto pooler = [&](double hidden) { return 2.0 * tokens * d * hidden * 2.0 + 4.0 * tokens * hidden; };
  double flops = encoder_flops_per_clip(e, t, h, w);
  if (c.kind == ModelKind::kVideoClip) {
    const double dense = 2.0 * tokens * (4.0 * d * d + 2.0 * d * e.mlp_dim);
    flops += c.num_auxiliary_layers * (dense + 4.0 * tokens * tokens * d);
    flops += pooler(4.0 * d);
  } else if (c.kind == ModelKind::kVideoClassifier) {
    flops += pooler(d) + 2.0 * d * c.num_classes;
  }
  return flops;
}

ModelConfig encoder_model_config(const ModelConfig& clip) {
  ModelConfig encoder;
  encoder.kind = ModelKind::kEncoder;
  encoder.encoder = clip.encoder;
  return encoder;
}


}  // namespace videoprism
