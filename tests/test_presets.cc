// Structural tests of the preset registry: every preset builds without
// weights, parameter counts equal the released checkpoints', key sets have the
// released sizes, lookups work by every name, and an .npz round trip is exact.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>

#include "test_util.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"

namespace videoprism {
namespace {

// Official counts of the released checkpoints (sum of array sizes).
const std::map<std::string, int64_t> kReleasedParams = {
    {"videoprism_public_v1_base", 114365184},
    {"videoprism_public_v1_large", 353965056},
    {"videoprism_lvt_public_v1_base", 247623424},
    {"videoprism_lvt_public_v1_large", 579877120},
};

int64_t count_elements(const Model& model) {
  int64_t total = 0;
  for (const auto& [key, t] : model.named_arrays()) total += t.numel();
  return total;
}

TEST(Presets, EveryPresetBuildsWithOfficialCounts) {
  std::set<std::string> seen;
  for (const Preset& preset : presets()) {
    SCOPED_TRACE(preset.name);
    EXPECT_TRUE(seen.insert(preset.name).second) << "duplicate preset";
    EXPECT_NO_THROW(preset.config.validate());
    Model model(preset.config);
    EXPECT_EQ(model.num_params(), preset.config.num_params());
    EXPECT_EQ(count_elements(model), model.num_params());
    const bool lvt = preset.config.kind == ModelKind::kVideoClip;
    auto it = kReleasedParams.find(preset.name);
    if (it != kReleasedParams.end()) {
      EXPECT_EQ(model.num_params(), it->second);
      EXPECT_EQ(preset.config.num_params(), it->second);
      EXPECT_EQ(model.named_arrays().size(), lvt ? 88u : 40u);
      EXPECT_FALSE(preset.hf_repo.empty());
    }
    for (const auto& [key, t] : model.named_arrays()) {
      EXPECT_EQ(key.rfind("params/", 0), 0u) << key;
      EXPECT_EQ(t.scalar_type(), torch::kFloat32) << key;
    }
  }
  for (const auto& [name, count] : kReleasedParams) EXPECT_EQ(seen.count(name), 1u) << name;
  EXPECT_EQ(seen.count("videoprism_v1_giant") + seen.count("videoprism_lvt_v1_giant"), 2u);
}

TEST(Presets, ReleasedKeysFollowTheCheckpointLayout) {
  Model base(find_preset("videoprism_public_v1_base").config);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [key, t] : base.named_arrays()) shapes[key] = t.sizes().vec();
  EXPECT_EQ(shapes.at("params/patch_projection/linear/kernel"), (std::vector<int64_t>{18 * 18 * 3, 768}));
  EXPECT_EQ(shapes.at("params/spatial_pos_emb/emb_var"), (std::vector<int64_t>{256, 768}));
  EXPECT_EQ(shapes.at("params/temporal_pos_emb/emb_var"), (std::vector<int64_t>{16, 768}));
  EXPECT_EQ(shapes.at("params/spatial_encoder/transformers_stack/x_layers/self_attention/query/w"),
            (std::vector<int64_t>{12, 768, 12, 64}));
  EXPECT_EQ(shapes.at("params/temporal_encoder/transformers_stack/x_layers/self_attention/post/b"),
            (std::vector<int64_t>{4, 768}));
  EXPECT_EQ(shapes.at("params/spatial_encoder/transformers_stack/x_layers/ff_layer/ffn_layer1/linear/kernel"),
            (std::vector<int64_t>{12, 768, 3072}));

  Model lvt(find_preset("videoprism_lvt_public_v1_large").config);
  shapes.clear();
  for (const auto& [key, t] : lvt.named_arrays()) shapes[key] = t.sizes().vec();
  EXPECT_EQ(shapes.at("params/vision_encoder/temporal_pos_emb/emb_var"), (std::vector<int64_t>{8, 1024}));
  EXPECT_EQ(shapes.at("params/auxiliary_encoder/transformers_stack/x_layers/layer_norm/scale"),
            (std::vector<int64_t>{2, 1024}));
  EXPECT_EQ(shapes.at("params/contrastive_vision_pooler/pooling_attention/query/w"),
            (std::vector<int64_t>{1024, 16, 256}));
  EXPECT_EQ(shapes.at("params/contrastive_vision_pooler/pooling_attention/per_dim_scale/per_dim_scale"),
            (std::vector<int64_t>{256}));
  EXPECT_EQ(shapes.at("params/text_encoder/token_emb/emb_var"), (std::vector<int64_t>{32000, 1024}));
  EXPECT_EQ(shapes.at("params/text_encoder/cls_emb"), (std::vector<int64_t>{1, 1, 1024}));
  EXPECT_EQ(shapes.at("params/text_encoder/unimodal_transformer/x_layers/ff_layer/ffn_layer1/linear/kernel"),
            (std::vector<int64_t>{12, 1024, 4096}));

  Model giant(find_preset("videoprism_lvt_v1_giant").config);
  int hybrid = 0;
  for (const auto& [key, t] : giant.named_arrays()) {
    if (key.find("text_encoder/unimodal_transformer/x_layers/pre_layer_norm") != std::string::npos) ++hybrid;
  }
  EXPECT_EQ(hybrid, 2);  // scale and bias
}

TEST(Presets, FindByEveryName) {
  const std::map<std::string, std::string> hf = {
      {"google/videoprism-base-f16r288", "videoprism_public_v1_base"},
      {"google/videoprism-large-f8r288", "videoprism_public_v1_large"},
      {"google/videoprism-lvt-base-f16r288", "videoprism_lvt_public_v1_base"},
      {"google/videoprism-lvt-large-f8r288", "videoprism_lvt_public_v1_large"},
  };
  for (const auto& [id, name] : hf) {
    EXPECT_EQ(find_preset(id).name, name);
    EXPECT_EQ(find_preset(name).hf_repo, id);
  }
  EXPECT_EQ(find_preset("videoprism_v1_base").name, "videoprism_public_v1_base");
  EXPECT_EQ(find_preset("videoprism_lvt_v1_large").name, "videoprism_lvt_public_v1_large");
  EXPECT_EQ(find_preset("videoprism_lvt_v1_giant").config.text_norm_policy, NormPolicy::kPrimerHybrid);
  EXPECT_EQ(find_preset("videoprism_public_v1_large").default_num_frames, 8);
  EXPECT_EQ(find_preset("videoprism_public_v1_base").default_num_frames, 16);
  for (const Preset& p : presets()) EXPECT_EQ(&find_preset(p.config_name), &p);
  EXPECT_THROW(find_preset("videoprism_v2_base"), Error);
  EXPECT_THROW(find_preset(""), Error);
  EXPECT_THROW(find_preset("google/videoprism-base"), Error);
  try {
    find_preset("nope");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

ModelConfig tiny(ModelKind kind) {
  ModelConfig c;
  c.kind = kind;
  c.encoder.patch_size = 6;
  c.encoder.pos_emb_shape = {4, 4, 4};
  c.encoder.model_dim = 48;
  c.encoder.num_heads = 4;
  c.encoder.num_spatial_layers = 2;
  c.encoder.num_temporal_layers = 2;
  c.encoder.mlp_dim = 96;
  c.encoder.atten_logit_cap = 50.0;  // what detection assumes for released files
  c.num_auxiliary_layers = 1;
  c.vocabulary_size = 100;
  c.num_unimodal_layers = 2;
  c.num_classes = 5;
  return c;
}

TEST(Presets, NpzRoundTrip) {
  for (ModelKind kind : {ModelKind::kEncoder, ModelKind::kVideoClip, ModelKind::kVideoClassifier}) {
    SCOPED_TRACE(to_string(kind));
    const ModelConfig config = tiny(kind);
    Model model(config);
    model.init_random(5);
    {
      torch::NoGradGuard no_grad;
      for (auto& [key, p] : model.named_arrays()) p.add_(torch::randn(p.sizes()) * 0.05);
    }
    testing::TempDir dir;
    const std::string path = dir.file("tiny.npz");
    model.save(path);
    EXPECT_EQ(config_to_json(detect_config(path)), config_to_json(config));
    Model loaded = Model::load(path);
    EXPECT_EQ(config_to_json(loaded.config()), config_to_json(config));
    auto a = model.named_arrays(), b = loaded.named_arrays();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].first, b[i].first);
      EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
    }
    torch::manual_seed(2);
    TensorMap inputs = {{"inputs", torch::rand({1, 4, 24, 24, 3})}};
    if (kind == ModelKind::kVideoClip) {
      inputs["text_token_ids"] = torch::randint(0, 100, {2, 6}, torch::kInt32);
      inputs["text_paddings"] = torch::zeros({2, 6});
    }
    TensorMap x = model.forward(inputs), y = loaded.forward(inputs);
    ASSERT_EQ(x.size(), y.size());
    for (const auto& [name, value] : x) EXPECT_TRUE(torch::equal(value, y.at(name))) << name;
  }
}

}  // namespace
}  // namespace videoprism
