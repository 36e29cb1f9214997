// Stage1Config <-> JSON.
#include <set>

#include "train/config_json.h"
#include "videoprism/core/error.h"
#include "videoprism/train_step/device.h"
#include "videoprism/train/stage1.h"

namespace videoprism::train {

ModelConfig Stage1Config::resolved_model() const {
  return model_preset.empty() ? model_config : find_preset(model_preset).config;
}

void Stage1Config::validate() const {
  // First, so that int8 is what the message names whatever else the config lacks.
  check_arg(dtype != "int8", "stage1: dtype int8 is for inference only; train in f32 or bf16 (int8 quantizes at load)");
  ModelConfig model = resolved_model();
  model.validate();
  check(model.kind == ModelKind::kVideoClip, "stage1: the model must be a FactorizedVideoCLIP, got ",
        to_string(model.kind));
  check(!tokenizer.empty(), "stage1: give a SentencePiece tokenizer (\"tokenizer\")");
  check(!data.empty(), "stage1: give at least one manifest (--data)");
  check(batch_size > 0 && grad_accum > 0 && batch_size % grad_accum == 0, "stage1: batch_size ", batch_size,
        " must be a positive multiple of grad_accum ", grad_accum);
  check(steps > 0, "stage1: steps must be > 0");
  check(token_drop >= 0.0 && token_drop < 1.0, "stage1: token_drop must be in [0, 1), got ", token_drop);
  check(temperature_init > 0 && logit_scale_max > 0, "stage1: temperature_init and logit_scale_max must be > 0");
  check(dtype == "bf16" || dtype == "bfloat16" || dtype == "f32" || dtype == "float32",
        "stage1: dtype must be bf16 or f32, got '", dtype, "'");
  check(data_options.num_frames > 0 && data_options.image_size > 0, "stage1: num_frames and image_size must be > 0");
  check_shared_config(*this, "stage1");
  check(data_options.image_size % model.encoder.patch_size == 0, "stage1: image_size ", data_options.image_size,
        " is not a multiple of the patch size ", model.encoder.patch_size);
  check(checkpoint_every > 0, "stage1: checkpoint_every must be > 0");
  available_device(device, "stage1: \"device\"");  // throws naming the key and value
}

nlohmann::json to_json(const Stage1Config& c) {
  nlohmann::json j;
  j["model_preset"] = c.model_preset;
  j["model_config"] = config_to_json(c.resolved_model());
  j["init"] = c.init;
  j["vision_encoder_init"] = c.vision_encoder_init;
  j["freeze_vision_encoder"] = c.freeze_vision_encoder;
  j["tokenizer"] = c.tokenizer;
  j["max_text_length"] = c.max_text_length;
  j["min_lr_ratio"] = c.min_lr_ratio;
  j["token_drop"] = c.token_drop;
  j["temperature_convention"] = "clip";
  j["temperature_init"] = c.temperature_init;
  j["logit_scale_max"] = c.logit_scale_max;
  j["learn_temperature"] = c.learn_temperature;
  shared_config_to_json(c, j);
  return j;
}

Stage1Config stage1_config_from_json(const nlohmann::json& j, Stage1Config c) {
  check(j.is_object(), "stage1 config: expected a JSON object");
  // This stage's own keys; shared_config_keys() has the rest.
  static const std::set<std::string> known = {
      "model_preset", "model_config", "init", "vision_encoder_init", "freeze_vision_encoder", "tokenizer",
      "max_text_length", "min_lr_ratio", "token_drop", "temperature_convention", "temperature_init",
      "logit_scale_max", "learn_temperature"};
  for (const auto& item : j.items()) {
    check(known.count(item.key()) > 0 || shared_config_keys().count(item.key()) > 0, "stage1 config: unknown key '",
          item.key(), "'");
  }
  try {
    auto get = [&](const char* key, auto& field) {
      if (j.contains(key) && !j[key].is_null())
        field = json_value<std::decay_t<decltype(field)>>(j[key], std::string("stage1 config key '") + key + "'");
    };
    get("model_preset", c.model_preset);
    if (j.contains("model_config") && !j["model_config"].is_null()) {
      c.model_config = j["model_config"].is_string() ? load_config_file(j["model_config"].get<std::string>())
                                                     : config_from_json(j["model_config"]);
      if (!j.contains("model_preset")) c.model_preset.clear();
    }
    get("init", c.init);
    get("vision_encoder_init", c.vision_encoder_init);
    get("freeze_vision_encoder", c.freeze_vision_encoder);
    get("tokenizer", c.tokenizer);
    get("max_text_length", c.max_text_length);
    get("min_lr_ratio", c.min_lr_ratio);
    get("token_drop", c.token_drop);
    if (j.contains("temperature_convention"))
      check(j["temperature_convention"] == "clip", "stage1 config: temperature_convention must be \"clip\"");
    get("temperature_init", c.temperature_init);
    get("logit_scale_max", c.logit_scale_max);
    get("learn_temperature", c.learn_temperature);
    shared_config_from_json(j, c, "stage1");
  } catch (const nlohmann::json::exception& e) {
    fail("stage1 config: ", e.what());
  }
  c.data_options.seed = c.seed;
  return c;
}

}  // namespace videoprism::train
