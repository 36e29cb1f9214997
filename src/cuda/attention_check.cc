#include "cuda/attention_check.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "cuda/fused_attention.h"

namespace videoprism::cuda {
namespace {

constexpr double kMaskValue = -0.7 * 3.40282347e+38;  // the reference's mask value

// The definition, in float64: q, k, v [B, T|S, N, H]; mask [B?, 1, T?, S].
torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double scale, double cap) {
  torch::Tensor logits = torch::einsum("btnh,bsnh->bnts", {q, k}) * scale;  // [B, N, T, S]
  if (cap > 0) logits = torch::tanh(logits / cap) * cap;
  if (mask.defined()) logits = logits.masked_fill(mask, kMaskValue);
  torch::Tensor probs = torch::softmax(logits, -1);
  return torch::einsum("bnts,bsnh->btnh", {probs, v});
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  torch::Tensor g = got.to(torch::kFloat64), w = want.to(torch::kFloat64);
  if (!torch::isfinite(g).all().item<bool>()) return INFINITY;
  return (g - w).norm().item<double>() / std::max(w.norm().item<double>(), 1e-30);
}

struct Case {
  std::string name;
  int64_t b, t, s, n, h;
  double cap;
  bool per_dim_like;   // pooler: scale 1 (the learned scale is applied to q beforehand), no cap
  bool key_padding;    // random padded keys, one row entirely padded
  bool causal;         // causal + padded queries, as make_attention_mask builds them
  bool fused_qkv;      // q, k, v as strided views of one [B, T, 3, N, H] tensor
  bool backward;
};

}  // namespace

std::vector<AttentionCheck> check_fused_attention(const torch::Device& device, uint64_t seed) {
  const std::vector<Case> cases = {
      {"spatial", 8, 256, 256, 12, 64, 50.0, false, false, false, true, true},
      {"temporal", 512, 16, 16, 12, 64, 50.0, false, false, false, true, true},
      {"key-padding", 3, 77, 77, 4, 64, 50.0, false, true, false, false, true},
      {"causal-text", 4, 64, 64, 12, 64, 50.0, false, true, true, true, true},
      {"pooler", 5, 1, 300, 12, 64, 0.0, true, true, false, false, true},
      {"long", 1, 1100, 1100, 2, 64, 50.0, false, false, false, false, true},
      {"head-dim-12", 6, 40, 40, 4, 12, 50.0, false, true, false, true, true},
      {"head-dim-32", 4, 130, 130, 8, 32, 50.0, false, false, false, false, true},
      {"head-dim-88", 2, 96, 96, 16, 88, 50.0, false, false, false, false, false},
      {"head-dim-128", 2, 200, 200, 4, 128, 50.0, false, false, false, false, false},
  };
  torch::manual_seed(seed);
  torch::AutoGradMode grad_mode(true);  // callers may run under NoGradGuard
  std::vector<AttentionCheck> results;
  for (const Case& c : cases) {
    auto opts = torch::TensorOptions().device(device).dtype(torch::kFloat32);
    const double scale = c.per_dim_like ? 1.0 : 1.0 / std::sqrt(double(c.h));
    // Large enough that the cap is active on many logits.
    torch::Tensor q, k, v;
    if (c.fused_qkv) {
      torch::Tensor qkv = (torch::randn({c.b, c.t, 3, c.n, c.h}, opts) * 4.0).to(torch::kBFloat16);
      q = qkv.select(2, 0);
      k = qkv.select(2, 1);
      v = qkv.select(2, 2);
    } else {
      q = (torch::randn({c.b, c.t, c.n, c.h}, opts) * 4.0).to(torch::kBFloat16);
      k = (torch::randn({c.b, c.s, c.n, c.h}, opts) * 4.0).to(torch::kBFloat16);
      v = torch::randn({c.b, c.s, c.n, c.h}, opts).to(torch::kBFloat16);
    }
    torch::Tensor mask;
    if (c.key_padding) {
      torch::Tensor padded = torch::rand({c.b, c.s}, opts) < 0.3;  // [B, S]
      padded[0].fill_(true);                                       // a fully padded row
      mask = padded.view({c.b, 1, 1, c.s});
      if (c.causal) {
        mask = torch::logical_or(mask, mask.transpose(2, 3));
        mask = torch::logical_or(mask, torch::ones({c.t, c.s}, opts.dtype(torch::kBool)).triu(1).view({1, 1, c.t, c.s}));
      }
    }
    AttentionCheck r;
    std::ostringstream name;
    name << c.name << " [B=" << c.b << ", T=" << c.t << ", S=" << c.s << ", N=" << c.n << ", H=" << c.h << "]";
    r.name = name.str();
    r.backward = c.backward;

    torch::Tensor qd = q.to(torch::kFloat64).detach().requires_grad_(c.backward);
    torch::Tensor kd = k.to(torch::kFloat64).detach().requires_grad_(c.backward);
    torch::Tensor vd = v.to(torch::kFloat64).detach().requires_grad_(c.backward);
    torch::Tensor want = reference(qd, kd, vd, mask, scale, c.cap);
    if (!c.backward) {
      torch::NoGradGuard no_grad;
      r.forward_error = relative_error(fused_attention(q, k, v, mask, scale, c.cap), want);
    } else {
      torch::Tensor qf = q.detach().requires_grad_(true), kf = k.detach().requires_grad_(true),
                    vf = v.detach().requires_grad_(true);
      torch::Tensor got = fused_attention(qf, kf, vf, mask, scale, c.cap);
      r.forward_error = relative_error(got, want);
      torch::Tensor weight = torch::randn(want.sizes(), opts);
      (got.to(torch::kFloat32) * weight).sum().backward();
      (want * weight.to(torch::kFloat64)).sum().backward();
      r.backward_error = std::max({relative_error(qf.grad(), qd.grad()), relative_error(kf.grad(), kd.grad()),
                                   relative_error(vf.grad(), vd.grad())});
    }
    r.passed = r.forward_error <= kForwardTolerance && (!c.backward || r.backward_error <= kBackwardTolerance);
    results.push_back(r);
  }
  return results;
}

}  // namespace videoprism::cuda
