// Stage1Trainer: the stage-1 training loop.
#include "videoprism/train/stage1.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "models/model_modules.h"
#include "train_step/train_step.h"
#include "train/training_loop.h"
#include "videoprism/core/error.h"
#include "videoprism/media/tokenizer.h"
#include "videoprism/train/checkpoint.h"
#include "train_step/contrastive_loss.h"
#include "videoprism/train_step/device.h"
#include "train/distributed.h"
#include "train/metrics.h"

namespace videoprism::train {
namespace fs = std::filesystem;
namespace {

const char* kLogitScaleKey = "train/log_logit_scale";

}  // namespace

struct Stage1Trainer::Impl : TrainerRun {
  Stage1Config config;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  torch::Tensor log_scale;  // scalar float32, on the device

  void save_checkpoint() {
    if (dist.is_main()) {
      CheckpointFiles files;
      NamedArrays arrays = optimizer->state_arrays();
      arrays.emplace_back(kLogitScaleKey, log_scale.detach().reshape({1}).clone());
      files.npz["optimizer.npz"] = std::move(arrays);
      files.state = {{"stage", "stage1"},
                     {"step", step},
                     {"data_position", to_json(position)},
                     {"skipped_items", loader->skipped()},
                     {"rng", {{"seed", config.seed}, {"scheme", "stateless: keyed by (seed, step, micro, item)"}}},
                     {"logit_scale", std::exp(log_scale.item<double>())},
                     {"loss", last_loss},
                     {"world_size", dist.world()},
                     {"config", to_json(config)}};
      store->save(step, *model, files);
      if (config.plot) plot_loss_curve(metrics->path(), (fs::path(run_dir) / "loss.png").string(), "stage-1 contrastive loss");
    }
    last_saved = step;
    dist.barrier();
  }

  Stage1Step train_step() {
    const auto start = std::chrono::steady_clock::now();
    VideoTextBatch batch = loader->next();
    TokenizedBatch text = tokenizer->tokenize(batch.captions, config.max_text_length);
    // The batch on the training device (pinned by the loader when that is a GPU).
    const torch::Tensor video = to_device(batch.video, device);                 // [b*A, T, S, S, 3]
    const torch::Tensor frame_paddings = to_device(batch.frame_paddings, device);  // [b*A, T]
    const torch::Tensor text_ids = to_device(text.ids, device);                 // [b*A, L]
    const torch::Tensor text_paddings = to_device(text.paddings, device);       // [b*A, L]
    const int micro = config.grad_accum;
    const int64_t local = batch.video.size(0) / micro;
    const int64_t per_micro_global = config.batch_size / micro;
    const auto& encoder = model->config().encoder;
    const int64_t grid = (config.data_options.image_size / encoder.patch_size);
    optimizer->zero_grad();
    double loss_sum = 0.0;
    const MicroBatchRows rows{per_micro_global, dist.rank() * local, local};
    for (int m = 0; m < micro; ++m) {
      const torch::Tensor keep = stage1_keep_indices(config, rows, grid * grid, step, m, device);  // [local, K]
      torch::Tensor loss = stage1_micro_loss(*model, log_scale, dist, video.narrow(0, m * local, local),
                                             frame_paddings.narrow(0, m * local, local), keep,
                                             text_ids.narrow(0, m * local, local),
                                             text_paddings.narrow(0, m * local, local), dtype);
      (loss / double(micro)).backward();
      loss_sum += loss.item<double>();
    }
    // Every rank computed the global loss with gradient through its own
    // features only, so the towers' full gradient is the sum over ranks; the
    // logit scale's gradient is the same on every rank (average it).
    reduce_gradients(*optimizer, dist, /*mean=*/false);
    if (log_scale.grad().defined() && config.learn_temperature) log_scale.mutable_grad().div_(dist.world());
    const double lr = schedule.at(step);
    const double norm = clip_and_step(*optimizer, config.clip_grad_norm, lr);
    {
      torch::NoGradGuard no_grad;
      log_scale.clamp_max_(std::log(config.logit_scale_max));
    }
    ++step;
    position = batch.position_after;
    last_loss = loss_sum / micro;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Stage1Step out;
    out.step = step;
    out.loss = last_loss;
    out.temperature = std::exp(-log_scale.item<double>());
    out.lr = lr;
    out.grad_norm = norm;
    out.clips_per_s = double(config.batch_size) / std::max(seconds, 1e-9);
    if (metrics) {
      metrics->write({{"step", out.step},
                      {"loss", out.loss},
                      {"temperature", out.temperature},
                      {"logit_scale", 1.0 / out.temperature},
                      {"lr", out.lr},
                      {"grad_norm", out.grad_norm},
                      {"clips_per_s", out.clips_per_s},
                      {"step_s", seconds},
                      {"dataset", batch.dataset}});
    }
    return out;
  }
};

Stage1Trainer::Stage1Trainer(Stage1Config config, std::string run_dir, bool resume) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  config.data_options.seed = config.seed;
  config.validate();
  s.config = config;
  s.open_run(config, "stage1", run_dir, resume);
  const std::optional<std::string>& checkpoint = s.checkpoint;

  s.model = std::make_unique<Model>(config.resolved_model());
  if (checkpoint) {
    s.model->load_weights(*checkpoint + "/model.npz");
  } else if (!config.init.empty()) {
    s.model->load_weights(config.init);
  } else {
    s.model->init_random(config.seed);
  }
  if (!checkpoint && !config.vision_encoder_init.empty()) {
    // A bare encoder checkpoint: its keys are the vision encoder's without the prefix.
    Model encoder = Model::load(config.vision_encoder_init);
    check(encoder.config().kind == ModelKind::kEncoder, "stage1: vision_encoder_init ", config.vision_encoder_init,
          " is a ", to_string(encoder.config().kind), ", expected a FactorizedEncoder");
    copy_encoder_weights(encoder_module(encoder, "stage1: vision_encoder_init"),
                         *video_clip_module(*s.model, "stage1").vision_encoder,
                         "stage1: vision_encoder_init " + config.vision_encoder_init);
  }
  // Initialized (or loaded) on the CPU, then moved: the same weights on every device.
  s.model->to(s.device);
  s.tokenizer = std::make_unique<Tokenizer>(config.tokenizer);
  check(s.tokenizer->vocab_size() <= s.model->config().vocabulary_size, "stage1: tokenizer vocabulary ",
        s.tokenizer->vocab_size(), " exceeds the model's vocabulary_size ", s.model->config().vocabulary_size);

  std::vector<NamedParameter> params;
  for (auto& [key, tensor] : s.model->named_arrays()) {
    const bool frozen = config.freeze_vision_encoder && key.rfind("params/vision_encoder/", 0) == 0;
    tensor.set_requires_grad(!frozen);
    if (!frozen) params.push_back({key, tensor, takes_weight_decay(key)});
  }
  s.log_scale = torch::full({}, std::log(1.0 / config.temperature_init),
                            torch::TensorOptions().dtype(torch::kFloat32).device(s.device));
  if (config.learn_temperature) {
    s.log_scale.set_requires_grad(true);
    params.push_back({kLogitScaleKey, s.log_scale, false});
  }
  s.optimizer = std::make_unique<AdamW>(std::move(params), config.adamw);
  s.schedule = {config.lr, config.warmup_steps, config.steps, config.decay, config.min_lr_ratio};

  s.start_data(config, resume);
  if (checkpoint) {
    // The logit scale is saved with the optimizer state (also when it is not learned).
    for (const auto& [key, value] : s.restored.npz.at("optimizer.npz")) {
      if (key == kLogitScaleKey) {
        torch::NoGradGuard no_grad;
        s.log_scale.copy_(value.reshape({}));
      }
    }
  }
  s.restored = {};  // optimizer state and weights are in place: free the read copies
}

Stage1Trainer::~Stage1Trainer() = default;

std::vector<Stage1Step> Stage1Trainer::run() { return run_training_loop<Stage1Step>(*impl_, "stage1"); }

Model& Stage1Trainer::model() { return *impl_->model; }
int64_t Stage1Trainer::step() const { return impl_->step; }
double Stage1Trainer::logit_scale() const { return std::exp(impl_->log_scale.item<double>()); }
int64_t Stage1Trainer::skipped_items() const { return impl_->loader->skipped(); }

}  // namespace videoprism::train
