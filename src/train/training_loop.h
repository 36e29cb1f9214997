// What both pre-training stages share: the run-level state and its setup
// (TrainerRun) and the step loop: run until `stop_at` (or the last step),
// checkpoint every `checkpoint_every` steps and at the end, stop on a
// non-finite loss, progress reported on the main rank (videoprism/log.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"
#include "videoprism/core/log.h"
#include "videoprism/core/model.h"
#include "videoprism/train/checkpoint.h"
#include "train/data_loader.h"
#include "videoprism/train_step/device.h"
#include "train/distributed.h"
#include "train_step/lr_schedule.h"
#include "videoprism/train/manifest.h"
#include "train/metrics.h"
#include "train_step/optimizer.h"

namespace videoprism::train {

// A trainer's run-level state. A stage's Impl derives from it, builds its
// models and optimizer between open_run() and start_data(), and restores its
// own extra checkpoint files from `restored`.
struct TrainerRun {
  std::string run_dir;
  Distributed dist;
  std::unique_ptr<AdamW> optimizer;
  std::unique_ptr<VideoTextLoader> loader;
  std::unique_ptr<CheckpointStore> store;
  std::unique_ptr<MetricsLog> metrics;
  LrSchedule schedule;
  torch::ScalarType dtype = torch::kBFloat16;
  torch::Device device = torch::kCPU;  // models, optimizer state, batches
  int64_t step = 0, last_saved = -1;
  DataPosition position;
  double last_loss = 0.0;
  std::optional<std::string> checkpoint;  // the checkpoint this run resumes from
  CheckpointFiles restored;               // its files; the constructor releases them when done

  // Threads, dtype and device from the config; the run directory and its
  // checkpoint store; with `resume`, the latest checkpoint read (none: a note
  // on the main rank, and a fresh start).
  template <typename Config>
  void open_run(const Config& config, const char* stage, const std::string& dir, bool resume) {
    run_dir = dir;
    dist = Distributed::from_env();
    set_compute_threads(config.threads);
    dtype = parse_dtype(config.dtype);
    check_arg(dtype != torch::kQInt8, stage, ": --dtype int8 is for inference only; train in f32 or bf16");
    device = available_device(config.device, std::string(stage) + ": \"device\"");
    std::filesystem::create_directories(run_dir);
    store = std::make_unique<CheckpointStore>(run_dir, config.keep_checkpoints);
    checkpoint = resume ? store->latest() : std::nullopt;
    if (resume && !checkpoint && dist.is_main()) log_info("resume: no checkpoint in " + run_dir + ", starting fresh");
    if (checkpoint) restored = CheckpointStore::read(*checkpoint);
  }

  // Once `optimizer` exists: its state, the step and the data position from
  // the checkpoint; the loader (at that position); config.json and
  // metrics.jsonl on the main rank (appended to when resuming).
  template <typename Config>
  void start_data(const Config& config, bool resume) {
    const DataPosition* start = nullptr;
    if (checkpoint) {
      optimizer->load_state(restored.npz.at("optimizer.npz"));
      step = restored.state.at("step").get<int64_t>();
      position = data_position_from_json(restored.state.at("data_position"));
      start = &position;
      last_saved = step;
    }
    std::vector<Manifest> manifests;
    for (const auto& path : config.data) manifests.push_back(read_manifest(path));
    DataOptions data_options = config.data_options;
    data_options.pin_memory = device.is_cuda();
    loader = std::make_unique<VideoTextLoader>(std::move(manifests), data_options, config.batch_size, dist.rank(),
                                               dist.world(), config.grad_accum, start);
    if (dist.is_main()) {
      const std::filesystem::path dir(run_dir);
      remove_stale_temporaries(run_dir);  // config.json.tmp.* etc. of a killed run
      remove_stale_temporaries((dir / "checkpoints").string());
      write_file_atomically((dir / "config.json").string(), to_json(config).dump(2) + "\n");
      metrics = std::make_unique<MetricsLog>((dir / "metrics.jsonl").string(), checkpoint ? step : (resume ? 0 : -1));
    }
  }
};

// Impl needs: config.{steps, stop_at, checkpoint_every}, step,
// last_saved, dist.is_main(), train_step() -> Step{step, loss, clips_per_s},
// save_checkpoint().
template <typename Step, typename Impl>
std::vector<Step> run_training_loop(Impl& s, const std::string& stage) {
  const int64_t end = s.config.stop_at > 0 ? std::min(s.config.stop_at, s.config.steps) : s.config.steps;
  std::vector<Step> done;
  ProgressEvent progress;
  progress.task = stage;
  progress.done = s.step;
  progress.total = s.config.steps;
  progress.unit = "steps";
  while (s.step < end) {
    Step r = s.train_step();
    check(std::isfinite(r.loss), stage, ": loss is not finite at step ", r.step);
    done.push_back(r);
    if (s.dist.is_main()) {
      progress.done = r.step;
      std::ostringstream note;
      note << std::fixed << std::setprecision(4) << "loss " << r.loss << std::setprecision(1) << ", " << r.clips_per_s
           << " clips/s";
      progress.note = note.str();
      report_progress(progress);
    }
    if (s.step % s.config.checkpoint_every == 0 && s.step < end) s.save_checkpoint();
  }
  if (s.last_saved != s.step) s.save_checkpoint();
  if (s.dist.is_main()) {
    progress.finished = true;
    report_progress(progress);
  }
  return done;
}

}  // namespace videoprism::train
