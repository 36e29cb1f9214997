// Stage2Config <-> JSON.
#include <set>

#include "videoprism/error.h"
#include "videoprism/train/device.h"
#include "videoprism/train/stage2.h"

namespace videoprism::train {

void Stage2Config::validate() const {
  check(!teacher.empty(), "stage2: give the stage-1 teacher (--teacher)");
  check(!data.empty(), "stage2: give at least one manifest (--data)");
  check(batch_size > 0 && grad_accum > 0 && batch_size % grad_accum == 0, "stage2: batch_size ", batch_size,
        " must be a positive multiple of grad_accum ", grad_accum);
  check(steps > 0, "stage2: steps must be > 0");
  check(mask_ratio >= 0.0 && mask_ratio < 1.0, "stage2: mask_ratio must be in [0, 1), got ", mask_ratio);
  check(token_loss || global_loss, "stage2: --no-local and --no-global leave nothing to train");
  check(token_weight >= 0 && global_weight >= 0, "stage2: loss weights must be >= 0");
  check(lr > 0 && min_lr >= 0 && min_lr <= lr, "stage2: need 0 <= min_lr <= lr");
  check(dtype == "bf16" || dtype == "bfloat16" || dtype == "f32" || dtype == "float32",
        "stage2: dtype must be bf16 or f32, got '", dtype, "'");
  check(data_options.num_frames > 0 && data_options.image_size > 0, "stage2: num_frames and image_size must be > 0");
  check(checkpoint_every > 0, "stage2: checkpoint_every must be > 0");
  training_device(device, "stage2");  // throws naming the key and value
}

nlohmann::json to_json(const Stage2Config& c) {
  nlohmann::json j;
  j["teacher"] = c.teacher;
  j["data"] = c.data;
  j["num_frames"] = c.data_options.num_frames;
  j["image_size"] = c.data_options.image_size;
  j["scale_jitter"] = c.data_options.scale_jitter;
  j["flip"] = c.data_options.flip;
  j["workers"] = c.data_options.workers;
  j["prefetch"] = c.data_options.prefetch;
  j["mask_kind"] = to_string(c.mask_kind);
  j["mask_ratio"] = c.mask_ratio;
  j["block_min_area"] = c.block_min_area;
  j["shuffle"] = c.shuffle;
  j["token_loss"] = c.token_loss;
  j["global_loss"] = c.global_loss;
  j["token_weight"] = c.token_weight;
  j["global_weight"] = c.global_weight;
  j["decoder_layers"] = c.decoder.num_layers;
  j["decoder_dim"] = c.decoder.model_dim;
  j["decoder_mlp_dim"] = c.decoder.mlp_dim;
  j["decoder_heads"] = c.decoder.num_heads;
  j["batch_size"] = c.batch_size;
  j["grad_accum"] = c.grad_accum;
  j["steps"] = c.steps;
  j["lr"] = c.lr;
  j["warmup_steps"] = c.warmup_steps;
  j["decay"] = to_string(c.decay);
  j["min_lr"] = c.min_lr;
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
  j["progress"] = c.progress;
  return j;
}

Stage2Config stage2_config_from_json(const nlohmann::json& j, Stage2Config c) {
  check(j.is_object(), "stage2 config: expected a JSON object");
  static const std::set<std::string> known = {
      "teacher", "data", "num_frames", "image_size", "scale_jitter", "flip", "workers", "prefetch", "mask_kind",
      "mask_ratio", "block_min_area", "shuffle", "token_loss", "global_loss", "token_weight", "global_weight",
      "decoder_layers", "decoder_dim", "decoder_mlp_dim", "decoder_heads", "batch_size", "grad_accum", "steps", "lr",
      "warmup_steps", "decay", "min_lr", "optimizer", "beta1", "beta2", "eps", "weight_decay", "clip_grad_norm",
      "dtype", "device", "threads", "seed", "checkpoint_every", "keep_checkpoints", "stop_at", "plot", "progress"};
  for (const auto& item : j.items()) check(known.count(item.key()) > 0, "stage2 config: unknown key '", item.key(), "'");
  try {
    auto get = [&](const char* key, auto& field) {
      if (j.contains(key) && !j[key].is_null()) field = j[key].get<std::decay_t<decltype(field)>>();
    };
    get("teacher", c.teacher);
    if (j.contains("data")) {
      c.data = j["data"].is_string() ? std::vector<std::string>{j["data"].get<std::string>()}
                                     : j["data"].get<std::vector<std::string>>();
    }
    get("num_frames", c.data_options.num_frames);
    get("image_size", c.data_options.image_size);
    get("scale_jitter", c.data_options.scale_jitter);
    get("flip", c.data_options.flip);
    get("workers", c.data_options.workers);
    get("prefetch", c.data_options.prefetch);
    if (j.contains("mask_kind")) c.mask_kind = parse_mask_kind(j["mask_kind"].get<std::string>());
    get("mask_ratio", c.mask_ratio);
    get("block_min_area", c.block_min_area);
    get("shuffle", c.shuffle);
    get("token_loss", c.token_loss);
    get("global_loss", c.global_loss);
    get("token_weight", c.token_weight);
    get("global_weight", c.global_weight);
    get("decoder_layers", c.decoder.num_layers);
    get("decoder_dim", c.decoder.model_dim);
    get("decoder_mlp_dim", c.decoder.mlp_dim);
    get("decoder_heads", c.decoder.num_heads);
    get("batch_size", c.batch_size);
    get("grad_accum", c.grad_accum);
    get("steps", c.steps);
    get("lr", c.lr);
    get("warmup_steps", c.warmup_steps);
    if (j.contains("decay")) c.decay = parse_decay(j["decay"].get<std::string>());
    get("min_lr", c.min_lr);
    if (j.contains("optimizer")) check(j["optimizer"] == "adamw", "stage2 config: optimizer must be \"adamw\"");
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
    get("progress", c.progress);
  } catch (const nlohmann::json::exception& e) {
    fail("stage2 config: ", e.what());
  }
  c.data_options.seed = c.seed;
  return c;
}

}  // namespace videoprism::train
