// JSON of the options both pre-training stages share (data, optimizer and
// schedule, run control), for Stage1Config and Stage2Config: one list of keys
// and one mapping instead of a copy per stage.
#pragma once

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/json_value.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"
#include "train/data_loader.h"
#include "train_step/lr_schedule.h"

namespace videoprism::train {

inline const std::set<std::string>& shared_config_keys() {
  static const std::set<std::string> keys = {
      "data", "num_frames", "image_size", "scale_jitter", "flip", "workers", "prefetch", "batch_size", "grad_accum",
      "steps", "lr", "warmup_steps", "decay", "optimizer", "beta1", "beta2", "eps", "weight_decay", "clip_grad_norm",
      "dtype", "device", "threads", "seed", "checkpoint_every", "keep_checkpoints", "stop_at", "plot", "progress"};
  return keys;
}

template <typename Config>
void shared_config_to_json(const Config& c, nlohmann::json& j) {
  j["data"] = c.data;
  j["num_frames"] = c.data_options.num_frames;
  j["image_size"] = c.data_options.image_size;
  j["scale_jitter"] = c.data_options.scale_jitter;
  j["flip"] = c.data_options.flip;
  j["workers"] = c.data_options.workers;
  j["prefetch"] = c.data_options.prefetch;
  j["batch_size"] = c.batch_size;
  j["grad_accum"] = c.grad_accum;
  j["steps"] = c.steps;
  j["lr"] = c.lr;
  j["warmup_steps"] = c.warmup_steps;
  j["decay"] = to_string(c.decay);
  j["optimizer"] = "adamw";
  j["beta1"] = c.adamw.beta1;
  j["beta2"] = c.adamw.beta2;
  j["eps"] = c.adamw.eps;
  j["weight_decay"] = c.adamw.weight_decay;
  j["clip_grad_norm"] = c.clip_grad_norm;
  j["dtype"] = c.dtype;
  j["device"] = c.device;
  j["threads"] = c.threads;
  j["seed"] = c.seed;
  j["checkpoint_every"] = c.checkpoint_every;
  j["keep_checkpoints"] = c.keep_checkpoints;
  j["stop_at"] = c.stop_at;
  j["plot"] = c.plot;
}

// Reads the shared keys present in `j` into `c` (absent or null keys keep
// their values). Throws nlohmann::json exceptions on wrong types; `stage`
// names the config in the error for a wrong optimizer.
template <typename Config>
void shared_config_from_json(const nlohmann::json& j, Config& c, const char* stage) {
  auto get = [&](const char* key, auto& field) {
    if (j.contains(key) && !j[key].is_null())
      field = json_value<std::decay_t<decltype(field)>>(j[key], std::string(stage) + " config key '" + key + "'");
  };
  if (j.contains("data")) {
    c.data = j["data"].is_string() ? std::vector<std::string>{j["data"].template get<std::string>()}
                                   : j["data"].template get<std::vector<std::string>>();
  }
  get("num_frames", c.data_options.num_frames);
  get("image_size", c.data_options.image_size);
  get("scale_jitter", c.data_options.scale_jitter);
  get("flip", c.data_options.flip);
  get("workers", c.data_options.workers);
  get("prefetch", c.data_options.prefetch);
  get("batch_size", c.batch_size);
  get("grad_accum", c.grad_accum);
  get("steps", c.steps);
  get("lr", c.lr);
  get("warmup_steps", c.warmup_steps);
  if (j.contains("decay")) c.decay = parse_decay(j["decay"].template get<std::string>());
  if (j.contains("optimizer")) check(j["optimizer"] == "adamw", stage, " config: optimizer must be \"adamw\"");
  get("beta1", c.adamw.beta1);
  get("beta2", c.adamw.beta2);
  get("eps", c.adamw.eps);
  get("weight_decay", c.adamw.weight_decay);
  get("clip_grad_norm", c.clip_grad_norm);
  get("dtype", c.dtype);
  get("device", c.device);
  get("threads", c.threads);
  get("seed", c.seed);
  get("checkpoint_every", c.checkpoint_every);
  get("keep_checkpoints", c.keep_checkpoints);
  get("stop_at", c.stop_at);
  get("plot", c.plot);
  // "progress" (a UI flag in older run directories' config.json) is read and
  // ignored: progress goes to the application's sink (videoprism/log.h).
}

// Range checks of the shared options, for both stages' validate(): bounded
// clip shapes and batch, a scale jitter whose decode size stays a clip size,
// thread counts within limits.
template <typename Config>
void check_shared_config(const Config& c, const char* stage) {
  const std::string s = stage;
  const DataOptions& d = c.data_options;
  check_range(s + ": num_frames", d.num_frames, 1, kMaxClipFrames);
  check_range(s + ": image_size", d.image_size, 1, kMaxClipSize);
  check(std::isfinite(d.scale_jitter) && d.scale_jitter >= 0 &&
            d.image_size * (1.0 + d.scale_jitter) <= static_cast<double>(kMaxClipSize),
        s, ": scale_jitter: expected 0 <= scale_jitter and image_size * (1 + scale_jitter) <= ", kMaxClipSize,
        ", got ", d.scale_jitter);
  check_range(s + ": workers", d.workers, 0, 256);
  check_range(s + ": prefetch", d.prefetch, 0, 1024);
  check_range(s + ": batch_size", c.batch_size, 1, int64_t{1} << 20);
  check_threads(s + ": threads", c.threads);
}

}  // namespace videoprism::train
