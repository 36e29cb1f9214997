#include "layers/position_embedding.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "videoprism/core/error.h"

namespace videoprism {

torch::Tensor bilinear_resize_weights(int64_t in_size, int64_t out_size, bool antialias) {
  check(in_size > 0 && out_size > 0, "resize: sizes must be positive, got ", in_size, " -> ", out_size);
  const double scale = static_cast<double>(out_size) / static_cast<double>(in_size);
  const double inv_scale = 1.0 / scale;
  const double kernel_scale = antialias ? std::max(inv_scale, 1.0) : 1.0;
  std::vector<double> weights(in_size * out_size, 0.0);  // [in, out]
  for (int64_t j = 0; j < out_size; ++j) {
    // Sample position of output j in input coordinates (pixel centres at i + 0.5).
    const double sample = (static_cast<double>(j) + 0.5) * inv_scale - 0.5;
    double total = 0.0;
    for (int64_t i = 0; i < in_size; ++i) {
      const double x = std::fabs(sample - static_cast<double>(i)) / kernel_scale;
      const double w = std::max(0.0, 1.0 - x);  // triangle kernel
      weights[i * out_size + j] = w;
      total += w;
    }
    const bool normalizable = std::fabs(total) > 1000.0 * 1.1920928955078125e-07;
    const bool inside = sample >= -0.5 && sample <= static_cast<double>(in_size) - 0.5;
    for (int64_t i = 0; i < in_size; ++i) {
      double& w = weights[i * out_size + j];
      w = (normalizable && inside) ? w / total : 0.0;
    }
  }
  return torch::tensor(weights, torch::kFloat64).view({in_size, out_size}).to(torch::kFloat32);
}

torch::Tensor resize_emb_2d(const torch::Tensor& emb, int64_t h0, int64_t w0, int64_t h, int64_t w) {
  check(emb.dim() == 2 && emb.size(0) == h0 * w0, "spatial position embedding: expected [", h0 * w0,
        ", D], got ", shape_str(emb.sizes()));
  if (h0 == h && w0 == w) return emb;
  const int64_t d = emb.size(1);
  torch::Tensor rows = bilinear_resize_weights(h0, h).to(emb.device(), emb.scalar_type());  // [H0, H]
  torch::Tensor cols = bilinear_resize_weights(w0, w).to(emb.device(), emb.scalar_type());  // [W0, W]
  torch::Tensor grid = emb.view({h0, w0, d});
  // out[i, j, :] = sum_{a, b} rows[a, i] cols[b, j] grid[a, b, :]
  torch::Tensor out = torch::einsum("abd,ai->ibd", {grid, rows});
  out = torch::einsum("ibd,bj->ijd", {out, cols});
  return out.reshape({h * w, d});
}

torch::Tensor resize_emb_1d(const torch::Tensor& emb, int64_t t) {
  check(emb.dim() == 2, "temporal position embedding: expected [T, D], got ", shape_str(emb.sizes()));
  if (emb.size(0) == t) return emb;
  torch::Tensor weights = bilinear_resize_weights(emb.size(0), t).to(emb.device(), emb.scalar_type());  // [T0, T]
  return torch::matmul(weights.t(), emb);
}

torch::Tensor sinusoidal_position_embedding(int64_t length, int64_t dim) {
  const int64_t num_timescales = dim / 2;
  const float increment = static_cast<float>(std::log(10000.0)) /
                          std::max(static_cast<float>(num_timescales) - 1.0f, 1.0f);
  torch::Tensor emb = torch::zeros({length, dim}, torch::kFloat32);
  auto a = emb.accessor<float, 2>();
  for (int64_t i = 0; i < num_timescales; ++i) {
    // float32 arithmetic, as the reference computes it.
    const float inv = std::exp(static_cast<float>(i) * -increment);
    for (int64_t p = 0; p < length; ++p) {
      const float t = static_cast<float>(p) * inv;
      a[p][i] = std::sin(t);
      a[p][num_timescales + i] = std::cos(t);
    }
  }
  return emb;
}

}  // namespace videoprism
