#include "layers/attention.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "layers/epilogues.h"
#include "layers/module_util.h"
#include "ops/addmm.h"
#include "ops/batched_matmul.h"
#include "ops/capped_softmax.h"
#include "videoprism/core/error.h"

#ifdef VIDEOPRISM_HAVE_CUDA
#include "cuda/fused_attention.h"
#endif

namespace videoprism {

namespace {
// Inference computes attention logits in blocks of at most this many elements
// (8M: 16 MB in bf16) when the whole [B, N, T, S] would be larger.
constexpr int64_t kLogitChunkElements = int64_t(8) << 20;
}  // namespace

torch::Tensor make_attention_mask(const torch::Tensor& paddings, bool causal, int64_t length,
                                  const torch::Device& device) {
  torch::Tensor mask;
  if (paddings.defined()) {
    // The reference multiplies paddings by -0.7*max and masks values below
    // half of that: a position is masked when its padding exceeds 0.5.
    torch::Tensor padded = paddings.to(torch::kFloat32) > 0.5;  // [B, S]
    mask = padded.unsqueeze(1).unsqueeze(1);                    // [B, 1, 1, S]
    if (causal) mask = torch::logical_or(mask, mask.transpose(2, 3));  // [B, 1, S, S]
  }
  if (causal) {
    auto options = torch::TensorOptions().dtype(torch::kBool).device(device);
    torch::Tensor later = torch::ones({length, length}, options).triu(1).view({1, 1, length, length});
    mask = mask.defined() ? torch::logical_or(mask, later) : later;
  }
  return mask;
}

AttentionProjectionImpl::AttentionProjectionImpl(int64_t dim, int64_t num_heads, int64_t dim_per_head,
                                                 bool is_output, int64_t stack)
    : is_output_(is_output) {
  w = register_parameter("w", empty_param(stacked_shape(stack, {dim, num_heads, dim_per_head})));
  b = register_parameter("b", empty_param(stacked_shape(stack, is_output ? std::vector<int64_t>{dim}
                                                                           : std::vector<int64_t>{num_heads, dim_per_head})));
}

std::pair<torch::Tensor, torch::Tensor> AttentionProjectionImpl::kn_weights(int64_t layer) const {
  torch::Tensor weight = at_layer(w, layer);  // [D, N, H]
  const int64_t d = weight.size(0), nh = weight.size(1) * weight.size(2);
  torch::Tensor bias = at_layer(b, layer).reshape({-1});  // [N*H], or [D] for the output projection
  // As [K, N_out]: [D, N*H] for the input projections, [N*H, D] for the output.
  torch::Tensor kn = is_output_ ? weight.reshape({d, nh}).t() : weight.reshape({d, nh});
  return {kn, bias};
}

std::shared_ptr<const ops::Int8Linear> AttentionProjectionImpl::int8_at(int64_t layer) {
  return int8_->get(layer, param_stamp({w, b}), [this](int64_t l) {
    auto [kn, bias] = kn_weights(l);
    return std::make_shared<const ops::Int8Linear>(kn, bias);
  });
}

std::shared_ptr<const ops::F32Linear> AttentionProjectionImpl::f32_at(int64_t layer) {
  return f32_->get(layer, param_stamp({w, b}), [this](int64_t l) {
    auto [kn, bias] = kn_weights(l);
    return std::make_shared<const ops::F32Linear>(kn, bias);
  });
}

void AttentionProjectionImpl::prepare_packed(PackedKind kind) {
  for (int64_t l : layer_indices(w, 3)) kind == PackedKind::kInt8 ? (void)int8_at(l) : (void)f32_at(l);
}

torch::Tensor AttentionProjectionImpl::forward(const torch::Tensor& x, int64_t layer) {
  const bool int8 = use_int8(x);
  if (int8 || use_packed_f32(x)) {
    auto run = [&](const torch::Tensor& rows) {
      return int8 ? int8_at(layer)->forward(rows) : f32_at(layer)->forward(rows);
    };
    auto sizes = x.sizes().vec();
    const int64_t d = w.size(-3), nh = w.size(-2) * w.size(-1);
    if (is_output_) {  // [..., N, H] -> [..., D]
      sizes.pop_back();
      sizes.back() = d;
      return run(x.reshape({-1, nh})).view(sizes);
    }
    sizes.back() = w.size(-2);  // [..., D] -> [..., N, H]
    sizes.push_back(w.size(-1));
    return run(x).view(sizes);
  }
  torch::Tensor weight = cast_like(at_layer(w, layer), x);  // [D, N, H]
  torch::Tensor bias = cast_like(at_layer(b, layer), x);
  const int64_t d = weight.size(0), n = weight.size(1), h = weight.size(2);
  if (is_output_) {
    // [..., N, H] x [D, N*H]^T -> [..., D]
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    sizes.back() = d;
    return ops::addmm(bias, x.reshape({-1, n * h}), weight.reshape({d, n * h}).t()).view(sizes);
  }
  auto sizes = x.sizes().vec();
  sizes.back() = n;
  sizes.push_back(h);
  return ops::addmm(bias.reshape({n * h}), x.reshape({-1, d}), weight.reshape({d, n * h})).view(sizes);
}

PerDimScaleImpl::PerDimScaleImpl(int64_t dim, int64_t stack) {
  per_dim_scale = register_parameter("per_dim_scale", empty_param(stacked_shape(stack, {dim})));
}

torch::Tensor PerDimScaleImpl::forward(const torch::Tensor& x, int64_t layer) {
  const int64_t dim = x.size(-1);
  const double r_softplus_0 = 1.442695041;
  torch::Tensor scale = torch::softplus(cast_like(at_layer(per_dim_scale, layer), x)) *
                        static_cast<float>(r_softplus_0 / std::sqrt(static_cast<double>(dim)));
  return x * scale;
}

DotProductAttentionImpl::DotProductAttentionImpl(const DotProductAttentionOptions& options) : options_(options) {
  check(options.hidden_dim % options.num_heads == 0, "DotProductAttention: hidden_dim ", options.hidden_dim,
        " is not divisible by num_heads ", options.num_heads);
  dim_per_head_ = options.hidden_dim / options.num_heads;
  const int64_t d = options.input_dim, n = options.num_heads, h = dim_per_head_, l = options.stack;
  query = register_module("query", AttentionProjection(d, n, h, false, l));
  key = register_module("key", AttentionProjection(d, n, h, false, l));
  value = register_module("value", AttentionProjection(d, n, h, false, l));
  post = register_module("post", AttentionProjection(d, n, h, true, l));
  if (options.per_dim_scale) per_dim_scale = register_module("per_dim_scale", PerDimScale(h, l));
}

torch::Tensor DotProductAttentionImpl::attend_fused(torch::Tensor q, const torch::Tensor& k, const torch::Tensor& v,
                                                    const torch::Tensor& mask, int64_t layer) {
#ifdef VIDEOPRISM_HAVE_CUDA
  // q, k, v: [B, T|S, N, H] views (possibly into one QKV projection).
  if (!cuda::fused_attention_supported(q, k, v)) return {};
  double scale = std::pow(static_cast<double>(dim_per_head_), -0.5);
  if (per_dim_scale) {
    q = per_dim_scale->forward(q, layer);  // the learned scale replaces H^-0.5
    scale = 1.0;
    if (!cuda::fused_attention_supported(q, k, v)) return {};
  }
  torch::Tensor encoded = cuda::fused_attention(q, k, v, mask, scale, options_.atten_logit_cap);  // [B, T, N, H]
  return encoded.view({encoded.size(0), encoded.size(1), -1});
#else
  return {};
#endif
}

torch::Tensor DotProductAttentionImpl::attend(torch::Tensor q, const torch::Tensor& k, const torch::Tensor& v,
                                              const torch::Tensor& mask, int64_t layer) {
  // q, k, v: [B, N, T|S, H] (head-major, so the batched matmuls see
  // contiguous matrices). Returns [B, T, N*H].
  if (per_dim_scale) {
    q = per_dim_scale->forward(q, layer);
  } else {
    q = q * static_cast<float>(std::pow(static_cast<double>(dim_per_head_), -0.5));
  }
  const int64_t t = q.size(2), s = k.size(2);
  const bool onednn = use_onednn_attention(q);  // attention's GEMMs through oneDNN too
  const int64_t rows_per_chunk = std::max<int64_t>(1, kLogitChunkElements / std::max<int64_t>(1, q.size(0) * q.size(1) * s));
  const double half_flops = profile::matmul_flops(q.size(0) * q.size(1) * t, s, q.size(3));
  torch::Tensor encoded;
  if (torch::GradMode::is_enabled() || rows_per_chunk >= t) {
    torch::Tensor logits, probs;
    {
      profile::Region region("scores", half_flops);
      logits = ops::batched_matmul(q, k.transpose(-1, -2), onednn);  // [B, N, T, S]
    }
    {
      profile::Region region("softmax", 0, pass_bytes(logits, 1, 1));
      probs = ops::capped_masked_softmax(logits, mask, options_.atten_logit_cap);
      logits = torch::Tensor();
    }
    profile::Region region("values", half_flops);
    encoded = ops::batched_matmul(probs, v, onednn);  // [B, N, T, H]
  } else {
    // Long sequences at inference (the auxiliary layers attend over all T*N
    // tokens: 12 x 4096 x 4096 logits for B): a block of query rows at a time,
    // so the logits never exist whole and stay in cache-friendly chunks.
    std::vector<torch::Tensor> blocks;
    for (int64_t start = 0; start < t; start += rows_per_chunk) {
      const int64_t len = std::min(rows_per_chunk, t - start);
      const double block_flops = half_flops * double(len) / double(t);
      torch::Tensor block_mask = (mask.defined() && mask.size(2) == t) ? mask.narrow(2, start, len) : mask;
      torch::Tensor logits, probs;
      {
        profile::Region region("scores", block_flops);
        logits = ops::batched_matmul(q.narrow(2, start, len), k.transpose(-1, -2), onednn);  // [B, N, len, S]
      }
      {
        profile::Region region("softmax", 0, pass_bytes(logits, 1, 1));
        probs = ops::capped_masked_softmax(logits, block_mask, options_.atten_logit_cap);
        logits = torch::Tensor();
      }
      profile::Region region("values", block_flops);
      blocks.push_back(ops::batched_matmul(probs, v, onednn));  // [B, N, len, H]
    }
    profile::Region region("merge_blocks", 0, 2 * pass_bytes(blocks.front(), 1, 1) * double(blocks.size()));
    encoded = torch::cat(blocks, 2);
  }
  profile::Region region("merge_heads", 0, pass_bytes(encoded, 1, 1));
  return encoded.permute({0, 2, 1, 3}).reshape({q.size(0), q.size(2), -1});
}

torch::Tensor DotProductAttentionImpl::forward(const torch::Tensor& query_in, const torch::Tensor& key_value_in,
                                               const torch::Tensor& mask, int64_t layer) {
  const int64_t d = options_.input_dim, nh = options_.hidden_dim;
  const int64_t b = query_in.size(0), t = query_in.size(1), s = key_value_in.size(1);
  torch::Tensor q, k, v;
  {
    profile::Region region("q_proj", profile::matmul_flops(b * t, nh, d));
    q = query->forward(query_in, layer);  // [B, T, N, H]
  }
  {
    profile::Region region("kv_proj", 2 * profile::matmul_flops(b * s, nh, d));
    k = key->forward(key_value_in, layer);    // [B, S, N, H]
    v = value->forward(key_value_in, layer);  // [B, S, N, H]
  }
  torch::Tensor encoded;  // [B, T, N*H]
  {
    profile::Region region("attend", 2 * profile::matmul_flops(b * t, s, nh));
    encoded = attend_fused(q, k, v, mask, layer);  // or undefined
    if (!encoded.defined()) {
      encoded = attend(q.permute({0, 2, 1, 3}), k.permute({0, 2, 1, 3}).contiguous(),
                       v.permute({0, 2, 1, 3}).contiguous(), mask, layer);
    }
  }
  profile::Region region("post", profile::matmul_flops(b * t, d, nh));
  return post->forward(encoded.view({b, t, options_.num_heads, dim_per_head_}), layer);
}

std::pair<torch::Tensor, torch::Tensor> DotProductAttentionImpl::fused_qkv_weights(int64_t layer) const {
  const int64_t d = options_.input_dim, nh = options_.hidden_dim;
  torch::Tensor w = torch::cat({at_layer(query->w, layer).reshape({d, nh}), at_layer(key->w, layer).reshape({d, nh}),
                                at_layer(value->w, layer).reshape({d, nh})},
                               1);  // [D, 3*N*H]
  torch::Tensor bias = torch::cat({at_layer(query->b, layer).reshape({nh}), at_layer(key->b, layer).reshape({nh}),
                                   at_layer(value->b, layer).reshape({nh})});  // [3*N*H]
  return {w, bias};
}

ParamStamp DotProductAttentionImpl::qkv_stamp() const {
  return param_stamp({query->w, query->b, key->w, key->b, value->w, value->b});
}

std::shared_ptr<const ops::Int8Linear> DotProductAttentionImpl::qkv_int8_at(int64_t layer) {
  return qkv_int8_->get(layer, qkv_stamp(), [this](int64_t l) {
    auto [w, bias] = fused_qkv_weights(l);
    return std::make_shared<const ops::Int8Linear>(w, bias);
  });
}

std::shared_ptr<const ops::F32Linear> DotProductAttentionImpl::qkv_f32_at(int64_t layer) {
  return qkv_f32_->get(layer, qkv_stamp(), [this](int64_t l) {
    auto [w, bias] = fused_qkv_weights(l);
    return std::make_shared<const ops::F32Linear>(w, bias);
  });
}

void DotProductAttentionImpl::prepare_packed(PackedKind kind) {
  for (int64_t l : layer_indices(query->w, 3)) kind == PackedKind::kInt8 ? (void)qkv_int8_at(l) : (void)qkv_f32_at(l);
  post->prepare_packed(kind);
}

void DotProductAttentionImpl::clear_packed() {
  qkv_int8_->clear();
  qkv_f32_->clear();
  for (auto* p : {&query, &key, &value, &post}) (*p)->clear_packed();
}

torch::Tensor DotProductAttentionImpl::self_attention(const torch::Tensor& x, const torch::Tensor& mask,
                                                      int64_t layer, const torch::Tensor& residual) {
  const int64_t d = options_.input_dim, n = options_.num_heads, h = dim_per_head_;
  const int64_t b = x.size(0), t = x.size(1);
  // One [B*T, D] x [D, 3*N*H] matmul instead of three.
  std::optional<profile::Region> qkv_region(std::in_place, "qkv", profile::matmul_flops(b * t, 3 * n * h, d));
  torch::Tensor qkv;  // [B*T, 3*N*H]
  if (use_int8(x)) {
    qkv = qkv_int8_at(layer)->forward(x.reshape({-1, d}));
  } else if (use_packed_f32(x)) {
    qkv = qkv_f32_at(layer)->forward(x.reshape({-1, d}));
  } else {
    auto [w, bias] = fused_qkv_weights(layer);
    qkv = ops::addmm(cast_like(bias, x), x.reshape({-1, d}), cast_like(w, x));
  }
  qkv_region.reset();
  torch::Tensor fused_qkv = qkv.view({b, t, 3, n, h});
  std::optional<profile::Region> attend_region(std::in_place, "attend", 2 * profile::matmul_flops(b * t, t, n * h));
  torch::Tensor encoded = attend_fused(fused_qkv.select(2, 0), fused_qkv.select(2, 1), fused_qkv.select(2, 2), mask,
                                       layer);  // [B, T, N*H] or undefined
  if (!encoded.defined() && use_onednn_attention(x)) {
    // oneDNN's batched matmuls read q, k and v in place: [B, N, T, H] views.
    encoded = attend(fused_qkv.select(2, 0).permute({0, 2, 1, 3}), fused_qkv.select(2, 1).permute({0, 2, 1, 3}),
                     fused_qkv.select(2, 2).permute({0, 2, 1, 3}), mask, layer);  // [B, T, N*H]
  }
  if (!encoded.defined()) {
    // [B, T, 3, N, H] -> [3, B, N, T, H] in one copy.
    std::optional<profile::Region> split(std::in_place, "split_heads", 0, pass_bytes(qkv, 1, 1));
    qkv = fused_qkv.permute({2, 0, 3, 1, 4}).contiguous();
    split.reset();
    encoded = attend(qkv[0], qkv[1], qkv[2], mask, layer);  // [B, T, N*H]
  }
  attend_region.reset();
  const double post_flops = profile::matmul_flops(b * t, d, n * h);
  if (residual.defined() && EpilogueScope::current().fused_residual) {
    torch::Tensor fused;
    {
      profile::Region region("post+residual1", post_flops);
      // post's w [D, N, H] is the [N_out, K] = [D, N*H] layout.
      fused = fused_linear_residual(encoded, cast_like(at_layer(post->w, layer), encoded).reshape({d, n * h}),
                                    /*weight_nk=*/true, cast_like(at_layer(post->b, layer), encoded), residual);
    }
    if (fused.defined()) return fused;  // else: not taken, computed unfused below
  }
  if (residual.defined() && use_packed_f32(encoded)) {
    profile::Region region("post+residual1", post_flops);
    return post->f32_at(layer)
        ->forward(encoded.reshape({b * t, n * h}), /*gelu=*/false, residual)
        .view(residual.sizes());
  }
  torch::Tensor projected;
  {
    profile::Region region("post", post_flops);
    projected = post->forward(encoded.view({b, t, n, h}), layer);
  }
  if (!residual.defined()) return projected;
  profile::Region region("residual1", 0, pass_bytes(projected, 2, 1));
  return add_into(projected, residual);
}

}  // namespace videoprism
