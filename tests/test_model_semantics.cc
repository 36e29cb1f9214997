// Semantics the golden fixtures do not pin down, checked against independent
// implementations written here from the reference definitions
// (shared/docs/reference-semantics.md, official layers.py / encoders.py):
// position-embedding interpolation, frame paddings, every norm policy, the
// text tower, auxiliary layers, scan=false, and the fused softmax kernel.
#include <dlfcn.h>

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "layers/position_embedding.h"
#include "ops/addmm.h"
#include "ops/batched_matmul.h"
#include "ops/blas_threads.h"
#include "ops/capped_softmax.h"
#include "ops/layer_norm_kernel.h"
#include "test_util.h"
#include "videoprism/core/model.h"

namespace videoprism {
namespace {

using testing::max_abs_diff;
using Params = std::map<std::string, torch::Tensor>;

// ---------------------------------------------------------------------------
// Independent reference implementations.

// jax.image.resize 'bilinear' along one axis, straight from the definition:
// sample_j = (j + 0.5) * in / out - 0.5; triangle kernel widened by
// max(in/out, 1) (antialiasing when shrinking); each column normalized.
// Returns W[in][out] in double.
std::vector<std::vector<double>> ref_resize_weights(int in, int out) {
  std::vector<std::vector<double>> w(in, std::vector<double>(out, 0.0));
  const double widen = std::max(double(in) / out, 1.0);
  for (int j = 0; j < out; ++j) {
    const double sample = (j + 0.5) * in / out - 0.5;
    double total = 0.0;
    for (int i = 0; i < in; ++i) {
      w[i][j] = std::max(0.0, 1.0 - std::fabs(sample - i) / widen);
      total += w[i][j];
    }
    for (int i = 0; i < in; ++i) w[i][j] /= total;
  }
  return w;
}

torch::Tensor ref_resize_tensor(int in, int out) {  // [in, out] float64
  auto w = ref_resize_weights(in, out);
  torch::Tensor t = torch::zeros({in, out}, torch::kFloat64);
  for (int i = 0; i < in; ++i)
    for (int j = 0; j < out; ++j) t[i][j] = w[i][j];
  return t;
}

torch::Tensor layer_norm(const torch::Tensor& x, const Params& p, const std::string& prefix, int64_t layer = -1) {
  auto get = [&](const std::string& k) { torch::Tensor t = p.at(prefix + "/" + k); return layer >= 0 ? t[layer] : t; };
  torch::Tensor mean = x.mean(-1, true);
  torch::Tensor var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / torch::sqrt(var + 1e-6) * (1 + get("scale")) + get("bias");
}

// Multi-head attention of layers.py DotProductAttention. mask [B, T, S] bool
// (true = masked) or undefined. per_dim_scale: the pooler's query scaling.
torch::Tensor attention(const torch::Tensor& q_in, const torch::Tensor& kv_in, const torch::Tensor& mask,
                        const Params& p, const std::string& prefix, int64_t layer, double cap, bool per_dim_scale) {
  auto get = [&](const std::string& k) { torch::Tensor t = p.at(prefix + "/" + k); return layer >= 0 ? t[layer] : t; };
  torch::Tensor q = torch::einsum("btd,dnh->btnh", {q_in, get("query/w")}) + get("query/b");
  torch::Tensor k = torch::einsum("bsd,dnh->bsnh", {kv_in, get("key/w")}) + get("key/b");
  torch::Tensor v = torch::einsum("bsd,dnh->bsnh", {kv_in, get("value/w")}) + get("value/b");
  const double h = static_cast<double>(q.size(-1));
  if (per_dim_scale) {
    q = q * (1.442695041 / std::sqrt(h)) * torch::softplus(get("per_dim_scale/per_dim_scale"));
  } else {
    q = q * std::pow(h, -0.5);
  }
  std::vector<torch::Tensor> heads;
  for (int64_t n = 0; n < q.size(2); ++n) {
    torch::Tensor logits = torch::einsum("bth,bsh->bts", {q.select(2, n), k.select(2, n)});  // [B, T, S]
    if (cap > 0) logits = cap * torch::tanh(logits / cap);
    if (mask.defined()) logits = torch::where(mask, torch::full({}, -0.7f * FLT_MAX), logits);
    torch::Tensor probs = torch::softmax(logits.to(torch::kFloat32), -1);
    heads.push_back(torch::einsum("bts,bsh->bth", {probs, v.select(2, n)}));
  }
  torch::Tensor encoded = torch::stack(heads, 2);  // [B, T, N, H]
  return torch::einsum("btnh,dnh->btd", {encoded, get("post/w")}) + get("post/b");
}

struct StackSpec {
  std::string prefix;  // ".../x_layers"
  int64_t num_layers;
  std::string policy;  // pre, primer_hybrid, post, post_skip
  bool gelu;
  bool causal;
  double cap;
};

// layers.py StackedTransformer (scanned), one Transformer block after another.
torch::Tensor stack_forward(torch::Tensor x, torch::Tensor pad, const Params& p, const StackSpec& s) {
  const int64_t b = x.size(0), t = x.size(1);
  if (!pad.defined()) pad = torch::zeros({b, t});
  torch::Tensor key_pad = (pad > 0.5).unsqueeze(1).expand({b, t, t});  // [B, T(query), S(key)]
  torch::Tensor mask = key_pad;
  if (s.causal) {
    torch::Tensor query_pad = (pad > 0.5).unsqueeze(2).expand({b, t, t});
    torch::Tensor later = torch::ones({t, t}, torch::kBool).triu(1).unsqueeze(0);
    mask = key_pad.logical_or(query_pad).logical_or(later);
  }
  torch::Tensor keep = (1 - pad).unsqueeze(-1);
  const bool hybrid = s.policy == "primer_hybrid";
  for (int64_t l = 0; l < s.num_layers; ++l) {
    const std::string pre_ln = hybrid ? "pre_layer_norm" : "layer_norm";
    const std::string post_ln = hybrid ? "post_layer_norm" : "layer_norm";
    torch::Tensor h = x;
    if (hybrid || s.policy == "pre") h = layer_norm(h, p, s.prefix + "/" + pre_ln, l);
    h = attention(h, h, mask, p, s.prefix + "/self_attention", l, s.cap, false);
    if (hybrid || s.policy == "post") h = layer_norm(h, p, s.prefix + "/" + post_ln, l);
    h = h + x;
    if (s.policy == "post_skip") h = layer_norm(h, p, s.prefix + "/layer_norm", l);
    // TransformerFeedForward
    const std::string ff = s.prefix + "/ff_layer/";
    torch::Tensor f = h;
    if (hybrid || s.policy == "pre") f = layer_norm(f, p, ff + pre_ln, l);
    f = torch::matmul(f, p.at(ff + "ffn_layer1/linear/kernel")[l]) + p.at(ff + "ffn_layer1/linear/bias")[l];
    f = (s.gelu ? torch::gelu(f) : torch::relu(f)) * keep;
    f = (torch::matmul(f, p.at(ff + "ffn_layer2/linear/kernel")[l]) + p.at(ff + "ffn_layer2/linear/bias")[l]) * keep;
    if (hybrid || s.policy == "post") f = layer_norm(f, p, ff + post_ln, l);
    x = h + f;
    if (s.policy == "post_skip") x = layer_norm(x, p, ff + "layer_norm", l);
  }
  return x;
}

struct NaiveEncoded {
  torch::Tensor spatial_features, embeddings;  // [B, T*N, D]
};

// encoders.py FactorizedEncoder with pos_emb_shape equal to the input's grid.
NaiveEncoded encoder_forward(const torch::Tensor& video, const torch::Tensor& frame_paddings, const Params& p,
                             const std::string& e, const EncoderConfig& c, const std::string& policy) {
  const int64_t b = video.size(0), t = video.size(1), hh = video.size(2), ww = video.size(3), P = c.patch_size;
  const int64_t rows = hh / P, cols = ww / P, n = rows * cols, d = c.model_dim;
  // Patch (row, col) feature (py*P + px)*3 + ch, by explicit indexing.
  torch::Tensor patches = torch::empty({b * t, n, P * P * 3});
  torch::Tensor frames = video.reshape({b * t, hh, ww, 3});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t cc = 0; cc < cols; ++cc)
      patches.select(1, r * cols + cc)
          .copy_(frames.slice(1, r * P, (r + 1) * P).slice(2, cc * P, (cc + 1) * P).reshape({b * t, P * P * 3}));
  torch::Tensor x = torch::matmul(patches, p.at(e + "patch_projection/linear/kernel")) +
                    p.at(e + "patch_projection/linear/bias");
  x = x + p.at(e + "spatial_pos_emb/emb_var").unsqueeze(0);
  torch::Tensor pad;
  if (frame_paddings.defined()) pad = frame_paddings.reshape({b * t, 1}).expand({b * t, n}).contiguous();
  x = stack_forward(x, pad, p, {e + "spatial_encoder/transformers_stack/x_layers", c.num_spatial_layers, policy,
                                true, false, c.atten_logit_cap});
  x = layer_norm(x, p, e + "spatial_ln");
  NaiveEncoded out;
  out.spatial_features = x.reshape({b, t * n, d});
  x = x.reshape({b, t, n, d}).transpose(1, 2).reshape({b * n, t, d});
  if (pad.defined()) pad = pad.reshape({b, t, n}).transpose(1, 2).reshape({b * n, t});
  x = x + p.at(e + "temporal_pos_emb/emb_var").unsqueeze(0);
  x = stack_forward(x, pad, p, {e + "temporal_encoder/transformers_stack/x_layers", c.num_temporal_layers, policy,
                                true, false, c.atten_logit_cap});
  x = layer_norm(x, p, e + "temporal_ln");
  out.embeddings = x.reshape({b, n, t, d}).transpose(1, 2).reshape({b, t * n, d});
  return out;
}

torch::Tensor pooler_forward(const torch::Tensor& tokens, const Params& p) {
  const std::string c = "params/contrastive_vision_pooler/";
  torch::Tensor query = p.at(c + "pooling_attention_query").unsqueeze(0).expand({tokens.size(0), -1, -1});
  torch::Tensor pooled = attention(query, tokens, {}, p, c + "pooling_attention", -1, 0.0, true);
  return layer_norm(pooled, p, c + "pooling_attention_layer_norm").squeeze(1);
}

torch::Tensor text_forward(const torch::Tensor& ids, const torch::Tensor& paddings, const Params& p,
                           const ModelConfig& c) {
  const int64_t b = ids.size(0), len = ids.size(1), d = c.encoder.model_dim;
  const std::string te = "params/text_encoder/";
  torch::Tensor x = p.at(te + "token_emb/emb_var").index({ids.to(torch::kLong)}) * std::sqrt(double(d));
  torch::Tensor pos = torch::zeros({len, d});
  const double inc = std::log(10000.0) / std::max(d / 2 - 1.0, 1.0);
  for (int64_t pp = 0; pp < len; ++pp)
    for (int64_t i = 0; i < d / 2; ++i) {
      pos[pp][i] = std::sin(pp * std::exp(-i * inc));
      pos[pp][d / 2 + i] = std::cos(pp * std::exp(-i * inc));
    }
  x = x + pos;
  x = torch::cat({x, (p.at(te + "cls_emb") * std::sqrt(double(d))).expand({b, 1, d})}, 1);
  torch::Tensor pad = torch::cat({paddings, torch::zeros({b, 1})}, 1);
  x = stack_forward(x, pad, p, {te + "unimodal_transformer/x_layers", c.num_unimodal_layers,
                                to_string(c.text_norm_policy), false, c.enable_causal_atten,
                                c.encoder.atten_logit_cap});
  return layer_norm(x, p, te + "unimodal_ln").select(1, len);
}

torch::Tensor l2(const torch::Tensor& x) { return x / torch::sqrt(x.pow(2).sum(-1, true) + 1e-12); }

// ---------------------------------------------------------------------------
// Helpers.

EncoderConfig tiny_encoder(NormPolicy policy = NormPolicy::kPre) {
  EncoderConfig e;
  e.patch_size = 6;
  e.pos_emb_shape = {4, 4, 4};
  e.model_dim = 48;
  e.num_heads = 4;
  e.num_spatial_layers = 2;
  e.num_temporal_layers = 2;
  e.mlp_dim = 96;
  e.atten_logit_cap = 50.0;
  e.norm_policy = policy;
  return e;
}

ModelConfig encoder_config(const EncoderConfig& e) {
  ModelConfig c;
  c.kind = ModelKind::kEncoder;
  c.encoder = e;
  return c;
}

ModelConfig clip_config(int aux, NormPolicy text_policy, bool causal) {
  ModelConfig c;
  c.kind = ModelKind::kVideoClip;
  c.encoder = tiny_encoder();
  c.num_auxiliary_layers = aux;
  c.vocabulary_size = 100;
  c.num_unimodal_layers = 2;
  c.text_norm_policy = text_policy;
  c.enable_causal_atten = causal;
  return c;
}

// Random init plus noise on every array, so LN scales and biases all matter.
Model noisy_model(const ModelConfig& config, uint64_t seed) {
  Model model(config);
  model.init_random(seed);
  torch::NoGradGuard no_grad;
  for (auto& [key, p] : model.named_arrays()) p.add_(torch::randn(p.sizes()) * 0.1);
  return model;
}

Params params_of(const Model& model) {
  Params p;
  for (auto& [key, t] : model.named_arrays()) p[key] = t.detach().clone();
  return p;
}

// ---------------------------------------------------------------------------
// a. Resize weights.

TEST(PositionEmbedding, ResizeWeightsMatchDefinition) {
  const std::vector<std::pair<int, int>> sizes = {{2, 4}, {3, 5}, {4, 16}, {4, 2}, {16, 6}, {5, 3},
                                                   {16, 8}, {8, 16}, {7, 7}, {1, 3}, {3, 1}};
  for (auto [in, out] : sizes) {
    torch::Tensor got = bilinear_resize_weights(in, out);
    ASSERT_EQ(got.sizes(), (std::vector<int64_t>{in, out}));
    double err = max_abs_diff(got, ref_resize_tensor(in, out));
    EXPECT_LE(err, 1e-6) << in << " -> " << out;
    EXPECT_LE(max_abs_diff(got.to(torch::kFloat64).sum(0), torch::ones({out}, torch::kFloat64)), 1e-6);
  }
  EXPECT_LE(max_abs_diff(bilinear_resize_weights(6, 6), torch::eye(6)), 0.0);
}

TEST(PositionEmbedding, ResizeWeightsHandDerived) {
  auto col = [](int in, int out, int j) { return bilinear_resize_weights(in, out).select(1, j).to(torch::kFloat64); };
  auto expect = [](const torch::Tensor& got, std::vector<double> want) {
    EXPECT_LE(max_abs_diff(got, torch::tensor(want, torch::kFloat64)), 1e-6) << got;
  };
  // 4 -> 2 (shrink, kernel widened x2): sample 0.5 -> 1 - |0.5 - i|/2 = .75 .75 .25 0, sum 1.75.
  expect(col(4, 2, 0), {0.75 / 1.75, 0.75 / 1.75, 0.25 / 1.75, 0.0});
  // sample 2.5 -> 0 .25 .75 .75.
  expect(col(4, 2, 1), {0.0, 0.25 / 1.75, 0.75 / 1.75, 0.75 / 1.75});
  // 2 -> 4 (grow): samples -0.25, 0.25, 0.75, 1.25; edges renormalize to 1.
  expect(col(2, 4, 0), {1.0, 0.0});
  expect(col(2, 4, 1), {0.75, 0.25});
  expect(col(2, 4, 2), {0.25, 0.75});
  expect(col(2, 4, 3), {0.0, 1.0});
  // 3 -> 5: samples -0.2, 0.4, 1.0, 1.6, 2.2.
  expect(col(3, 5, 0), {1.0, 0.0, 0.0});
  expect(col(3, 5, 1), {0.6, 0.4, 0.0});
  expect(col(3, 5, 2), {0.0, 1.0, 0.0});
  expect(col(3, 5, 3), {0.0, 0.4, 0.6});
  // 5 -> 3 (kernel widened by 5/3): sample 1/3 -> .8 .6 0 0 0 (sum 1.4); sample 2 -> 0 .4 1 .4 0 (sum 1.8).
  expect(col(5, 3, 0), {0.8 / 1.4, 0.6 / 1.4, 0.0, 0.0, 0.0});
  expect(col(5, 3, 1), {0.0, 0.4 / 1.8, 1.0 / 1.8, 0.4 / 1.8, 0.0});
  // 4 -> 16: sample (j+.5)/4 - .5; j = 5 -> 0.875: weights .125 at 0, .875 at 1.
  expect(col(4, 16, 5), {0.125, 0.875, 0.0, 0.0});
  // 16 -> 6: sample (j+.5)*8/3 - .5; j = 0 -> 5/6, kernel widened by 8/3:
  // 1 - |5/6 - i| * 3/8 for i = 0..3: 11/16, 15/16, 9/16, 3/16 (i = 4: < 0); sum 38/16.
  expect(col(16, 6, 0), {11 / 38.0, 15 / 38.0, 9 / 38.0, 3 / 38.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

// b. Interpolation wiring: a model run at another grid / frame count equals a
// model whose embeddings were resized here and whose other weights are copied.
void check_resize_wiring(int frames, int size) {
  ModelConfig source_config = encoder_config(tiny_encoder());
  Model source = noisy_model(source_config, 7);
  const int grid = size / 6;
  ModelConfig target_config = source_config;
  target_config.encoder.pos_emb_shape = {frames, grid, grid};
  Model target(target_config);
  Params p = params_of(source);
  {
    torch::NoGradGuard no_grad;
    for (auto& [key, t] : target.named_arrays()) {
      if (key == "params/spatial_pos_emb/emb_var") {
        torch::Tensor g = p.at(key).to(torch::kFloat64).view({4, 4, 48});
        torch::Tensor r = ref_resize_tensor(4, grid);
        t.copy_(torch::einsum("abd,ai,bj->ijd", {g, r, r}).reshape({grid * grid, 48}));
      } else if (key == "params/temporal_pos_emb/emb_var") {
        t.copy_(torch::einsum("td,ts->sd", {p.at(key).to(torch::kFloat64), ref_resize_tensor(4, frames)}));
      } else {
        t.copy_(p.at(key));
      }
    }
  }
  torch::manual_seed(3);
  torch::Tensor video = torch::rand({2, frames, size, size, 3});
  TensorMap a = source.forward({{"inputs", video}});
  TensorMap b = target.forward({{"inputs", video}});
  for (const char* name : {"embeddings", "spatial_features"}) {
    ASSERT_EQ(a.at(name).sizes(), (std::vector<int64_t>{2, frames * grid * grid, 48}));
    double err = max_abs_diff(a.at(name), b.at(name));
    std::printf("resize wiring %d frames %dx%d %s: max abs %.3g\n", frames, size, size, name, err);
    EXPECT_LE(err, 1e-5) << name;
  }
}

TEST(PositionEmbedding, EncoderGrowsFramesAndGrid) { check_resize_wiring(8, 36); }
TEST(PositionEmbedding, EncoderShrinksFramesAndGrid) { check_resize_wiring(2, 12); }

// c. Frame paddings.
TEST(FramePaddings, PaddedFramesDoNotLeak) {
  Model model = noisy_model(encoder_config(tiny_encoder()), 11);
  torch::manual_seed(5);
  torch::Tensor video = torch::rand({2, 4, 24, 24, 3});
  torch::Tensor paddings = torch::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f}).view({2, 4});
  const int valid[2] = {3, 2};
  const int64_t n = 16;
  TensorMap padded = model.forward({{"inputs", video}, {"frame_paddings", paddings}});
  torch::Tensor other = video.clone();
  other[0].slice(0, 3, 4).uniform_();
  other[1].slice(0, 2, 4).fill_(7.0);
  TensorMap changed = model.forward({{"inputs", other}, {"frame_paddings", paddings}});
  TensorMap unpadded = model.forward({{"inputs", video}});
  TensorMap zero = model.forward({{"inputs", video}, {"frame_paddings", torch::zeros({2, 4})}});
  for (int b = 0; b < 2; ++b) {
    for (const char* name : {"embeddings", "spatial_features"}) {
      torch::Tensor x = padded.at(name)[b].slice(0, 0, valid[b] * n);
      torch::Tensor y = changed.at(name)[b].slice(0, 0, valid[b] * n);
      EXPECT_LE(max_abs_diff(x, y), 1e-5) << name << " batch " << b;
    }
    // Temporal attention of valid frames changes once padded frames are masked.
    double used = max_abs_diff(padded.at("embeddings")[b].slice(0, 0, valid[b] * n),
                               unpadded.at("embeddings")[b].slice(0, 0, valid[b] * n));
    EXPECT_GT(used, 1e-3) << "frame_paddings ignored for batch " << b;
  }
  // Spatial features of the padded frames change too (their patches are all padded).
  EXPECT_GT(max_abs_diff(changed.at("spatial_features"), padded.at("spatial_features")), 1e-3);
  for (const char* name : {"embeddings", "spatial_features"}) {
    EXPECT_LE(max_abs_diff(zero.at(name), unpadded.at(name)), 1e-6) << name;
  }
}

// d. Every norm policy against the naive encoder, with frame paddings.
class NormPolicyTest : public ::testing::TestWithParam<NormPolicy> {};

TEST_P(NormPolicyTest, EncoderMatchesNaive) {
  const EncoderConfig e = tiny_encoder(GetParam());
  Model model = noisy_model(encoder_config(e), 21);
  Params p = params_of(model);
  const bool hybrid = GetParam() == NormPolicy::kPrimerHybrid;
  const std::string block = "params/spatial_encoder/transformers_stack/x_layers/";
  EXPECT_EQ(p.count(block + "pre_layer_norm/scale") + p.count(block + "ff_layer/post_layer_norm/bias"),
            hybrid ? 2u : 0u);
  EXPECT_EQ(p.count(block + "layer_norm/scale") + p.count(block + "ff_layer/layer_norm/bias"), hybrid ? 0u : 2u);
  torch::manual_seed(9);
  torch::Tensor video = torch::rand({2, 4, 24, 24, 3});
  torch::Tensor paddings = torch::tensor({0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 1.f}).view({2, 4});
  TensorMap got = model.forward({{"inputs", video}, {"frame_paddings", paddings}});
  NaiveEncoded want = encoder_forward(video, paddings, p, "params/", e, to_string(GetParam()));
  double e1 = max_abs_diff(got.at("spatial_features"), want.spatial_features);
  double e2 = max_abs_diff(got.at("embeddings"), want.embeddings);
  std::printf("norm policy %s: spatial %.3g, embeddings %.3g\n", to_string(GetParam()).c_str(), e1, e2);
  EXPECT_LE(e1, 1e-4);
  EXPECT_LE(e2, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, NormPolicyTest,
                         ::testing::Values(NormPolicy::kPre, NormPolicy::kPrimerHybrid, NormPolicy::kPost,
                                           NormPolicy::kPostSkip),
                         [](const auto& info) { return to_string(info.param); });

struct ClipCase {
  int aux;
  NormPolicy text_policy;
  bool causal;
};

class ClipTest : public ::testing::TestWithParam<ClipCase> {};

TEST_P(ClipTest, VideoAndTextMatchNaive) {
  const ClipCase k = GetParam();
  const ModelConfig c = clip_config(k.aux, k.text_policy, k.causal);
  Model model = noisy_model(c, 31 + k.aux);
  Params p = params_of(model);
  torch::manual_seed(13);
  torch::Tensor video = torch::rand({2, 4, 24, 24, 3});
  torch::Tensor ids = torch::randint(0, 100, {3, 7}, torch::kInt32);
  torch::Tensor text_paddings = torch::zeros({3, 7});
  text_paddings[1].slice(0, 4, 7).fill_(1.f);
  text_paddings[2].slice(0, 1, 7).fill_(1.f);
  TensorMap got = model.forward({{"inputs", video}, {"text_token_ids", ids}, {"text_paddings", text_paddings}});

  NaiveEncoded enc = encoder_forward(video, {}, p, "params/vision_encoder/", c.encoder, "pre");
  torch::Tensor tokens = enc.embeddings;
  if (k.aux > 0) {
    tokens = stack_forward(tokens, {}, p, {"params/auxiliary_encoder/transformers_stack/x_layers", k.aux, "pre",
                                           true, false, c.encoder.atten_logit_cap});
  }
  torch::Tensor video_emb = pooler_forward(tokens, p);
  torch::Tensor frame_emb = l2(pooler_forward(tokens.reshape({8, 16, 48}), p)).view({2, 4, 48});
  torch::Tensor text_emb = text_forward(ids, text_paddings, p, c);

  const std::vector<std::pair<std::string, torch::Tensor>> checks = {
      {"spatiotemporal_features", enc.embeddings}, {"video_embeddings_unnormalized", video_emb},
      {"video_embeddings", l2(video_emb)},         {"frame_embeddings", frame_emb},
      {"text_embeddings_unnormalized", text_emb},  {"text_embeddings", l2(text_emb)}};
  for (const auto& [name, want] : checks) {
    double err = max_abs_diff(got.at(name), want);
    std::printf("clip aux=%d text=%s causal=%d %s: %.3g\n", k.aux, to_string(k.text_policy).c_str(), k.causal,
                name.c_str(), err);
    EXPECT_LE(err, 1e-4) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(TextPolicies, ClipTest,
                         ::testing::Values(ClipCase{0, NormPolicy::kPrimerHybrid, true},
                                           ClipCase{3, NormPolicy::kPost, true},
                                           ClipCase{1, NormPolicy::kPre, false},
                                           ClipCase{0, NormPolicy::kPostSkip, false}));

// e. scan=false stores x_layers_{i} without the layer axis; same outputs.
TEST(Scan, UnscannedEqualsScanned) {
  ModelConfig scanned_config = clip_config(2, NormPolicy::kPrimerHybrid, true);
  Model scanned = noisy_model(scanned_config, 41);
  ModelConfig unscanned_config = scanned_config;
  unscanned_config.encoder.scan = false;
  Model unscanned(unscanned_config);
  Params p = params_of(scanned);
  int copied = 0;
  {
    torch::NoGradGuard no_grad;
    for (auto& [key, t] : unscanned.named_arrays()) {
      const auto at = key.find("/x_layers_");
      if (at == std::string::npos) {
        t.copy_(p.at(key));
        continue;
      }
      const auto slash = key.find('/', at + 1);
      const int layer = std::stoi(key.substr(at + 10, slash - at - 10));
      const std::string stacked = key.substr(0, at) + "/x_layers" + key.substr(slash);
      ASSERT_EQ(p.at(stacked).dim(), t.dim() + 1) << key;
      t.copy_(p.at(stacked)[layer]);
      ++copied;
    }
  }
  EXPECT_GT(copied, 0);
  EXPECT_EQ(scanned.num_params(), unscanned.num_params());
  torch::manual_seed(17);
  TensorMap inputs = {{"inputs", torch::rand({1, 4, 24, 24, 3})},
                      {"text_token_ids", torch::randint(0, 100, {2, 5}, torch::kInt32)},
                      {"text_paddings", torch::tensor({0.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 0.f, 0.f, 0.f}).view({2, 5})}};
  TensorMap a = scanned.forward(inputs), b = unscanned.forward(inputs);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, value] : a) EXPECT_LE(max_abs_diff(value, b.at(name)), 1e-6) << name;
}

// f. Fused softmax kernel against its unfused reference (and the formula).
// The batch split over threads (float32 CPU inference) gives torch::matmul's
// products for attention's shapes, strided inputs included, and leaves
// OpenBLAS's thread count as it found it.
// The projections' row split (float32 CPU inference) gives torch::addmm's
// result, for a row count that does not divide evenly and a transposed weight.
TEST(Addmm, RowSplitMatchesTorchAddmm) {
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(2);
  const int blas_before = ops::blas_num_threads();
  torch::manual_seed(8);
  const torch::Tensor x = torch::randn({1030, 300});  // [M, K]
  const torch::Tensor w = torch::randn({300, 260});   // [K, N]
  const torch::Tensor w_t = torch::randn({260, 300}).t();
  const torch::Tensor bias = torch::randn({260});
  EXPECT_LT(max_abs_diff(ops::addmm(bias, x, w), torch::addmm(bias, x, w)), 1e-4);
  EXPECT_LT(max_abs_diff(ops::addmm(bias, x, w_t), torch::addmm(bias, x, w_t)), 1e-4);
  EXPECT_EQ(ops::blas_num_threads(), blas_before);
  // Small products take torch::addmm unchanged.
  const torch::Tensor small = torch::randn({7, 300});
  EXPECT_TRUE(torch::equal(ops::addmm(bias, small, w), torch::addmm(bias, small, w)));
  at::set_num_threads(saved_threads);
}

TEST(BatchedMatmul, MatchesTorchMatmulAndRestoresBlasThreads) {
  torch::NoGradGuard no_grad;
  const int saved_threads = at::get_num_threads();
  at::set_num_threads(2);
  const int blas_before = ops::blas_num_threads();
  torch::manual_seed(7);
  struct Shape { int64_t b, n, t, s, h; };
  for (const Shape& sh : {Shape{2, 3, 17, 17, 8}, Shape{5, 2, 4, 33, 16}, Shape{1, 1, 9, 9, 4}}) {
    const torch::Tensor q = torch::randn({sh.b, sh.n, sh.t, sh.h});   // [B, N, T, H]
    const torch::Tensor k = torch::randn({sh.b, sh.n, sh.s, sh.h});   // [B, N, S, H]
    const torch::Tensor v = torch::randn({sh.b, sh.n, sh.s, sh.h});   // [B, N, S, H]
    const torch::Tensor scores = ops::batched_matmul(q, k.transpose(-1, -2));  // [B, N, T, S]
    const torch::Tensor expected = torch::matmul(q, k.transpose(-1, -2));
    ASSERT_EQ(scores.sizes(), expected.sizes());
    EXPECT_LT(max_abs_diff(scores, expected), 1e-4);
    const torch::Tensor probs = torch::softmax(scores, -1);
    const torch::Tensor out = ops::batched_matmul(probs, v);  // [B, N, T, H]
    EXPECT_LT(max_abs_diff(out, torch::matmul(probs, v)), 1e-5);
    EXPECT_EQ(ops::blas_num_threads(), blas_before);
  }
  // Autograd and bf16 take torch::matmul; an empty batch stays empty.
  const torch::Tensor a = torch::randn({4, 3, 5}).to(torch::kBFloat16), b = torch::randn({4, 5, 2}).to(torch::kBFloat16);
  EXPECT_EQ(ops::batched_matmul(a, b).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(ops::batched_matmul(torch::randn({0, 3, 5}), torch::randn({0, 5, 2})).sizes(), (std::vector<int64_t>{0, 3, 2}));
  at::set_num_threads(saved_threads);
}


TEST(CappedSoftmax, FusedMatchesReference) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(23);
  const int64_t B = 2, N = 3, T = 5, S = 9;
  std::vector<torch::Tensor> masks = {torch::Tensor(), torch::rand({B, 1, 1, S}) > 0.6,
                                      torch::rand({B, 1, T, S}) > 0.5, torch::rand({1, 1, T, S}) > 0.5};
  masks[1][1].fill_(true);          // every row of batch 1 fully masked
  masks[2][0][0][2].fill_(true);    // one fully masked row
  for (double scale : {1.0, 30.0, 1e4}) {
    for (double cap : {50.0, 0.0}) {
      for (size_t m = 0; m < masks.size(); ++m) {
        torch::Tensor logits = torch::randn({B, N, T, S}) * scale;
        if (scale == 1e4) {
          logits.select(3, 0).fill_(1e4);
          logits.select(3, 1).fill_(-1e4);
        }
        torch::Tensor fused = ops::capped_masked_softmax(logits, masks[m], cap);
        torch::Tensor ref = ops::capped_masked_softmax_reference(logits, masks[m], cap);
        // The formula, written here: where(mask, -0.7 max, cap tanh(x/cap)), softmax.
        auto softmax_formula = [&](const torch::Tensor& l) {
          // Cap and softmax in float32, also for bf16 logits (the library's documented
          // choice; the official code caps in the activation dtype, less accurately).
          torch::Tensor l32 = l.to(torch::kFloat32);
          torch::Tensor x = cap > 0 ? cap * torch::tanh(l32 / cap) : l32;
          if (masks[m].defined()) x = torch::where(masks[m], torch::full({}, -0.7f * FLT_MAX), x);
          return torch::softmax(x, -1);
        };
        torch::Tensor formula = softmax_formula(logits);
        EXPECT_LE(max_abs_diff(fused, ref), 1e-6) << "scale " << scale << " cap " << cap << " mask " << m;
        EXPECT_LE(max_abs_diff(ref, formula), 1e-6) << "scale " << scale << " cap " << cap << " mask " << m;
        if (m == 1) {
          EXPECT_LE(max_abs_diff(fused[1], torch::full({N, T, S}, 1.0 / S)), 1e-6);
        }
        torch::Tensor bf = logits.to(torch::kBFloat16);
        torch::Tensor fused16 = ops::capped_masked_softmax(bf, masks[m], cap);
        torch::Tensor ref16 = ops::capped_masked_softmax_reference(bf, masks[m], cap);
        EXPECT_LE(max_abs_diff(fused16, ref16), 1e-2) << "bf16 scale " << scale << " mask " << m;
        EXPECT_LE(max_abs_diff(fused16, softmax_formula(bf)), 1e-2) << "bf16 vs formula, scale " << scale << " mask " << m;
      }
    }
  }
}

// Rows longer than the 16-lane blocks of the kernel's max and sum (37: two
// blocks and a tail; 256: B's spatial rows), against the formula in float64.
// Bound: a float32 capped logit near the cap (50) is only resolved to
// ulp(50) = 3.8e-6, and the kernel's cap is within a few ulp, so a
// probability p moves by up to ~4 ulp(50) * p(1-p) < 4e-6; 5e-6 allows that.
TEST(CappedSoftmax, LongRowsMatchFloat64) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(31);
  for (const int64_t s : {37, 256}) {
    torch::Tensor mask = torch::rand({2, 1, 4, s}) > 0.7;
    for (double scale : {1.0, 30.0}) {
      torch::Tensor logits = torch::randn({2, 3, 4, s}) * scale;
      torch::Tensor l64 = logits.to(torch::kFloat64);
      torch::Tensor capped = 50.0 * torch::tanh(l64 / 50.0);
      torch::Tensor expected = torch::softmax(torch::where(mask, torch::full({}, -0.7 * FLT_MAX, torch::kFloat64), capped), -1);
      EXPECT_LE(max_abs_diff(ops::capped_masked_softmax(logits, mask, 50.0), expected), 5e-6) << "s " << s << " scale " << scale;
      torch::Tensor plain = torch::softmax(l64, -1);
      EXPECT_LE(max_abs_diff(ops::capped_masked_softmax(logits, {}, 0.0), plain), 5e-6) << "uncapped, s " << s << " scale " << scale;
    }
  }
}

// The CPU LayerNorm kernel against float64, at widths below, at and past the
// 16-lane blocks of its reductions, on rows far from zero (two-pass variance),
// and with a NaN (the row stays NaN, in bf16 too; the others are untouched).
TEST(LayerNormKernel, MatchesFloat64AndKeepsNaN) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(29);
  for (const int64_t d : {5, 48, 771}) {
    torch::Tensor x = torch::randn({7, d}) * 3 + 1000 * (torch::rand({7, 1}) - 0.5);
    torch::Tensor w = torch::randn({d}) * 0.2 + 1, b = torch::randn({d}) * 0.1;
    torch::Tensor x64 = x.to(torch::kFloat64);
    auto reference = [&](const torch::Tensor& in64) {
      torch::Tensor mean = in64.mean(-1, true);
      torch::Tensor var = (in64 - mean).pow(2).mean(-1, true);
      return (in64 - mean) / torch::sqrt(var + 1e-6) * w.to(torch::kFloat64) + b.to(torch::kFloat64);
    };
    torch::Tensor out = ops::layer_norm_inference(x, w, b, 1e-6);
    EXPECT_LE(max_abs_diff(out, reference(x64)), 1e-4) << "f32, d " << d;
    torch::Tensor x16 = x.to(torch::kBFloat16);
    torch::Tensor ref16 = reference(x16.to(torch::kFloat64));
    torch::Tensor out16 = ops::layer_norm_inference(x16, w, b, 1e-6).to(torch::kFloat64);
    // bf16 output: within one bf16 rounding (2^-8 relative) of the float64 value.
    EXPECT_TRUE(((out16 - ref16).abs() <= ref16.abs() * (1.0 / 256) + 1e-3).all().item<bool>()) << "bf16, d " << d;

    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      torch::Tensor with_nan = x.to(dtype).clone();
      with_nan[2][d / 2] = std::numeric_limits<float>::quiet_NaN();
      torch::Tensor y = ops::layer_norm_inference(with_nan, w, b, 1e-6);
      EXPECT_TRUE(torch::isnan(y[2]).all().item<bool>()) << dtype << " d " << d;
      EXPECT_TRUE(torch::isfinite(y[3]).all().item<bool>()) << dtype << " d " << d;
    }
  }
}

}  // namespace
}  // namespace videoprism

namespace videoprism {
namespace {

// --threads governs every compute pool: libtorch's and, where libtorch's BLAS
// is OpenBLAS (Debian's float32 path), OpenBLAS's own (sized to the machine by
// default; its extra threads made small training steps ~30x slower on a
// loaded 2-core machine).
TEST(Threads, SetComputeThreadsGovernsLibtorchAndOpenBlas) {
  const int before = torch::get_num_threads();
  using GetThreads = int (*)();
  const auto openblas_threads = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  set_compute_threads(1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  if (openblas_threads != nullptr) EXPECT_EQ(openblas_threads(), 1);
  set_compute_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  // OpenBLAS caps its pool at the machine's cores.
  if (openblas_threads != nullptr && std::thread::hardware_concurrency() >= 2) EXPECT_EQ(openblas_threads(), 2);
  set_compute_threads(0);  // leaves them
  EXPECT_EQ(torch::get_num_threads(), 2);
  set_compute_threads(before);
}

}  // namespace
}  // namespace videoprism
