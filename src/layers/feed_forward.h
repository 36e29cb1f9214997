// FeedForward (`linear` Dense: kernel [in, out], bias [out]) and the
// transformer block's TransformerFeedForward with its norm policies.
#pragma once

#include <torch/torch.h>

#include "layers/layer_norm.h"
#include "videoprism/config.h"

namespace videoprism {

enum class Activation { kIdentity, kRelu, kGeluExact };
torch::Tensor apply_activation(const torch::Tensor& x, Activation activation);

// Holds the `linear` sub-module so names match `.../ffn_layer1/linear/kernel`.
class DenseImpl : public torch::nn::Module {
 public:
  DenseImpl(int64_t in_dim, int64_t out_dim, int64_t stack);
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);  // [..., in] -> [..., out]
  torch::Tensor kernel;  // [L?, in, out]
  torch::Tensor bias;    // [L?, out]
};
TORCH_MODULE(Dense);

class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t in_dim, int64_t out_dim, Activation activation, int64_t stack = 0);
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);
  Dense linear{nullptr};

 private:
  Activation activation_;
};
TORCH_MODULE(FeedForward);

class TransformerFeedForwardImpl : public torch::nn::Module {
 public:
  TransformerFeedForwardImpl(int64_t dim, int64_t hidden_dim, Activation activation, NormPolicy policy,
                             int64_t stack);
  // x: [B, T, D]; paddings: [B, T] or undefined. Returns x + FFN(x) per policy.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& paddings, int64_t layer = -1);

  LayerNorm layer_norm{nullptr}, pre_layer_norm{nullptr}, post_layer_norm{nullptr};
  FeedForward ffn_layer1{nullptr}, ffn_layer2{nullptr};

 private:
  Activation activation_;
  NormPolicy policy_;
};
TORCH_MODULE(TransformerFeedForward);

}  // namespace videoprism
