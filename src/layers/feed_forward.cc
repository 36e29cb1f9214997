#include "layers/feed_forward.h"

#include <algorithm>

#include "layers/epilogues.h"
#include "layers/module_util.h"
#include "ops/addmm.h"

namespace videoprism {

torch::Tensor apply_activation(const torch::Tensor& x, Activation activation) {
  switch (activation) {
    case Activation::kIdentity: return x;
    case Activation::kRelu: return torch::relu(x);
    case Activation::kGeluExact: return torch::gelu(x);  // erf form, as jax.nn.gelu(approximate=False)
  }
  return x;
}

DenseImpl::DenseImpl(int64_t in_dim, int64_t out_dim, int64_t stack) {
  kernel = register_parameter("kernel", empty_param(stacked_shape(stack, {in_dim, out_dim})));
  bias = register_parameter("bias", empty_param(stacked_shape(stack, {out_dim})));
}

std::shared_ptr<const ops::Int8Linear> DenseImpl::int8_at(int64_t layer) {
  return int8_->get(layer, param_stamp({kernel, bias}), [this](int64_t l) {
    return std::make_shared<const ops::Int8Linear>(at_layer(kernel, l), at_layer(bias, l));  // [in, out], [out]
  });
}

std::shared_ptr<const ops::F32Linear> DenseImpl::f32_at(int64_t layer) {
  return f32_->get(layer, param_stamp({kernel, bias}), [this](int64_t l) {
    return std::make_shared<const ops::F32Linear>(at_layer(kernel, l), at_layer(bias, l));  // [in, out], [out]
  });
}

void DenseImpl::prepare_packed(PackedKind kind) {
  for (int64_t l : layer_indices(kernel, 2)) kind == PackedKind::kInt8 ? (void)int8_at(l) : (void)f32_at(l);
}

torch::Tensor DenseImpl::forward(const torch::Tensor& x, int64_t layer) {
  const int64_t in_dim = kernel.size(-2), out_dim = kernel.size(-1);
  profile::Region region("matmul", profile::matmul_flops(x.numel() / std::max<int64_t>(1, in_dim), out_dim, in_dim));
  if (use_int8(x)) return int8_at(layer)->forward(x);
  if (use_packed_f32(x)) return f32_at(layer)->forward(x);
  torch::Tensor k = cast_like(at_layer(kernel, layer), x);
  torch::Tensor b = cast_like(at_layer(bias, layer), x);
  auto sizes = x.sizes().vec();
  sizes.back() = k.size(1);
  return ops::addmm(b, x.reshape({-1, k.size(0)}), k).view(sizes);
}

FeedForwardImpl::FeedForwardImpl(int64_t in_dim, int64_t out_dim, Activation activation, int64_t stack)
    : activation_(activation) {
  linear = register_module("linear", Dense(in_dim, out_dim, stack));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x, int64_t layer) {
  if (activation_ == Activation::kGeluExact && x.is_cuda() && EpilogueScope::current().approximate_gelu &&
      !torch::GradMode::is_enabled()) {
    torch::Tensor k = cast_like(at_layer(linear->kernel, layer), x);
    torch::Tensor b = cast_like(at_layer(linear->bias, layer), x);
    auto sizes = x.sizes().vec();
    sizes.back() = k.size(1);
    profile::Region region("matmul+gelu", profile::matmul_flops(x.numel() / k.size(0), k.size(1), k.size(0)));
    return at::_addmm_activation(b, x.reshape({-1, k.size(0)}), k, 1, 1, /*use_gelu=*/true).view(sizes);
  }
  if (activation_ == Activation::kGeluExact && use_packed_f32(x)) {
    const int64_t in_dim = linear->kernel.size(-2), out_dim = linear->kernel.size(-1);
    profile::Region region("matmul+gelu", profile::matmul_flops(x.numel() / in_dim, out_dim, in_dim));
    return linear->f32_at(layer)->forward(x, /*gelu=*/true);
  }
  torch::Tensor y = linear->forward(x, layer);
  if (activation_ == Activation::kIdentity) return y;
  profile::Region region(activation_ == Activation::kRelu ? "relu" : "gelu", 0, pass_bytes(y, 1, 1));
  return apply_activation(y, activation_);
}

torch::Tensor TransformerFeedForwardImpl::fused_rows(const torch::Tensor& h, const torch::Tensor& x, int64_t layer) {
  std::shared_ptr<const ops::F32Linear> w1 = ffn_layer1->linear->f32_at(layer);  // [D, F]
  std::shared_ptr<const ops::F32Linear> w2 = ffn_layer2->linear->f32_at(layer);  // [F, D]
  const int64_t d = w1->in_dim(), f = w1->out_dim();
  torch::Tensor rows = h.reshape({-1, d}).contiguous();      // [M, D]
  torch::Tensor residual = x.reshape({-1, d}).contiguous();  // [M, D]
  const int64_t m = rows.size(0);
  torch::Tensor out = torch::empty({m, d}, torch::kFloat32);  // [M, D]
  if (m == 0) return out.view(x.sizes());
  profile::Region region("ffn1+gelu+ffn2+residual2", 2 * profile::matmul_flops(m, f, d));
  // Each oneDNN call uses every thread. (Measured alternative: each thread its
  // own blocks with single-threaded calls; no better, within this machine's noise.)
  const int64_t block = std::min(m, kFusedFfnRows);
  torch::Tensor hidden = torch::empty({block, f}, torch::kFloat32);  // [block, F], reused by every block
  for (int64_t start = 0; start < m; start += block) {
    const int64_t len = std::min(block, m - start);
    torch::Tensor hid = hidden.narrow(0, 0, len);
    w1->forward_into(rows.narrow(0, start, len), hid, /*gelu=*/true, {});
    torch::Tensor o = out.narrow(0, start, len);
    w2->forward_into(hid, o, /*gelu=*/false, residual.narrow(0, start, len));
  }
  return out.view(x.sizes());
}

TransformerFeedForwardImpl::TransformerFeedForwardImpl(int64_t dim, int64_t hidden_dim, Activation activation,
                                                       NormPolicy policy, int64_t stack)
    : activation_(activation), policy_(policy) {
  if (policy == NormPolicy::kPrimerHybrid) {
    pre_layer_norm = register_module("pre_layer_norm", LayerNorm(dim, stack));
    post_layer_norm = register_module("post_layer_norm", LayerNorm(dim, stack));
  } else {
    layer_norm = register_module("layer_norm", LayerNorm(dim, stack));
  }
  ffn_layer1 = register_module("ffn_layer1", FeedForward(dim, hidden_dim, activation, stack));
  ffn_layer2 = register_module("ffn_layer2", FeedForward(hidden_dim, dim, Activation::kIdentity, stack));
}

torch::Tensor TransformerFeedForwardImpl::forward(const torch::Tensor& x, const torch::Tensor& paddings,
                                                  int64_t layer) {
  torch::Tensor h = x;
  {
    profile::Region region("ln2", 0, pass_bytes(x, 1, 1));
    if (policy_ == NormPolicy::kPrimerHybrid) h = pre_layer_norm->forward(h, layer);
    if (policy_ == NormPolicy::kPre) h = layer_norm->forward(h, layer);
  }
  if (policy_ == NormPolicy::kPre && !paddings.defined() && activation_ == Activation::kGeluExact &&
      use_packed_f32(h)) {
    return fused_rows(h, x, layer);
  }
  torch::Tensor keep;  // [B, T, 1]: 1 - paddings
  if (paddings.defined()) keep = (1.0 - paddings.to(x.scalar_type())).unsqueeze(-1);
  torch::Tensor activations;  // [B, T, F]
  {
    profile::Region region("ffn1");
    activations = ffn_layer1->forward(h, layer);
  }
  if (keep.defined()) {
    profile::Region region("padding", 0, pass_bytes(activations, 1, 1));
    activations = activations * keep;
  }
  if (policy_ == NormPolicy::kPre && !keep.defined() && EpilogueScope::current().fused_residual) {
    torch::Tensor fused;
    {
      profile::Region region("ffn2+residual2", profile::matmul_flops(activations.numel() / activations.size(-1),
                                                                      x.size(-1), activations.size(-1)));
      const Dense& dense = ffn_layer2->linear;
      fused = fused_linear_residual(activations, cast_like(at_layer(dense->kernel, layer), activations),
                                    /*weight_nk=*/false, cast_like(at_layer(dense->bias, layer), activations), x);
    }
    if (fused.defined()) return fused;  // else: not taken, computed unfused below
  }
  torch::Tensor out;  // [B, T, D]
  {
    profile::Region region("ffn2");
    out = ffn_layer2->forward(activations, layer);
  }
  profile::Region region("residual2", 0, pass_bytes(x, 2, 1));
  if (keep.defined()) out = out * keep;
  if (policy_ == NormPolicy::kPrimerHybrid) out = post_layer_norm->forward(out, layer);
  if (policy_ == NormPolicy::kPost) out = layer_norm->forward(out, layer);
  out = add_into(out, x);
  if (policy_ == NormPolicy::kPostSkip) out = layer_norm->forward(out, layer);
  return out;
}

}  // namespace videoprism
