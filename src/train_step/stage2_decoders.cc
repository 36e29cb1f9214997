// Stage-2 token-wise and global decoders.
#include "train_step/stage2_decoders.h"

#include <cmath>

#include "encoders/vision_transformer.h"
#include "layers/atten_token_pooling.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"
#include "layers/module_util.h"
#include "videoprism/core/error.h"
#include "train_step/masking.h"

namespace videoprism::train {

DecoderOptions resolve_decoder_options(DecoderOptions o, const EncoderConfig& encoder) {
  if (o.model_dim <= 0) o.model_dim = encoder.model_dim >= 512 ? 512 : encoder.model_dim;
  if (o.mlp_dim <= 0) o.mlp_dim = 4 * o.model_dim;
  if (o.num_heads <= 0) o.num_heads = o.model_dim == 512 ? 8 : encoder.num_heads;
  check(o.num_layers > 0, "stage2 decoder: num_layers must be > 0");
  check(o.model_dim % o.num_heads == 0, "stage2 decoder: width ", o.model_dim, " is not a multiple of ",
        o.num_heads, " heads");
  return o;
}

struct TokenDecoderImpl : torch::nn::Module {
  TokenDecoderImpl(const DecoderOptions& o, int64_t encoder_dim, int64_t length) {
    const int64_t dd = o.model_dim;
    input_projection = register_module("input_projection", FeedForward(encoder_dim, dd, Activation::kIdentity));
    mask_token = register_parameter("mask_token", empty_param({dd}));
    pos_emb = register_parameter("pos_emb", empty_param({length, dd}));
    transformer = register_module("transformer", VisionTransformer(o.num_layers, dd, o.num_heads, o.mlp_dim, 0.0,
                                                                   NormPolicy::kPre, /*scan=*/true));
    output_ln = register_module("output_ln", LayerNorm(dd));
    output_projection = register_module("output_projection", FeedForward(dd, encoder_dim, Activation::kIdentity));
  }
  FeedForward input_projection{nullptr}, output_projection{nullptr};
  torch::Tensor mask_token, pos_emb;  // [Dd], [L, Dd]
  VisionTransformer transformer{nullptr};
  LayerNorm output_ln{nullptr};
};

struct GlobalDecoderImpl : torch::nn::Module {
  GlobalDecoderImpl(const DecoderOptions& o, int64_t encoder_dim) {
    const int64_t dd = o.model_dim;
    input_projection = register_module("input_projection", FeedForward(encoder_dim, dd, Activation::kIdentity));
    transformer = register_module("transformer", VisionTransformer(o.num_layers, dd, o.num_heads, o.mlp_dim, 0.0,
                                                                   NormPolicy::kPre, /*scan=*/true));
    pooler = register_module("pooler", AttenTokenPoolingLayer(dd, dd, o.num_heads));
    output_projection = register_module("output_projection", FeedForward(dd, encoder_dim, Activation::kIdentity));
  }
  FeedForward input_projection{nullptr}, output_projection{nullptr};
  VisionTransformer transformer{nullptr};
  AttenTokenPoolingLayer pooler{nullptr};
};

Stage2DecodersImpl::Stage2DecodersImpl(const DecoderOptions& options, int64_t encoder_dim, int64_t length,
                                       bool token_branch, bool global_branch)
    : token_branch_(token_branch), global_branch_(global_branch) {
  if (token_branch)
    token_decoder_ = register_module("token_decoder", std::make_shared<TokenDecoderImpl>(options, encoder_dim, length));
  if (global_branch)
    global_decoder_ = register_module("global_decoder", std::make_shared<GlobalDecoderImpl>(options, encoder_dim));
}

torch::Tensor Stage2DecodersImpl::predict_tokens(const torch::Tensor& visible, const torch::Tensor& mask,
                                                 const torch::Tensor& perm) {
  check(token_branch_, "stage2: the token branch is off");
  TokenDecoderImpl& d = *token_decoder_;
  check(visible.size(1) == d.pos_emb.size(0), "stage2 token decoder: built for ", d.pos_emb.size(0),
        " tokens, got ", visible.size(1));
  torch::Tensor x = d.input_projection->forward(visible);           // [B, L, Dd]
  torch::Tensor masked = mask.to(x.scalar_type()).unsqueeze(-1);    // [B, L, 1]
  x = x * (1 - masked) + cast_like(d.mask_token, x) * masked;
  // Token shuffling (training-recipe.md): slot j holds token perm[j] but gets
  // position embedding j and must predict teacher token j. A token's position
  // is only in its content (the encoder's own position embeddings), so the
  // decoder cannot copy a visible token through to its own target; it has to
  // place the pieces (a jigsaw). The output is therefore in original order.
  if (perm.defined()) x = shuffle_tokens(x, perm);  // slot j holds token perm[j]
  x = x + cast_like(d.pos_emb, x);                  // slot j predicts position j
  x = d.transformer->forward(x);
  x = d.output_ln->forward(x);
  return d.output_projection->forward(x);  // [B, L, D]: slot j = prediction for token j
}

torch::Tensor Stage2DecodersImpl::predict_global(const torch::Tensor& tokens, const torch::Tensor& paddings) {
  check(global_branch_, "stage2: the global branch is off");
  GlobalDecoderImpl& d = *global_decoder_;
  torch::Tensor x = d.input_projection->forward(tokens);  // [B, S, Dd]
  torch::Tensor p = paddings.defined() ? paddings.to(x.scalar_type()) : paddings;
  x = d.transformer->forward(x, p);
  x = d.pooler->forward(x, p).squeeze(1);     // [B, Dd]
  return d.output_projection->forward(x);    // [B, D]
}

std::vector<std::pair<std::string, torch::Tensor>> Stage2DecodersImpl::named_arrays() const {
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (const auto& item : named_parameters()) {
    std::string key = "decoders/" + item.key();
    for (char& c : key) c = c == '.' ? '/' : c;
    arrays.emplace_back(key, item.value());
  }
  return arrays;
}

void Stage2DecodersImpl::init_random(uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& [key, p] : named_arrays()) {
    const std::string leaf = key.substr(key.rfind('/') + 1);
    const std::string parent = key.substr(0, key.rfind('/'));
    const auto& s = p.sizes();
    if (leaf == "bias" || leaf == "b" || leaf == "scale" || leaf == "per_dim_scale") {
      p.zero_();
    } else if (leaf == "mask_token" || leaf == "pos_emb") {
      p.normal_(0.0, 0.02);
    } else if (leaf == "pooling_attention_query") {
      p.normal_(0.0, 1.0 / std::sqrt(double(s.back())));
    } else if (leaf == "w") {  // [L?, D, N, H]
      const bool output = parent.size() >= 4 && parent.compare(parent.size() - 4, 4, "post") == 0;
      const int64_t d = s[s.size() - 3], nh = s[s.size() - 2] * s[s.size() - 1];
      p.normal_(0.0, 1.0 / std::sqrt(double(output ? nh : d)));
    } else if (leaf == "kernel") {
      p.normal_(0.0, 1.0 / std::sqrt(double(s[s.size() - 2])));
    } else {
      fail("stage2 decoders: no init rule for ", key);
    }
  }
}

torch::Tensor cosine_distance(const torch::Tensor& pred, const torch::Tensor& target) {
  torch::Tensor p = pred.to(torch::kFloat32), t = target.to(torch::kFloat32);
  torch::Tensor cos = (p * t).sum(-1) / (p.norm(2, -1) * t.norm(2, -1)).clamp_min(1e-8);
  return (1 - cos).mean();
}

}  // namespace videoprism::train
