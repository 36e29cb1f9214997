// Stage-2 decoders (training only, discarded after stage 2):
//
//   token decoder:  visible encoder outputs [B, L, D] -> input_projection (D -> Dd)
//                   -> masked slots := mask_token -> shuffle (per-sample perm)
//                   -> + pos_emb[slot] -> transformer blocks -> output_ln
//                   -> output_projection (Dd -> D) -> [B, L, D], slot j scored
//                   against teacher token j (not against the token it holds)
//   global decoder: visible encoder outputs -> input_projection -> blocks (no
//                   position embedding, no shuffle; paddings mark masked slots)
//                   -> MAP pooler (Dd) -> output_projection (Dd -> D) -> [B, D]
//
// Parameters are float32 and cast at use like the model's; their keys
// ("decoders/token_decoder/...") go to decoders.npz in a checkpoint.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "videoprism/core/config.h"
#include "videoprism/train_step/recipe.h"

namespace videoprism::train {


struct Stage2Predictions {
  torch::Tensor tokens;  // [B, L, D] in original token order (undefined when off)
  torch::Tensor global;  // [B, D] (undefined when off)
};

class TokenDecoderImpl;
class GlobalDecoderImpl;

class Stage2DecodersImpl : public torch::nn::Module {
 public:
  // encoder_dim: D (student and teacher width); length: L = T*N tokens per clip.
  Stage2DecodersImpl(const DecoderOptions& options, int64_t encoder_dim, int64_t length, bool token_branch,
                     bool global_branch);

  // Token branch. visible [B, L, D]: encoder outputs by original slot (masked
  // slots are ignored); mask [B, L] (1 = masked); perm [B, L] or undefined
  // (no shuffle). Returns [B, L, D] in original order: row j is what slot j
  // (position embedding j) predicts for teacher token j; with a perm, slot j's
  // input is token perm[j], so no token is decoded at its own slot by default.
  torch::Tensor predict_tokens(const torch::Tensor& visible, const torch::Tensor& mask, const torch::Tensor& perm);
  // Global branch. tokens [B, S, D]; paddings [B, S] (1 = masked) or undefined.
  torch::Tensor predict_global(const torch::Tensor& tokens, const torch::Tensor& paddings);

  // ("decoders/<path>", parameter), '/'-separated like the model's keys.
  std::vector<std::pair<std::string, torch::Tensor>> named_arrays() const;
  // Dense kernels and attention weights ~ N(0, 1/fan_in), the mask token and
  // position embedding ~ N(0, 0.02), the pooling query ~ N(0, 1/sqrt(Dd)),
  // biases and LayerNorm offsets 0.
  void init_random(uint64_t seed);

  bool has_token_branch() const { return token_branch_; }
  bool has_global_branch() const { return global_branch_; }

 private:
  bool token_branch_, global_branch_;
  std::shared_ptr<TokenDecoderImpl> token_decoder_;
  std::shared_ptr<GlobalDecoderImpl> global_decoder_;
};
TORCH_MODULE(Stage2Decoders);

// 1 - cos(pred, target) over the last axis, averaged over everything else; float32.
torch::Tensor cosine_distance(const torch::Tensor& pred, const torch::Tensor& target);

}  // namespace videoprism::train
