// Fused softcapped attention, forward: flash-attention style, online softmax in
// registers, so the [T, S] logits never reach device memory. Long queries: one
// CTA per (64 queries, head, batch), four warps of 16 query rows each, keys in
// tiles of 64 through shared memory. See attention_kernels.h for the semantics.
#include <cuda_bf16.h>

#include <cmath>

#include "cuda/attention_kernels.h"
#include "cuda/mma.cuh"

namespace videoprism::cuda {
namespace {

constexpr int kBlockM = 64;   // queries per CTA
constexpr int kBlockN = 64;   // keys per tile
constexpr int kThreads = 128;
constexpr int kPad = 8;       // bf16 row padding: conflict-free fragment loads

// Tiles move global -> shared with cp.async, double-buffered for head dims up
// to 64, so the next K/V tile loads while this one is computed. Short query
// sequences (<= 16 rows: the temporal axis of 16 frames, the pooler's single
// query) run one (batch, head) per warp with warp-private 16-key tiles instead
// of one per 4-warp CTA with 64-key tiles (4.5x faster on the temporal axis
// than the first, single-kernel version; docs/cuda.md).

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(addr), "l"(gmem));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Rows [start, start + ROWS) of a [S, H] slice into shared memory by cp.async
// (zeros past kv_len), 16 bytes per access, spread over `threads` threads.
template <int HD, int ROWS>
__device__ __forceinline__ void load_tile_async(__nv_bfloat16 (*dst)[HD + kPad], const __nv_bfloat16* base,
                                                int64_t row_stride, int start, int kv_len, int thread,
                                                int threads) {
  constexpr int kChunks = HD / 8;
  for (int i = thread; i < ROWS * kChunks; i += threads) {
    const int r = i / kChunks, c = (i % kChunks) * 8;
    if (start + r < kv_len) {
      cp_async16(&dst[r][c], base + int64_t(start + r) * row_stride + c);
    } else {
      *reinterpret_cast<uint4*>(&dst[r][c]) = make_uint4(0, 0, 0, 0);
    }
  }
}

// A thread's share of two query rows (row0 and row0 + 8): their Q fragments,
// O accumulators, running maxima and partial sums, and mask rows.
template <int HD>
struct Rows {
  uint32_t qf[HD / 16][4];
  float acc[HD / 8][4];
  float m0 = -INFINITY, m1 = -INFINITY;  // running row maxima (natural-log units)
  float l0 = 0.0f, l1 = 0.0f;            // this thread's partial row sums
  const bool* mask0 = nullptr;
  const bool* mask1 = nullptr;

  // q: this (batch, head)'s slice. Q rows past q_len load as zeros.
  __device__ __forceinline__ Rows(const AttentionForwardParams& p, const __nv_bfloat16* q, int b, int row0) {
    const int c = (threadIdx.x % 4) * 2, row1 = row0 + 8;
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
      const int col = kk * 16 + c;
      qf[kk][0] = row0 < p.q_len ? load_u32(q + row0 * p.q_strides.seq + col) : 0u;
      qf[kk][1] = row1 < p.q_len ? load_u32(q + row1 * p.q_strides.seq + col) : 0u;
      qf[kk][2] = row0 < p.q_len ? load_u32(q + row0 * p.q_strides.seq + col + 8) : 0u;
      qf[kk][3] = row1 < p.q_len ? load_u32(q + row1 * p.q_strides.seq + col + 8) : 0u;
    }
#pragma unroll
    for (int n = 0; n < HD / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;
    if (p.mask != nullptr) {
      mask0 = p.mask + b * p.mask_batch + int64_t(min(row0, p.q_len - 1)) * p.mask_query;
      mask1 = p.mask + b * p.mask_batch + int64_t(min(row1, p.q_len - 1)) * p.mask_query;
    }
  }
};

// One warp's 16 query rows against one tile of BN keys (shared memory):
// scale, cap, mask, online softmax, O += P V.
template <int HD, int BN>
__device__ __forceinline__ void attend_tile(const AttentionForwardParams& p, Rows<HD>& rows,
                                            const __nv_bfloat16 (*ks)[HD + kPad],
                                            const __nv_bfloat16 (*vs)[HD + kPad], int start) {
  const int lane = threadIdx.x % 32, g = lane / 4, c = (lane % 4) * 2;
  const uint32_t (&qf)[HD / 16][4] = rows.qf;
  const bool* mask0 = rows.mask0;
  const bool* mask1 = rows.mask1;
  float &m0 = rows.m0, &m1 = rows.m1, &l0 = rows.l0, &l1 = rows.l1;
  float (&acc)[HD / 8][4] = rows.acc;
  float s[BN / 8][4];
#pragma unroll
  for (int j = 0; j < BN / 8; ++j) {
    s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
    if (start + j * 8 >= p.kv_len) continue;  // all-padding n-tile: masked below
#pragma unroll
    for (int kk = 0; kk < HD / 16; ++kk) {
      mma_bf16_16816(s[j], qf[kk], load_u32(&ks[j * 8 + g][kk * 16 + c]), load_u32(&ks[j * 8 + g][kk * 16 + c + 8]));
    }
  }
  const bool capped = p.cap > 0.0f;
  const float inv_cap = capped ? 1.0f / p.cap : 0.0f;
  float tile_max0 = -INFINITY, tile_max1 = -INFINITY;
#pragma unroll
  for (int j = 0; j < BN / 8; ++j) {
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int key = start + j * 8 + c + (e & 1);
      float x = s[j][e] * p.scale;
      if (capped) x = p.cap * tanh_approx(x * inv_cap);
      if (key >= p.kv_len) {
        x = -INFINITY;
      } else if (mask0 != nullptr && (e < 2 ? mask0 : mask1)[int64_t(key) * p.mask_key]) {
        x = kMaskValue;
      }
      s[j][e] = x;
    }
    tile_max0 = fmaxf(tile_max0, fmaxf(s[j][0], s[j][1]));
    tile_max1 = fmaxf(tile_max1, fmaxf(s[j][2], s[j][3]));
  }
  const float new_m0 = fmaxf(m0, quad_max(tile_max0));
  const float new_m1 = fmaxf(m1, quad_max(tile_max1));
  const float corr0 = exp2f((m0 - new_m0) * kLog2e);
  const float corr1 = exp2f((m1 - new_m1) * kLog2e);
  m0 = new_m0;
  m1 = new_m1;
  float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
  for (int j = 0; j < BN / 8; ++j) {
    s[j][0] = exp2f((s[j][0] - m0) * kLog2e);
    s[j][1] = exp2f((s[j][1] - m0) * kLog2e);
    s[j][2] = exp2f((s[j][2] - m1) * kLog2e);
    s[j][3] = exp2f((s[j][3] - m1) * kLog2e);
    sum0 += s[j][0] + s[j][1];
    sum1 += s[j][2] + s[j][3];
  }
  l0 = l0 * corr0 + sum0;
  l1 = l1 * corr1 + sum1;
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) {
    acc[n][0] *= corr0;
    acc[n][1] *= corr0;
    acc[n][2] *= corr1;
    acc[n][3] *= corr1;
  }
#pragma unroll
  for (int kk = 0; kk < BN / 16; ++kk) {
    if (start + kk * 16 >= p.kv_len) continue;  // P is zero there
    uint32_t pa[4];
    pa[0] = pack_bf16(s[2 * kk][0], s[2 * kk][1]);
    pa[1] = pack_bf16(s[2 * kk][2], s[2 * kk][3]);
    pa[2] = pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]);
    pa[3] = pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
    for (int n = 0; n < HD / 16; ++n) {
      uint32_t vb[4];
      ldmatrix_x4_trans(vb, &vs[kk * 16 + ((lane / 8) % 2) * 8 + lane % 8][n * 16 + (lane / 16) * 8]);
      mma_bf16_16816(acc[2 * n], pa, vb[0], vb[1]);
      mma_bf16_16816(acc[2 * n + 1], pa, vb[2], vb[3]);
    }
  }
}

// Normalizes and writes rows row0 and row0 + 8 of O (and their log-sum-exp).
template <int HD>
__device__ __forceinline__ void store_o(const AttentionForwardParams& p, int b, int head, int row0, Rows<HD>& rows) {
  const int c = (threadIdx.x % 4) * 2, row1 = row0 + 8;
  const float m0 = rows.m0, m1 = rows.m1;
  float l0 = rows.l0, l1 = rows.l1;
  float (&acc)[HD / 8][4] = rows.acc;
  l0 = quad_sum(l0);
  l1 = quad_sum(l1);
  const float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
  auto* o = static_cast<__nv_bfloat16*>(p.o) + b * p.o_strides.batch + head * p.o_strides.head;
#pragma unroll
  for (int n = 0; n < HD / 8; ++n) {
    const int col = n * 8 + c;
    if (row0 < p.q_len) {
      *reinterpret_cast<uint32_t*>(o + row0 * p.o_strides.seq + col) = pack_bf16(acc[n][0] * inv0, acc[n][1] * inv0);
    }
    if (row1 < p.q_len) {
      *reinterpret_cast<uint32_t*>(o + row1 * p.o_strides.seq + col) = pack_bf16(acc[n][2] * inv1, acc[n][3] * inv1);
    }
  }
  if (p.lse != nullptr && c == 0) {
    float* lse = p.lse + (int64_t(b) * p.heads + head) * p.q_len;
    if (row0 < p.q_len) lse[row0] = m0 + logf(l0);
    if (row1 < p.q_len) lse[row1] = m1 + logf(l1);
  }
}

// Long queries: one CTA per (64 queries, head, batch), K/V tiles of 64 shared
// by the 4 warps, double-buffered for head dims <= 64.
template <int HD>
__global__ void __launch_bounds__(kThreads, 3) attention_forward_kernel(const AttentionForwardParams p) {
  constexpr int kStages = HD <= 64 ? 2 : 1;
  __shared__ __align__(16) __nv_bfloat16 ks[kStages][kBlockN][HD + kPad];
  __shared__ __align__(16) __nv_bfloat16 vs[kStages][kBlockN][HD + kPad];
  const int b = blockIdx.x / p.heads, head = blockIdx.x % p.heads;
  const int warp = threadIdx.x / 32, g = (threadIdx.x % 32) / 4;
  const bool warp_active = blockIdx.y * kBlockM + warp * 16 < p.q_len;
  const int row0 = blockIdx.y * kBlockM + warp * 16 + g;
  const auto* q = static_cast<const __nv_bfloat16*>(p.q) + b * p.q_strides.batch + head * p.q_strides.head;
  const auto* k = static_cast<const __nv_bfloat16*>(p.k) + b * p.k_strides.batch + head * p.k_strides.head;
  const auto* v = static_cast<const __nv_bfloat16*>(p.v) + b * p.v_strides.batch + head * p.v_strides.head;

  const int tiles = (p.kv_len + kBlockN - 1) / kBlockN;
  load_tile_async<HD, kBlockN>(ks[0], k, p.k_strides.seq, 0, p.kv_len, threadIdx.x, kThreads);
  load_tile_async<HD, kBlockN>(vs[0], v, p.v_strides.seq, 0, p.kv_len, threadIdx.x, kThreads);
  cp_async_commit();

  Rows<HD> rows(p, q, b, row0);

  for (int t = 0; t < tiles; ++t) {
    if (kStages == 2 && t + 1 < tiles) {
      const int next = (t + 1) % kStages;
      load_tile_async<HD, kBlockN>(ks[next], k, p.k_strides.seq, (t + 1) * kBlockN, p.kv_len, threadIdx.x, kThreads);
      load_tile_async<HD, kBlockN>(vs[next], v, p.v_strides.seq, (t + 1) * kBlockN, p.kv_len, threadIdx.x, kThreads);
      cp_async_commit();
      cp_async_wait<1>();  // tile t has landed
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const int buf = t % kStages;
    if (warp_active) attend_tile<HD, kBlockN>(p, rows, ks[buf], vs[buf], t * kBlockN);
    __syncthreads();  // buffer `buf` is refilled next
    if (kStages == 1 && t + 1 < tiles) {
      load_tile_async<HD, kBlockN>(ks[0], k, p.k_strides.seq, (t + 1) * kBlockN, p.kv_len, threadIdx.x, kThreads);
      load_tile_async<HD, kBlockN>(vs[0], v, p.v_strides.seq, (t + 1) * kBlockN, p.kv_len, threadIdx.x, kThreads);
      cp_async_commit();
    }
  }
  if (warp_active) store_o<HD>(p, b, head, row0, rows);
}

// Short queries (q_len <= 16): each warp owns one (batch, head) and walks the
// keys in private 16-key tiles, double-buffered; no block-level barriers.
constexpr int kShortKeys = 16;
template <int HD>
__global__ void __launch_bounds__(kThreads) attention_forward_short_kernel(const AttentionForwardParams p) {
  constexpr int kStages = HD <= 64 ? 2 : 1;  // static shared memory stays under 48 KB
  __shared__ __align__(16) __nv_bfloat16 ks[4][kStages][kShortKeys][HD + kPad];
  __shared__ __align__(16) __nv_bfloat16 vs[4][kStages][kShortKeys][HD + kPad];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4;
  const int64_t item = int64_t(blockIdx.x) * 4 + warp;
  if (item >= int64_t(p.batch) * p.heads) return;  // whole warp leaves; no block barriers below
  const int b = int(item / p.heads), head = int(item % p.heads);
  const int row0 = g;
  const auto* q = static_cast<const __nv_bfloat16*>(p.q) + b * p.q_strides.batch + head * p.q_strides.head;
  const auto* k = static_cast<const __nv_bfloat16*>(p.k) + b * p.k_strides.batch + head * p.k_strides.head;
  const auto* v = static_cast<const __nv_bfloat16*>(p.v) + b * p.v_strides.batch + head * p.v_strides.head;

  const int tiles = (p.kv_len + kShortKeys - 1) / kShortKeys;
  load_tile_async<HD, kShortKeys>(ks[warp][0], k, p.k_strides.seq, 0, p.kv_len, lane, 32);
  load_tile_async<HD, kShortKeys>(vs[warp][0], v, p.v_strides.seq, 0, p.kv_len, lane, 32);
  cp_async_commit();

  Rows<HD> rows(p, q, b, row0);
  for (int t = 0; t < tiles; ++t) {
    if (kStages == 2 && t + 1 < tiles) {
      const int next = (t + 1) % kStages;
      load_tile_async<HD, kShortKeys>(ks[warp][next], k, p.k_strides.seq, (t + 1) * kShortKeys, p.kv_len, lane, 32);
      load_tile_async<HD, kShortKeys>(vs[warp][next], v, p.v_strides.seq, (t + 1) * kShortKeys, p.kv_len, lane, 32);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncwarp();
    const int buf = t % kStages;
    attend_tile<HD, kShortKeys>(p, rows, ks[warp][buf], vs[warp][buf], t * kShortKeys);
    __syncwarp();  // buffer `buf` is refilled next
    if (kStages == 1 && t + 1 < tiles) {
      load_tile_async<HD, kShortKeys>(ks[warp][0], k, p.k_strides.seq, (t + 1) * kShortKeys, p.kv_len, lane, 32);
      load_tile_async<HD, kShortKeys>(vs[warp][0], v, p.v_strides.seq, (t + 1) * kShortKeys, p.kv_len, lane, 32);
      cp_async_commit();
    }
  }
  store_o<HD>(p, b, head, row0, rows);
}

template <int HD>
cudaError_t launch_forward(const AttentionForwardParams& p, cudaStream_t stream) {
  const int64_t items = int64_t(p.batch) * p.heads;
  if (p.q_len <= 16) {
    attention_forward_short_kernel<HD><<<unsigned((items + 3) / 4), kThreads, 0, stream>>>(p);
  } else {
    dim3 grid(unsigned(items), (p.q_len + kBlockM - 1) / kBlockM);
    attention_forward_kernel<HD><<<grid, kThreads, 0, stream>>>(p);
  }
  return cudaGetLastError();
}

}  // namespace

bool attention_head_dim_supported(int head_dim, bool backward) {
  return head_dim > 0 && head_dim % 16 == 0 && head_dim <= (backward ? 64 : 128);
}

cudaError_t attention_forward(const AttentionForwardParams& p, cudaStream_t stream) {
  if (p.q_len == 0 || p.batch == 0 || p.heads == 0) return cudaSuccess;
  switch (p.head_dim) {
    case 16: return launch_forward<16>(p, stream);
    case 32: return launch_forward<32>(p, stream);
    case 48: return launch_forward<48>(p, stream);
    case 64: return launch_forward<64>(p, stream);
    case 80: return launch_forward<80>(p, stream);
    case 96: return launch_forward<96>(p, stream);
    case 112: return launch_forward<112>(p, stream);
    case 128: return launch_forward<128>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace videoprism::cuda
