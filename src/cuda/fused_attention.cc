#include "cuda/fused_attention.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "cuda/attention_kernels.h"
#include "videoprism/core/error.h"

namespace videoprism::cuda {
namespace {

std::atomic<int> g_enabled{-1};  // -1: read the environment on first use

bool aligned_rows(const torch::Tensor& t) {
  // 16-byte loads of head rows: 8-element aligned strides and base address.
  if (t.stride(3) != 1) return false;
  if (reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 != 0) return false;
  return t.stride(0) % 8 == 0 && t.stride(1) % 8 == 0 && t.stride(2) % 8 == 0;
}

Strides strides_of(const torch::Tensor& t) { return {t.stride(0), t.stride(1), t.stride(2)}; }

AttentionForwardParams make_params(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                   const torch::Tensor& mask, double scale, double cap) {
  AttentionForwardParams p;
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.q_strides = strides_of(q);
  p.k_strides = strides_of(k);
  p.v_strides = strides_of(v);
  p.batch = static_cast<int>(q.size(0));
  p.q_len = static_cast<int>(q.size(1));
  p.heads = static_cast<int>(q.size(2));
  p.head_dim = static_cast<int>(q.size(3));
  p.kv_len = static_cast<int>(k.size(1));
  p.scale = static_cast<float>(scale);
  p.cap = static_cast<float>(cap);
  if (mask.defined() && mask.numel() > 0) {  // empty: no mask (autograd takes no undefined inputs)
    // [B?, 1, T?, S] -> strides over (b, t, s) with zeros where broadcast.
    torch::Tensor m = mask.expand({q.size(0), 1, q.size(1), k.size(1)});
    p.mask = m.data_ptr<bool>();
    p.mask_batch = m.stride(0);
    p.mask_query = m.stride(2);
    p.mask_key = m.stride(3);
  }
  return p;
}

void check_cuda(cudaError_t status, const char* what) {
  check(status == cudaSuccess, what, ": CUDA error ", cudaGetErrorString(status));
}

class FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& mask, double scale, double cap) {
    c10::cuda::CUDAGuard guard(q.device());
    const bool training = ctx != nullptr;
    torch::Tensor o = torch::empty(q.sizes(), q.options());  // [B, T, N, H]
    torch::Tensor lse;
    AttentionForwardParams p = make_params(q, k, v, mask, scale, cap);
    p.o = o.data_ptr();
    p.o_strides = strides_of(o);
    if (training) {
      lse = torch::empty({q.size(0), q.size(2), q.size(1)}, q.options().dtype(torch::kFloat32));  // [B, N, T]
      p.lse = lse.data_ptr<float>();
    }
    check_cuda(attention_forward(p, at::cuda::getCurrentCUDAStream()), "fused attention forward");
    if (training) {
      ctx->save_for_backward({q, k, v, o, lse});
      ctx->saved_data["mask"] = mask;
      ctx->saved_data["scale"] = scale;
      ctx->saved_data["cap"] = cap;
    }
    return o;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &o = saved[3], &lse = saved[4];
    torch::Tensor mask = ctx->saved_data["mask"].toTensor();
    const double scale = ctx->saved_data["scale"].toDouble(), cap = ctx->saved_data["cap"].toDouble();
    c10::cuda::CUDAGuard guard(q.device());
    torch::Tensor dout = grads[0].contiguous();  // [B, T, N, H]
    // delta[b, n, t] = sum_h dout * o, in float32.
    torch::Tensor delta = (dout.to(torch::kFloat32) * o.to(torch::kFloat32)).sum(-1).permute({0, 2, 1}).contiguous();
    torch::Tensor dq = torch::zeros(q.sizes(), q.options().dtype(torch::kFloat32));
    torch::Tensor dk = torch::empty(k.sizes(), k.options());
    torch::Tensor dv = torch::empty(v.sizes(), v.options());
    AttentionBackwardParams bp;
    bp.fwd = make_params(q, k, v, mask, scale, cap);
    bp.fwd.o = const_cast<void*>(o.data_ptr());
    bp.fwd.o_strides = strides_of(o);
    bp.fwd.lse = const_cast<float*>(lse.data_ptr<float>());
    bp.dout = dout.data_ptr();
    bp.dout_strides = strides_of(dout);
    bp.delta = delta.data_ptr<float>();
    bp.dq_accum = dq.data_ptr<float>();
    bp.dk = dk.data_ptr();
    bp.dv = dv.data_ptr();
    check_cuda(attention_backward(bp, at::cuda::getCurrentCUDAStream()), "fused attention backward");
    return {dq.to(q.scalar_type()), dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

void set_fused_attention_enabled(bool enabled) { g_enabled = enabled ? 1 : 0; }

bool fused_attention_enabled() {
  int state = g_enabled.load();
  if (state < 0) {
    const char* env = std::getenv("VIDEOPRISM_FUSED_ATTENTION");
    state = (env != nullptr && std::strcmp(env, "0") == 0) ? 0 : 1;
    g_enabled = state;
  }
  return state == 1;
}

namespace {

int64_t padded_head_dim(int64_t h) { return (h + 15) / 16 * 16; }

bool wants_grad(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  return torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
}

}  // namespace

bool fused_attention_supported(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
  if (!fused_attention_enabled()) return false;
  if (!q.is_cuda() || q.scalar_type() != torch::kBFloat16) return false;
  if (k.scalar_type() != torch::kBFloat16 || v.scalar_type() != torch::kBFloat16) return false;
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) return false;
  const int64_t h = q.size(3);
  if (k.size(3) != h || v.size(3) != h || k.size(1) != v.size(1)) return false;
  if (!attention_head_dim_supported(static_cast<int>(padded_head_dim(h)), wants_grad(q, k, v))) return false;
  if (q.size(1) > (int64_t(1) << 30) || k.size(1) > (int64_t(1) << 30)) return false;
  return true;
}

torch::Tensor fused_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& mask, double scale, double cap) {
  check(fused_attention_supported(q, k, v), "fused_attention: unsupported inputs q ", q.sizes(), " ",
        q.scalar_type(), " on ", q.device());
  torch::Tensor m = mask;
  if (m.defined()) {
    m = m.to(q.device(), torch::kBool);
    check(m.dim() == 4 && (m.size(0) == 1 || m.size(0) == q.size(0)) && m.size(1) == 1 &&
              (m.size(2) == 1 || m.size(2) == q.size(1)) && m.size(3) == k.size(1),
          "fused_attention: mask ", m.sizes(), " does not broadcast to [", q.size(0), ", 1, ", q.size(1), ", ",
          k.size(1), "]");
  }
  // Head dims off the kernels' multiple of 16 (e.g. 12, or giant's 88) are
  // zero-padded: logits are unchanged and the padded output columns are dropped.
  const int64_t h = q.size(3), hp = padded_head_dim(h);
  auto prepare = [&](const torch::Tensor& t) {
    torch::Tensor x = hp == h ? t : torch::constant_pad_nd(t, {0, hp - h});
    return aligned_rows(x) ? x : x.clone(at::MemoryFormat::Contiguous);  // fresh, aligned storage
  };
  torch::Tensor qp = prepare(q), kp = prepare(k), vp = prepare(v);
  if (!m.defined()) m = torch::empty({0}, q.options().dtype(torch::kBool));  // "no mask"
  torch::Tensor out = wants_grad(q, k, v) ? FusedAttentionFunction::apply(qp, kp, vp, m, scale, cap)
                                          : FusedAttentionFunction::forward(nullptr, qp, kp, vp, m, scale, cap);
  return hp == h ? out : out.narrow(3, 0, h).contiguous();
}

}  // namespace videoprism::cuda
