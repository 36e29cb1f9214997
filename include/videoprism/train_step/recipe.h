// The settings of one training step: what the trainers (videoprism/train/)
// and `bench --train` (train_bench.h) both run. Stage1Config and Stage2Config
// extend these with the run's data, model, device and checkpoint settings.
#pragma once

#include <cstdint>
#include <string>

#include "videoprism/core/config.h"

namespace videoprism::train {

// Learning-rate decay after the linear warm-up.
enum class Decay { kConstant, kLinear, kCosine };
Decay parse_decay(const std::string& name);  // constant|linear|cosine
std::string to_string(Decay decay);

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-4;  // applied to parameters whose name takes decay
};

// Stage-2 masks.
enum class MaskKind {
  kTube,   // one spatial mask shared by every frame: masked tokens physically dropped
  kBlock,  // BEVT-style block-wise 2-D masks, ragged per frame: attention paddings
};
MaskKind parse_mask_kind(const std::string& name);  // tube|block
std::string to_string(MaskKind kind);

// The stage-2 decoders' sizes.
struct DecoderOptions {
  int64_t num_layers = 4;
  int64_t model_dim = 512;  // 0 (auto): 512 when the encoder is at least that wide, else the encoder width
  int64_t mlp_dim = 2048;   // 0 (auto): 4 * model_dim
  int64_t num_heads = 8;    // 0 (auto): 8 for width 512, else the encoder's heads
};
// The sizes a decoder of `options` gets on top of `encoder` (autos resolved).
DecoderOptions resolve_decoder_options(DecoderOptions options, const EncoderConfig& encoder);

// Which distillation losses run and their weights.
struct Stage2LossOptions {
  bool token_loss = true;
  bool global_loss = true;
  double token_weight = 1.0;
  double global_weight = 1.0;
};

// Stage 1 (video-text contrastive): schedule, optimizer, token drop, temperature.
struct Stage1Recipe {
  int64_t steps = 1000;
  double lr = 1e-4;
  int64_t warmup_steps = 100;
  Decay decay = Decay::kCosine;
  double min_lr_ratio = 0.0;
  AdamWOptions adamw;           // weight decay skips norms, biases, embeddings
  double clip_grad_norm = 1.0;  // <= 0: no clipping

  double token_drop = 0.5;  // fraction of spatial positions dropped (tube masking)
  // Temperature (CLIP convention, chosen: the paper does not say): learnable
  // logit scale s = exp(p), initial 1/temperature_init, clamped at logit_scale_max.
  double temperature_init = 0.07;
  double logit_scale_max = 100.0;
  bool learn_temperature = true;
  uint64_t seed = 0;  // every random draw of the run (stateless, keyed by step)
};

// Stage 2 (masked distillation): masks, shuffling, losses, decoders, schedule.
struct Stage2Recipe {
  MaskKind mask_kind = MaskKind::kTube;
  double mask_ratio = 0.65;
  int64_t block_min_area = 2;  // smallest BEVT block, in patches

  bool shuffle = true;      // per-sample permutation in the token decoder
  bool token_loss = true;   // local (token-wise) distillation
  bool global_loss = true;  // global distillation
  double token_weight = 1.0;
  double global_weight = 1.0;
  DecoderOptions decoder{4, 0, 0, 0};  // 4 blocks; width/MLP/heads auto (512/2048/8 when D >= 512)

  int64_t steps = 1000;
  double lr = 5e-4;
  int64_t warmup_steps = 100;
  Decay decay = Decay::kCosine;
  double min_lr = 1e-5;  // absolute floor of the decay
  AdamWOptions adamw{0.9, 0.999, 1e-8, 0.05};
  double clip_grad_norm = 1.0;
  uint64_t seed = 0;

  Stage2LossOptions loss_options() const { return {token_loss, global_loss, token_weight, global_weight}; }
};

}  // namespace videoprism::train
