// FeedForward (`linear` Dense: kernel [in, out], bias [out]) and the
// transformer block's TransformerFeedForward with its norm policies.
#pragma once

#include <torch/torch.h>

#include "layers/int8_weights.h"
#include "layers/layer_norm.h"
#include "videoprism/config.h"

namespace videoprism {

enum class Activation { kIdentity, kRelu, kGeluExact };
torch::Tensor apply_activation(const torch::Tensor& x, Activation activation);

// Holds the `linear` sub-module so names match `.../ffn_layer1/linear/kernel`.
class DenseImpl : public torch::nn::Module {
 public:
  DenseImpl(int64_t in_dim, int64_t out_dim, int64_t stack);
  // As an int8 GEMM when use_int8(x) (layers/int8_weights.h).
  torch::Tensor forward(const torch::Tensor& x, int64_t layer = -1);  // [..., in] -> [..., out]
  // Quantizes every layer's kernel to int8 now (else on first int8 use).
  void prepare_int8();
  void clear_int8() { int8_->clear(); }
  torch::Tensor kernel;  // [L?, in, out]
  torch::Tensor bias;    // [L?, out]

 private:
  const ops::Int8Linear& int8_at(int64_t layer);
  std::shared_ptr<Int8Weights> int8_ = std::make_shared<Int8Weights>();
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
