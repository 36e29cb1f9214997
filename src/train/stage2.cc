// Stage2Trainer: the stage-2 training loop (shares checkpointing, optimizer,
// schedule, data, metrics and distribution with stage 1).
#include "videoprism/train/stage2.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "train_step/train_step.h"
#include "train/training_loop.h"
#include "videoprism/core/error.h"
#include "videoprism/train/checkpoint.h"
#include "videoprism/train_step/device.h"
#include "train/distributed.h"
#include "train/metrics.h"

namespace videoprism::train {
namespace fs = std::filesystem;

struct Stage2Trainer::Impl : TrainerRun {
  Stage2Config config;
  std::unique_ptr<Model> teacher, student;
  Stage2Decoders decoders{nullptr};
  // (student parameter, teacher's vision-encoder parameter) for the distance metric.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> pairs;

  double distance() const {
    torch::NoGradGuard no_grad;
    // Accumulated on the device in float64 (one synchronization, not one per
    // array; the same additions in the same order as on the CPU).
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
    torch::Tensor num = torch::zeros({}, f64), den = torch::zeros({}, f64);
    for (const auto& [s, t] : pairs) {
      num += (s - t).to(torch::kFloat64).pow(2).sum();
      den += t.to(torch::kFloat64).pow(2).sum();
    }
    return std::sqrt(num.item<double>() / std::max(den.item<double>(), 1e-30));
  }

  void save_checkpoint() {
    if (dist.is_main()) {
      CheckpointFiles files;
      files.npz["optimizer.npz"] = optimizer->state_arrays();
      NamedArrays decoder_arrays;
      for (auto& [key, value] : decoders->named_arrays()) decoder_arrays.emplace_back(key, value.detach().clone());
      files.npz["decoders.npz"] = std::move(decoder_arrays);
      files.state = {{"stage", "stage2"},
                     {"step", step},
                     {"data_position", to_json(position)},
                     {"skipped_items", loader->skipped()},
                     {"rng", {{"seed", config.seed}, {"scheme", "stateless: keyed by (seed, step, micro, purpose)"}}},
                     {"loss", last_loss},
                     {"world_size", dist.world()},
                     {"config", to_json(config)}};
      store->save(step, *student, files);
      if (config.plot) plot_loss_curve(metrics->path(), (fs::path(run_dir) / "loss.png").string(),
                                        "stage-2 distillation loss (token + global)");
    }
    last_saved = step;
    dist.barrier();
  }

  Stage2Step train_step() {
    const auto start = std::chrono::steady_clock::now();
    VideoTextBatch batch = loader->next();
    // The batch on the training device (pinned by the loader when that is a GPU).
    const torch::Tensor batch_video = to_device(batch.video, device);             // [b*A, T, S, S, 3]
    const torch::Tensor batch_paddings = to_device(batch.frame_paddings, device);  // [b*A, T]
    const int micro = config.grad_accum;
    const int64_t local = batch.video.size(0) / micro;
    const int64_t per_micro_global = config.batch_size / micro;
    optimizer->zero_grad();
    double loss_sum = 0, token_sum = 0, global_sum = 0;
    const MicroBatchRows rows{per_micro_global, dist.rank() * local, local};
    for (int m = 0; m < micro; ++m) {
      Stage2Losses losses = stage2_micro_losses(config, *teacher, *student, decoders,
                                                batch_video.narrow(0, m * local, local),
                                                batch_paddings.narrow(0, m * local, local), rows, step, m, dtype);
      (losses.total / double(micro)).backward();
      loss_sum += losses.total.item<double>();
      token_sum += losses.token.item<double>();
      global_sum += losses.global.item<double>();
    }
    // Each rank's loss is the mean over its clips: the global-batch gradient
    // is the mean of the ranks' gradients.
    reduce_gradients(*optimizer, dist, /*mean=*/true);
    std::vector<double> reduced = {loss_sum, token_sum, global_sum};
    if (dist.world() > 1) {
      std::vector<torch::Tensor> values = {torch::tensor(reduced, torch::kFloat64).to(torch::kFloat32)};
      dist.all_reduce_sum(values);
      for (int i = 0; i < 3; ++i) reduced[i] = values[0][i].item<double>() / dist.world();
    }
    const double lr = schedule.at(step);
    const double norm = clip_and_step(*optimizer, config.clip_grad_norm, lr);
    ++step;
    position = batch.position_after;
    last_loss = reduced[0] / micro;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Stage2Step out;
    out.step = step;
    out.loss = last_loss;
    out.token_loss = reduced[1] / micro;
    out.global_loss = reduced[2] / micro;
    out.lr = lr;
    out.grad_norm = norm;
    out.clips_per_s = double(config.batch_size) / std::max(seconds, 1e-9);
    out.distance = distance();
    if (metrics) {
      metrics->write({{"step", out.step},
                      {"loss", out.loss},
                      {"token_loss", out.token_loss},
                      {"global_loss", out.global_loss},
                      {"lr", out.lr},
                      {"grad_norm", out.grad_norm},
                      {"teacher_distance", out.distance},
                      {"clips_per_s", out.clips_per_s},
                      {"step_s", seconds},
                      {"dataset", batch.dataset}});
    }
    return out;
  }
};

Stage2Trainer::Stage2Trainer(Stage2Config config, std::string run_dir, bool resume) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  config.data_options.seed = config.seed;
  config.validate();
  s.config = config;
  s.open_run(config, "stage2", run_dir, resume);
  const std::optional<std::string>& checkpoint = s.checkpoint;
  const CheckpointFiles& restored = s.restored;

  // Teacher: frozen, full stage-1 model. Student: its vision encoder.
  const std::string teacher_path = resolve_model_checkpoint(config.teacher);
  s.teacher = std::make_unique<Model>(Model::load(teacher_path));
  check(s.teacher->config().kind == ModelKind::kVideoClip, "stage2: teacher ", teacher_path,
        " is a ", to_string(s.teacher->config().kind), ", expected a FactorizedVideoCLIP");
  for (auto& [key, tensor] : s.teacher->named_arrays()) tensor.set_requires_grad(false);
  s.teacher->to(s.device);
  const ModelConfig encoder_config = encoder_model_config(s.teacher->config());
  check(config.data_options.image_size % encoder_config.encoder.patch_size == 0, "stage2: image_size ",
        config.data_options.image_size, " is not a multiple of the patch size ", encoder_config.encoder.patch_size);
  Stage2Student student = make_stage2_student(*s.teacher, s.device);
  s.student = std::move(student.model);
  s.pairs = std::move(student.pairs);
  if (checkpoint) s.student->load_weights(*checkpoint + "/model.npz");

  const int64_t grid = config.data_options.image_size / encoder_config.encoder.patch_size;
  const int64_t length = int64_t(config.data_options.num_frames) * grid * grid;
  const DecoderOptions decoder = resolve_decoder_options(config.decoder, encoder_config.encoder);
  s.decoders = make_stage2_decoders(decoder, encoder_config.encoder.model_dim, length, config.token_loss,
                                    config.global_loss, config.seed, s.device);
  if (checkpoint) {
    std::map<std::string, torch::Tensor> saved(restored.npz.at("decoders.npz").begin(),
                                               restored.npz.at("decoders.npz").end());
    torch::NoGradGuard no_grad;
    for (auto& [key, tensor] : s.decoders->named_arrays()) {
      check(saved.count(key) > 0, *checkpoint, "/decoders.npz: missing '", key, "'");
      check(saved.at(key).sizes() == tensor.sizes(), *checkpoint, "/decoders.npz: '", key, "' expected ",
            tensor.sizes(), ", got ", saved.at(key).sizes());
      tensor.copy_(saved.at(key));
    }
  }

  std::vector<NamedParameter> params;
  for (auto& [key, tensor] : s.student->named_arrays()) {
    tensor.set_requires_grad(true);
    params.push_back({key, tensor, takes_weight_decay(key)});
  }
  for (auto& [key, tensor] : s.decoders->named_arrays()) {
    tensor.set_requires_grad(true);
    params.push_back({key, tensor, takes_weight_decay(key)});
  }
  s.optimizer = std::make_unique<AdamW>(std::move(params), config.adamw);
  s.schedule = {config.lr, config.warmup_steps, config.steps, config.decay, config.min_lr / config.lr};

  s.start_data(config, resume);
  s.restored = {};  // optimizer state and weights are in place: free the read copies
}

Stage2Trainer::~Stage2Trainer() = default;

std::vector<Stage2Step> Stage2Trainer::run() { return run_training_loop<Stage2Step>(*impl_, "stage2"); }

Model& Stage2Trainer::student() { return *impl_->student; }
Model& Stage2Trainer::teacher() { return *impl_->teacher; }
int64_t Stage2Trainer::step() const { return impl_->step; }
double Stage2Trainer::teacher_distance() const { return impl_->distance(); }

}  // namespace videoprism::train
