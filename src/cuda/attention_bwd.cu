// Fused softcapped attention, backward (flash-attention-2 style): one CTA per
// (64 keys, head, batch), four warps of 16 keys each, walking over query tiles
// of 64. P is recomputed from the saved log-sum-exp, so nothing [T, S]-sized
// is ever stored. dK and dV stay in registers; dQ is summed over key blocks
// with float atomics into a float32 buffer.
//
// With x = scale * <q, k>, c = cap * tanh(x / cap) (or x), p = softmax(c):
//   dV = P^T dO,  dP = dO V^T,  dC = P * (dP - delta),  delta = rowsum(dO * O)
//   dX = dC * (1 - tanh(x / cap)^2) (or dC), zero where masked
//   dQ = scale * dX K,  dK = scale * dX^T Q
#include <cuda_bf16.h>

#include <cmath>

#include "cuda/attention_kernels.h"
#include "cuda/mma.cuh"

namespace videoprism::cuda {
namespace {

constexpr int kBlockN = 64;  // keys per CTA
constexpr int kBlockM = 64;  // queries per tile
constexpr int kThreads = 128;
constexpr int kPad = 8;

template <int HD>
__device__ __forceinline__ void load_rows(__nv_bfloat16 (*dst)[HD + kPad], const __nv_bfloat16* base,
                                          int64_t row_stride, int start, int len) {
  constexpr int kChunks = HD / 8;
  for (int i = threadIdx.x; i < 64 * kChunks; i += kThreads) {
    const int r = i / kChunks, c = (i % kChunks) * 8;
    uint4 value = make_uint4(0, 0, 0, 0);
    if (start + r < len) value = *reinterpret_cast<const uint4*>(base + int64_t(start + r) * row_stride + c);
    *reinterpret_cast<uint4*>(&dst[r][c]) = value;
  }
}

template <int HD>
__global__ void __launch_bounds__(kThreads) attention_backward_kernel(const AttentionBackwardParams bp) {
  static_assert(HD % 16 == 0 && HD <= 64, "head dim");
  const AttentionForwardParams& p = bp.fwd;
  __shared__ __align__(16) __nv_bfloat16 q_s[kBlockM][HD + kPad];
  __shared__ __align__(16) __nv_bfloat16 do_s[kBlockM][HD + kPad];
  __shared__ __align__(16) __nv_bfloat16 k_s[kBlockN][HD + kPad];
  __shared__ __align__(16) __nv_bfloat16 ds_s[kBlockN][kBlockM + kPad];  // dX^T [key][query]
  __shared__ float lse_s[kBlockM];
  __shared__ float delta_s[kBlockM];

  const int b = blockIdx.x / p.heads, head = blockIdx.x % p.heads;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, c = (lane % 4) * 2;
  const int key_block = blockIdx.y * kBlockN;
  const int key0 = key_block + warp * 16 + g;  // this thread's two key rows
  const int key1 = key0 + 8;

  const auto* q = static_cast<const __nv_bfloat16*>(p.q) + b * p.q_strides.batch + head * p.q_strides.head;
  const auto* k = static_cast<const __nv_bfloat16*>(p.k) + b * p.k_strides.batch + head * p.k_strides.head;
  const auto* v = static_cast<const __nv_bfloat16*>(p.v) + b * p.v_strides.batch + head * p.v_strides.head;
  const auto* dout =
      static_cast<const __nv_bfloat16*>(bp.dout) + b * bp.dout_strides.batch + head * bp.dout_strides.head;
  const int64_t row_bh = (int64_t(b) * p.heads + head) * p.q_len;  // [B, N, T] row offset
  const float* lse = p.lse + row_bh;
  const float* delta = bp.delta + row_bh;

  // The warp's 16 key and value rows as A fragments.
  uint32_t kf[HD / 16][4], vf[HD / 16][4];
#pragma unroll
  for (int kk = 0; kk < HD / 16; ++kk) {
    const int col = kk * 16 + c;
    const bool in0 = key0 < p.kv_len, in1 = key1 < p.kv_len;
    kf[kk][0] = in0 ? load_u32(k + key0 * p.k_strides.seq + col) : 0u;
    kf[kk][1] = in1 ? load_u32(k + key1 * p.k_strides.seq + col) : 0u;
    kf[kk][2] = in0 ? load_u32(k + key0 * p.k_strides.seq + col + 8) : 0u;
    kf[kk][3] = in1 ? load_u32(k + key1 * p.k_strides.seq + col + 8) : 0u;
    vf[kk][0] = in0 ? load_u32(v + key0 * p.v_strides.seq + col) : 0u;
    vf[kk][1] = in1 ? load_u32(v + key1 * p.v_strides.seq + col) : 0u;
    vf[kk][2] = in0 ? load_u32(v + key0 * p.v_strides.seq + col + 8) : 0u;
    vf[kk][3] = in1 ? load_u32(v + key1 * p.v_strides.seq + col + 8) : 0u;
  }
  load_rows<HD>(k_s, k, p.k_strides.seq, key_block, p.kv_len);

  float dk[HD / 8][4], dv[HD / 8][4];
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) {
    dk[n][0] = dk[n][1] = dk[n][2] = dk[n][3] = 0.0f;
    dv[n][0] = dv[n][1] = dv[n][2] = dv[n][3] = 0.0f;
  }
  const bool capped = p.cap > 0.0f;
  const float inv_cap = capped ? 1.0f / p.cap : 0.0f;
  const float uniform = 1.0f / float(p.kv_len);  // p of a fully masked row

  for (int q_start = 0; q_start < p.q_len; q_start += kBlockM) {
    __syncthreads();  // the previous tile's q_s, do_s, ds_s are no longer read
    load_rows<HD>(q_s, q, p.q_strides.seq, q_start, p.q_len);
    load_rows<HD>(do_s, dout, bp.dout_strides.seq, q_start, p.q_len);
    for (int i = threadIdx.x; i < kBlockM; i += kThreads) {
      const bool in = q_start + i < p.q_len;
      lse_s[i] = in ? lse[q_start + i] : 0.0f;
      delta_s[i] = in ? delta[q_start + i] : 0.0f;
    }
    __syncthreads();

    // X^T = K Q^T and dP^T = V dO^T for 16 keys x 64 queries.
    float st[kBlockM / 8][4], dpt[kBlockM / 8][4];
#pragma unroll
    for (int j = 0; j < kBlockM / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) st[j][e] = dpt[j][e] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < HD / 16; ++kk) {
        mma_bf16_16816(st[j], kf[kk], load_u32(&q_s[j * 8 + g][kk * 16 + c]), load_u32(&q_s[j * 8 + g][kk * 16 + c + 8]));
        mma_bf16_16816(dpt[j], vf[kk], load_u32(&do_s[j * 8 + g][kk * 16 + c]),
                       load_u32(&do_s[j * 8 + g][kk * 16 + c + 8]));
      }
    }

    // P^T into st, dX^T into dpt.
#pragma unroll
    for (int j = 0; j < kBlockM / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = e < 2 ? key0 : key1;
        const int qi = j * 8 + c + (e & 1);  // query within the tile
        const int query = q_start + qi;
        float prob = 0.0f, dx = 0.0f;
        if (key < p.kv_len && query < p.q_len) {
          const float row_lse = lse_s[qi];
          const bool masked =
              p.mask != nullptr && p.mask[b * p.mask_batch + int64_t(query) * p.mask_query + int64_t(key) * p.mask_key];
          if (masked) {
            // Only a fully masked row gives masked keys weight (uniform); the
            // output does not depend on masked logits, so dX = 0.
            prob = row_lse < 0.5f * kMaskValue ? uniform : 0.0f;
          } else {
            const float x = st[j][e] * p.scale;
            float t = 0.0f, cval = x;
            if (capped) {
              t = tanh_approx(x * inv_cap);
              cval = p.cap * t;
            }
            prob = exp2f((cval - row_lse) * kLog2e);
            dx = prob * (dpt[j][e] - delta_s[qi]) * p.scale;
            if (capped) dx *= 1.0f - t * t;
          }
        }
        st[j][e] = prob;
        dpt[j][e] = dx;
      }
    }

    // dV += P^T dO and dK += dX^T Q (B operands by ldmatrix.trans, rows = queries);
    // dX^T goes to shared memory for dQ.
#pragma unroll
    for (int kk = 0; kk < kBlockM / 16; ++kk) {
      uint32_t pa[4], da[4];
      pa[0] = pack_bf16(st[2 * kk][0], st[2 * kk][1]);
      pa[1] = pack_bf16(st[2 * kk][2], st[2 * kk][3]);
      pa[2] = pack_bf16(st[2 * kk + 1][0], st[2 * kk + 1][1]);
      pa[3] = pack_bf16(st[2 * kk + 1][2], st[2 * kk + 1][3]);
      da[0] = pack_bf16(dpt[2 * kk][0], dpt[2 * kk][1]);
      da[1] = pack_bf16(dpt[2 * kk][2], dpt[2 * kk][3]);
      da[2] = pack_bf16(dpt[2 * kk + 1][0], dpt[2 * kk + 1][1]);
      da[3] = pack_bf16(dpt[2 * kk + 1][2], dpt[2 * kk + 1][3]);
      *reinterpret_cast<uint32_t*>(&ds_s[warp * 16 + g][kk * 16 + c]) = da[0];
      *reinterpret_cast<uint32_t*>(&ds_s[warp * 16 + g + 8][kk * 16 + c]) = da[1];
      *reinterpret_cast<uint32_t*>(&ds_s[warp * 16 + g][kk * 16 + c + 8]) = da[2];
      *reinterpret_cast<uint32_t*>(&ds_s[warp * 16 + g + 8][kk * 16 + c + 8]) = da[3];
#pragma unroll
      for (int n = 0; n < HD / 16; ++n) {
        const int row = kk * 16 + ((lane / 8) % 2) * 8 + lane % 8, col = n * 16 + (lane / 16) * 8;
        uint32_t ob[4], qb[4];
        ldmatrix_x4_trans(ob, &do_s[row][col]);
        ldmatrix_x4_trans(qb, &q_s[row][col]);
        mma_bf16_16816(dv[2 * n], pa, ob[0], ob[1]);
        mma_bf16_16816(dv[2 * n + 1], pa, ob[2], ob[3]);
        mma_bf16_16816(dk[2 * n], da, qb[0], qb[1]);
        mma_bf16_16816(dk[2 * n + 1], da, qb[2], qb[3]);
      }
    }
    __syncthreads();  // ds_s complete

    // dQ rows [warp*16, warp*16+16) of the tile: dX [16 q x 64 keys] K [64 keys x HD].
    const int qrow0 = q_start + warp * 16 + g, qrow1 = qrow0 + 8;
    if (q_start + warp * 16 < p.q_len) {
      float dq[HD / 8][4];
#pragma unroll
      for (int n = 0; n < HD / 8; ++n) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.0f;
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) {
        if (key_block + kk * 16 >= p.kv_len) continue;  // dX is zero there
        uint32_t a[4];
        const int mi = lane / 8, r = lane % 8;
        ldmatrix_x4_trans(a, &ds_s[kk * 16 + (mi / 2) * 8 + r][warp * 16 + (mi % 2) * 8]);
        // ldmatrix's matrix order (q0,k0) (q8,k0) (q0,k8) (q8,k8) is a0..a3.
#pragma unroll
        for (int n = 0; n < HD / 16; ++n) {
          uint32_t kb[4];
          ldmatrix_x4_trans(kb, &k_s[kk * 16 + ((lane / 8) % 2) * 8 + lane % 8][n * 16 + (lane / 16) * 8]);
          mma_bf16_16816(dq[2 * n], a, kb[0], kb[1]);
          mma_bf16_16816(dq[2 * n + 1], a, kb[2], kb[3]);
        }
      }
      float* dq_out = bp.dq_accum + ((int64_t(b) * p.q_len) * p.heads + head) * HD;
      const int64_t dq_row = int64_t(p.heads) * HD;
#pragma unroll
      for (int n = 0; n < HD / 8; ++n) {
        const int col = n * 8 + c;
        if (qrow0 < p.q_len) {
          atomicAdd(dq_out + qrow0 * dq_row + col, dq[n][0]);
          atomicAdd(dq_out + qrow0 * dq_row + col + 1, dq[n][1]);
        }
        if (qrow1 < p.q_len) {
          atomicAdd(dq_out + qrow1 * dq_row + col, dq[n][2]);
          atomicAdd(dq_out + qrow1 * dq_row + col + 1, dq[n][3]);
        }
      }
    }
  }

  // dK, dV: contiguous [B, S, N, H].
  auto* dk_out = static_cast<__nv_bfloat16*>(bp.dk) + ((int64_t(b) * p.kv_len) * p.heads + head) * HD;
  auto* dv_out = static_cast<__nv_bfloat16*>(bp.dv) + ((int64_t(b) * p.kv_len) * p.heads + head) * HD;
  const int64_t kv_row = int64_t(p.heads) * HD;
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) {
    const int col = n * 8 + c;
    if (key0 < p.kv_len) {
      *reinterpret_cast<uint32_t*>(dk_out + key0 * kv_row + col) = pack_bf16(dk[n][0], dk[n][1]);
      *reinterpret_cast<uint32_t*>(dv_out + key0 * kv_row + col) = pack_bf16(dv[n][0], dv[n][1]);
    }
    if (key1 < p.kv_len) {
      *reinterpret_cast<uint32_t*>(dk_out + key1 * kv_row + col) = pack_bf16(dk[n][2], dk[n][3]);
      *reinterpret_cast<uint32_t*>(dv_out + key1 * kv_row + col) = pack_bf16(dv[n][2], dv[n][3]);
    }
  }
}

template <int HD>
cudaError_t launch_backward(const AttentionBackwardParams& bp, cudaStream_t stream) {
  const auto& p = bp.fwd;
  dim3 grid(unsigned(p.batch) * unsigned(p.heads), (p.kv_len + kBlockN - 1) / kBlockN);
  attention_backward_kernel<HD><<<grid, kThreads, 0, stream>>>(bp);
  return cudaGetLastError();
}

}  // namespace

cudaError_t attention_backward(const AttentionBackwardParams& bp, cudaStream_t stream) {
  const auto& p = bp.fwd;
  if (p.q_len == 0 || p.kv_len == 0 || p.batch == 0 || p.heads == 0) return cudaSuccess;
  switch (p.head_dim) {
    case 16: return launch_backward<16>(bp, stream);
    case 32: return launch_backward<32>(bp, stream);
    case 48: return launch_backward<48>(bp, stream);
    case 64: return launch_backward<64>(bp, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace videoprism::cuda
