// Stage2Config <-> JSON.
#include <set>

#include "train/config_json.h"
#include "videoprism/core/error.h"
#include "videoprism/train_step/device.h"
#include "videoprism/train/stage2.h"

namespace videoprism::train {

void Stage2Config::validate() const {
  // First, so that int8 is what the message names whatever else the config lacks.
  check_arg(dtype != "int8", "stage2: dtype int8 is for inference only; train in f32 or bf16 (int8 quantizes at load)");
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
  check_shared_config(*this, "stage2");
  check(checkpoint_every > 0, "stage2: checkpoint_every must be > 0");
  available_device(device, "stage2: \"device\"");  // throws naming the key and value
}

nlohmann::json to_json(const Stage2Config& c) {
  nlohmann::json j;
  j["teacher"] = c.teacher;
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
  j["min_lr"] = c.min_lr;
  shared_config_to_json(c, j);
  return j;
}

Stage2Config stage2_config_from_json(const nlohmann::json& j, Stage2Config c) {
  check(j.is_object(), "stage2 config: expected a JSON object");
  // This stage's own keys; shared_config_keys() has the rest.
  static const std::set<std::string> known = {
      "teacher", "mask_kind", "mask_ratio", "block_min_area", "shuffle", "token_loss", "global_loss",
      "token_weight", "global_weight", "decoder_layers", "decoder_dim", "decoder_mlp_dim", "decoder_heads",
      "min_lr"};
  for (const auto& item : j.items()) {
    check(known.count(item.key()) > 0 || shared_config_keys().count(item.key()) > 0, "stage2 config: unknown key '",
          item.key(), "'");
  }
  try {
    auto get = [&](const char* key, auto& field) {
      if (j.contains(key) && !j[key].is_null())
        field = json_value<std::decay_t<decltype(field)>>(j[key], std::string("stage2 config key '") + key + "'");
    };
    get("teacher", c.teacher);
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
    get("min_lr", c.min_lr);
    shared_config_from_json(j, c, "stage2");
  } catch (const nlohmann::json::exception& e) {
    fail("stage2 config: ", e.what());
  }
  c.data_options.seed = c.seed;
  return c;
}

}  // namespace videoprism::train
