// Position embeddings: resizing of learned ones exactly as
// jax.image.resize(..., method='bilinear') does it, and the text tower's
// sinusoidal embedding.
#pragma once

#include <torch/torch.h>

namespace videoprism {

// Weights W [in_size, out_size] of jax.image.scale_and_translate along one
// axis with the triangle (bilinear) kernel, scale = out/in, no translation:
// sample positions at half-pixel centres, and when shrinking (antialias) the
// kernel is widened by in/out. Columns are normalized to sum to 1; samples
// outside the input are zero. Computed in float64, returned float32.
torch::Tensor bilinear_resize_weights(int64_t in_size, int64_t out_size, bool antialias = true);

// emb: [H0*W0, D] (row-major grid) -> [H*W, D]. Identity when the grid matches.
torch::Tensor resize_emb_2d(const torch::Tensor& emb, int64_t h0, int64_t w0, int64_t h, int64_t w);
// emb: [T0, D] -> [T, D].
torch::Tensor resize_emb_1d(const torch::Tensor& emb, int64_t t);

// Sinusoidal embedding [length, dim]: [sin(p * inv), cos(p * inv)] concatenated,
// inv_i = exp(-i * ln(10000) / max(dim/2 - 1, 1)); zero-padded for odd dim.
torch::Tensor sinusoidal_position_embedding(int64_t length, int64_t dim);

}  // namespace videoprism
