// Warp-level tensor-core helpers (sm_80+): bf16 m16n8k16 MMA with float32
// accumulators, ldmatrix, and the fragment layouts they imply.
//
// Fragment layouts of mma.m16n8k16 (lane = threadIdx.x % 32, g = lane / 4,
// c = (lane % 4) * 2), each 32-bit register holding two bf16 (low half first):
//   A [16 x 16] row-major: a0 = A[g][c..c+1]   a1 = A[g+8][c..c+1]
//                          a2 = A[g][c+8..c+9] a3 = A[g+8][c+8..c+9]
//   B [16 x 8] (k x n):    b0 = B[c..c+1][g]   b1 = B[c+8..c+9][g]
//   C [16 x 8] float:      c0,c1 = C[g][c..c+1]  c2,c3 = C[g+8][c..c+1]
#pragma once

#include <cuda_bf16.h>
#include <cstdint>

namespace videoprism::cuda {

__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 b16 matrices, transposed: lane l gives the address of row l % 8 of
// matrix l / 8; register i receives matrix i's fragment of the transpose.
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* smem_row) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(smem_row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t load_u32(const void* p) { return *reinterpret_cast<const uint32_t*>(p); }

// Hardware tanh (sm_75+), max relative error 2^-10.99: below bf16's rounding.
__device__ __forceinline__ float tanh_approx(float x) {
  float y;
  asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ float quad_max(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}

__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// The reference's mask value: -0.7 * float32 max.
constexpr float kMaskValue = -0.7f * 3.40282347e+38f;
constexpr float kLog2e = 1.4426950408889634f;

}  // namespace videoprism::cuda
