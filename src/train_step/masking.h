// Stage-2 masks and token shuffling. All sampling is stateless: a mask or a
// permutation is a pure function of its seed, so resumed and distributed runs
// draw the same numbers (see stateless_seed).
//
// Token layout: a clip of T frames on a grid of N = gh*gw patches has L = T*N
// tokens, token index t*N + n (the FactorizedEncoder's output order).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "videoprism/train_step/recipe.h"

namespace videoprism::train {


// Seed of one draw, keyed by (seed, step, micro-batch, purpose).
uint64_t stateless_seed(uint64_t seed, int64_t step, int micro, uint64_t purpose);

// Tube masking: the sorted spatial positions kept in every frame, int64 [B, K],
// K = max(1, round(N * (1 - ratio))). Same draw as stage 1's token drop.
torch::Tensor sample_tube_keep(int64_t b, int64_t n, double ratio, uint64_t seed);

// The token mask of a tube mask: float32 [B, T*N], 1 = masked.
torch::Tensor tube_token_mask(const torch::Tensor& keep, int64_t t, int64_t n);

// BEVT-style block masking: float32 [B, T, N] (1 = masked). Each frame has
// exactly min(N-1, round(N * ratio)) masked positions, built from random
// rectangles (area >= min_block, aspect ratio in [0.3, 1/0.3], BEiT-style)
// on the gh x gw grid, topped up or trimmed at random single positions to the
// exact count. One 2-D mask is repeated over a random contiguous range of
// 50-75% of the frames; the remaining frames share a second mask, so masks
// are ragged across frames.
torch::Tensor sample_block_mask(int64_t b, int64_t t, int64_t gh, int64_t gw, double ratio, uint64_t seed,
                                int64_t min_block = 2);

// A fresh random permutation of [0, length) per row: int64 [B, length].
torch::Tensor sample_permutations(int64_t b, int64_t length, uint64_t seed);

// x [B, L, ...] -> slots [B, L, ...] with slots[:, j] = x[:, perm[:, j]].
torch::Tensor shuffle_tokens(const torch::Tensor& x, const torch::Tensor& perm);
// The inverse: y [B, L, ...] in slot order -> original order (out[:, perm[:, j]] = y[:, j]).
torch::Tensor unshuffle_tokens(const torch::Tensor& y, const torch::Tensor& perm);

}  // namespace videoprism::train
