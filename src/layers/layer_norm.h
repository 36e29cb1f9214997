// LayerNorm with the official parameterization: the stored `scale` is an
// offset from 1, epsilon 1e-6, biased variance over the last axis.
#pragma once

#include <torch/torch.h>

namespace videoprism {

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t dim, int64_t stack = 0);
  // x: [..., D] -> [..., D]. `layer` selects the slice of a stacked LN.
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);

  torch::Tensor scale;  // [L?, D], offset from 1
  torch::Tensor bias;   // [L?, D]

 private:
  int64_t dim_;
};
TORCH_MODULE(LayerNorm);

}  // namespace videoprism
