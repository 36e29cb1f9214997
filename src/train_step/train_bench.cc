// Synthetic training steps for throughput measurements (see train_bench.h):
// the trainers' own pieces on random weights and data.
#include "videoprism/train_step/train_bench.h"

#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "train_step/train_step.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/profile.h"
#include "train_step/contrastive_loss.h"
#include "videoprism/train_step/device.h"
#include "train_step/lr_schedule.h"
#include "train_step/masking.h"
#include "train_step/optimizer.h"
#include "train_step/stage1_forward.h"
#include "train_step/stage2_decoders.h"
#include "train_step/stage2_forward.h"
#include "train_step/train_flops.h"

namespace videoprism::train {
struct TrainBench::Impl {
  TrainBenchOptions options;
  Stage1Recipe stage1;  // the recipe's defaults
  Stage2Recipe stage2;
  std::unique_ptr<Model> model;    // stage1: the CLIP; stage2: the student encoder
  std::unique_ptr<Model> teacher;  // stage2
  Stage2Decoders decoders{nullptr};
  DecoderOptions decoder;          // resolved
  torch::Tensor log_scale;         // stage1: scalar float32
  std::unique_ptr<AdamW> optimizer;
  Collectives dist;  // one process
  LrSchedule schedule;
  torch::Tensor video_host;        // float32 [B, T, S, S, 3], pinned when training on a GPU
  torch::Tensor frame_paddings;    // [B, T] zeros (full clips), on the device
  torch::Tensor text_ids, text_paddings;  // stage1: [B, L] on the device
  int64_t grid = 0, step = 0, frozen = 0;

  void build_stage1() {
    check(options.model.kind == ModelKind::kVideoClip,
          "bench --train stage1: the model must be a FactorizedVideoCLIP, got ", to_string(options.model.kind));
    model = std::make_unique<Model>(options.model);
    model->init_random(options.seed);
    model->to(options.device);
    std::vector<NamedParameter> params;
    for (auto& [key, tensor] : model->named_arrays()) {
      tensor.set_requires_grad(true);
      params.push_back({key, tensor, takes_weight_decay(key)});
    }
    log_scale = torch::full({}, std::log(1.0 / stage1.temperature_init),
                            torch::TensorOptions().dtype(torch::kFloat32).device(options.device));
    if (stage1.learn_temperature) {
      log_scale.set_requires_grad(true);
      params.push_back({"train/log_logit_scale", log_scale, false});
    }
    optimizer = std::make_unique<AdamW>(std::move(params), stage1.adamw);
    schedule = {stage1.lr, stage1.warmup_steps, stage1.steps, stage1.decay, stage1.min_lr_ratio};
    // Captions: random ids, lengths U[1, L], padding after the length.
    const int64_t b = options.batch, l = options.text_length;
    torch::Tensor lengths = torch::randint(1, l + 1, {b, 1}, torch::kLong);
    torch::Tensor paddings = (torch::arange(l, torch::kLong).unsqueeze(0) >= lengths).to(torch::kFloat32);  // [B, L]
    torch::Tensor ids = torch::randint(1, options.model.vocabulary_size, {b, l}, torch::kLong) *
                        (1 - paddings).to(torch::kLong);  // [B, L], 0 at padding
    text_ids = to_device(ids, options.device);
    text_paddings = to_device(paddings, options.device);
  }

  void build_stage2() {
    check(options.model.kind == ModelKind::kVideoClip,
          "bench --train stage2: the teacher must be a FactorizedVideoCLIP, got ", to_string(options.model.kind));
    teacher = std::make_unique<Model>(options.model);
    teacher->init_random(options.seed);
    for (auto& [key, tensor] : teacher->named_arrays()) tensor.set_requires_grad(false);
    teacher->to(options.device);
    frozen = teacher->num_params();
    // The student starts as the teacher's vision encoder (as in training).
    const ModelConfig encoder_config = encoder_model_config(options.model);
    model = make_stage2_student(*teacher, options.device).model;
    decoder = resolve_decoder_options(stage2.decoder, encoder_config.encoder);
    decoders = make_stage2_decoders(decoder, encoder_config.encoder.model_dim, options.frames * grid * grid,
                                    stage2.token_loss, stage2.global_loss, options.seed, options.device);
    std::vector<NamedParameter> params;
    for (auto& [key, tensor] : model->named_arrays()) {
      tensor.set_requires_grad(true);
      params.push_back({key, tensor, takes_weight_decay(key)});
    }
    for (auto& [key, tensor] : decoders->named_arrays()) {
      tensor.set_requires_grad(true);
      params.push_back({key, tensor, takes_weight_decay(key)});
    }
    optimizer = std::make_unique<AdamW>(std::move(params), stage2.adamw);
    schedule = {stage2.lr, stage2.warmup_steps, stage2.steps, stage2.decay, stage2.min_lr / stage2.lr};
  }

  // The trainers' step (train_step.h) on the fixed batch, one micro-batch,
  // one process.
  TrainBenchStep step_stage1(const torch::Tensor& video) {
    const MicroBatchRows rows{options.batch, 0, options.batch};
    const torch::Tensor keep = stage1_keep_indices(stage1, rows, grid * grid, step, 0, options.device);  // [B, K]
    torch::Tensor loss = stage1_micro_loss(*model, log_scale, dist, video, frame_paddings, keep, text_ids,
                                           text_paddings, options.dtype);
    const double norm = update(loss, /*mean=*/false, stage1.clip_grad_norm, stage1.learn_temperature);
    {
      torch::NoGradGuard no_grad;
      log_scale.clamp_max_(std::log(stage1.logit_scale_max));
    }
    return {loss.item<double>(), norm};
  }

  TrainBenchStep step_stage2(const torch::Tensor& video) {
    const MicroBatchRows rows{options.batch, 0, options.batch};
    Stage2Losses losses =
        stage2_micro_losses(stage2, *teacher, *model, decoders, video, frame_paddings, rows, step, 0, options.dtype);
    const double norm = update(losses.total, /*mean=*/true, stage2.clip_grad_norm, false);
    return {losses.total.item<double>(), norm};
  }

  // Backward (profile region "backward"), the reduction and the update.
  double update(const torch::Tensor& loss, bool mean, double clip_norm, bool scale_logit_grad) {
    {
      profile::Region region("backward");
      loss.backward();
    }
    reduce_gradients(*optimizer, dist, mean);
    if (scale_logit_grad && log_scale.grad().defined()) log_scale.mutable_grad().div_(dist.world());
    return clip_and_step(*optimizer, clip_norm, schedule.at(step));
  }
};

TrainBench::TrainBench(const TrainBenchOptions& options) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.options = options;
  check(options.stage == "stage1" || options.stage == "stage2", "bench --train: expected stage1 or stage2, got '",
        options.stage, "'");
  check_arg(options.dtype != torch::kQInt8, "bench --train: --dtype int8 is for inference only; use f32 or bf16");
  check(options.batch > 0 && options.frames > 0 && options.size > 0 && options.text_length > 0,
        "bench --train: batch, frames, size and text length must be > 0");
  options.model.validate();
  const int64_t p = options.model.encoder.patch_size;
  check(options.size % p == 0, "bench --train: size ", options.size, " is not a multiple of the patch size ", p);
  s.grid = options.size / p;
  if (options.stage == "stage1") {
    s.build_stage1();
  } else {
    s.build_stage2();
  }
  // A fixed random clip batch, kept on the host like a loader's batch.
  s.video_host = torch::rand({options.batch, options.frames, options.size, options.size, 3});
  if (options.device.is_cuda()) s.video_host = s.video_host.pin_memory();
  s.frame_paddings = torch::zeros({options.batch, options.frames},
                                  torch::TensorOptions().dtype(torch::kFloat32).device(options.device));
}

TrainBench::~TrainBench() = default;

TrainBenchStep TrainBench::step() {
  Impl& s = *impl_;
  s.optimizer->zero_grad();
  const torch::Tensor video = to_device(s.video_host, s.options.device);  // [B, T, S, S, 3]
  TrainBenchStep out = s.options.stage == "stage1" ? s.step_stage1(video) : s.step_stage2(video);
  ++s.step;
  return out;
}

double TrainBench::train_flops_per_clip() const {
  const Impl& s = *impl_;
  const TrainBenchOptions& o = s.options;
  if (o.stage == "stage1") {
    return stage1_train_flops_per_clip(o.model, o.frames, o.size, o.size, s.stage1.token_drop, o.text_length);
  }
  return stage2_train_flops_per_clip(o.model, o.frames, o.size, o.size, s.stage2.mask_kind, s.stage2.mask_ratio,
                                     s.decoder, s.stage2.token_loss, s.stage2.global_loss);
}

std::string TrainBench::flops_formula() const {
  if (impl_->options.stage == "stage1") {
    return "3 x forward of the trained video-text model: video side (encoder + auxiliary layers + pooler) on the "
           "T x K kept tokens + text tower on L ids (+cls); 2 FLOPs per multiply-add, full attention score "
           "matrices, norms/softmax/loss/optimizer not counted";
  }
  return "1 x frozen teacher forward on the full clip (video_flops_per_clip) + 3 x forward of the trained parts: "
         "student encoder on the visible tokens + token decoder on all T*N slots + global decoder on the visible "
         "tokens; 2 FLOPs per multiply-add, full attention score matrices, norms/softmax/loss/optimizer not counted";
}

nlohmann::json TrainBench::recipe() const {
  const Impl& s = *impl_;
  nlohmann::json j;
  const int64_t n = s.grid * s.grid;
  if (s.options.stage == "stage1") {
    j = {{"token_drop", s.stage1.token_drop},
         {"kept_positions", s.stage1.token_drop > 0 ? kept_positions(n, s.stage1.token_drop) : n},
         {"text_length", s.options.text_length},
         {"learn_temperature", s.stage1.learn_temperature},
         {"weight_decay", s.stage1.adamw.weight_decay},
         {"clip_grad_norm", s.stage1.clip_grad_norm}};
  } else {
    j = {{"mask_kind", to_string(s.stage2.mask_kind)},
         {"mask_ratio", s.stage2.mask_ratio},
         {"visible_positions", s.stage2.mask_kind == MaskKind::kTube ? kept_positions(n, s.stage2.mask_ratio) : n},
         {"shuffle", s.stage2.shuffle},
         {"token_loss", s.stage2.token_loss},
         {"global_loss", s.stage2.global_loss},
         {"decoder_layers", s.decoder.num_layers},
         {"decoder_dim", s.decoder.model_dim},
         {"decoder_mlp_dim", s.decoder.mlp_dim},
         {"decoder_heads", s.decoder.num_heads},
         {"weight_decay", s.stage2.adamw.weight_decay},
         {"clip_grad_norm", s.stage2.clip_grad_norm}};
  }
  j["positions"] = n;
  j["optimizer"] = "adamw";
  return j;
}

int64_t TrainBench::trained_params() const {
  int64_t n = 0;
  for (const auto& p : impl_->optimizer->params()) n += p.tensor.numel();
  return n;
}

int64_t TrainBench::frozen_params() const { return impl_->frozen; }

}  // namespace videoprism::train
