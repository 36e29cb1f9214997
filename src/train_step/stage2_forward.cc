// Stage-2 forward: teacher targets, the student on visible tokens, the losses.
// Model math only (no data loader or video decoding).
#include "train_step/stage2_forward.h"

#include "models/model_modules.h"
#include "videoprism/core/error.h"
#include "videoprism/train_step/device.h"

namespace videoprism::train {

Stage2Student make_stage2_student(Model& teacher, const torch::Device& device) {
  FactorizedVideoCLIPImpl& clip = video_clip_module(teacher, "stage2: the teacher (a stage-1 checkpoint)");
  Stage2Student s;
  s.model = std::make_unique<Model>(encoder_model_config(teacher.config()));
  s.model->to(device);
  s.pairs = copy_encoder_weights(*clip.vision_encoder, encoder_module(*s.model, "stage2: the student"),
                                 "stage2: the teacher's vision encoder");
  return s;
}

Stage2Decoders make_stage2_decoders(const DecoderOptions& options, int64_t model_dim, int64_t length, bool token_loss,
                                    bool global_loss, uint64_t seed, const torch::Device& device) {
  Stage2Decoders decoders(options, model_dim, length, token_loss, global_loss);
  decoders->init_random(seed ^ 0xdec0de);  // a stream of its own, apart from the model's init_random(seed)
  decoders->to(device);
  return decoders;
}

TeacherTargets teacher_targets(Model& teacher, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                               torch::ScalarType dtype) {
  FactorizedVideoCLIPImpl& clip = video_clip_module(teacher, "stage2: the teacher (a stage-1 checkpoint)");
  torch::NoGradGuard no_grad;
  torch::Tensor fp = frame_paddings.defined() ? frame_paddings.to(dtype) : frame_paddings;
  VideoClipOutputs out = clip.encode_video(video.to(dtype), fp);
  return {out.spatiotemporal_features.to(torch::kFloat32), out.video_embeddings_unnormalized.to(torch::kFloat32)};
}

Stage2Mask sample_stage2_mask(MaskKind kind, int64_t global_b, int64_t first, int64_t b, int64_t t, int64_t gh,
                              int64_t gw, double ratio, uint64_t seed, int64_t block_min_area) {
  Stage2Mask mask;
  mask.kind = kind;
  const int64_t n = gh * gw;
  if (kind == MaskKind::kTube) {
    mask.keep = sample_tube_keep(global_b, n, ratio, seed).narrow(0, first, b).contiguous();  // [B, K]
    mask.token_mask = tube_token_mask(mask.keep, t, n);                                        // [B, T*N]
  } else {
    mask.token_mask =
        sample_block_mask(global_b, t, gh, gw, ratio, seed, block_min_area).narrow(0, first, b).reshape({b, t * n});
  }
  return mask;
}

Stage2Mask mask_to_device(const Stage2Mask& mask, const torch::Device& device) {
  return {mask.kind, to_device(mask.keep, device), to_device(mask.token_mask, device)};
}

StudentOutputs encode_visible(Model& student, const torch::Tensor& video, const torch::Tensor& frame_paddings,
                              const Stage2Mask& mask, torch::ScalarType dtype) {
  FactorizedEncoderImpl& encoder = encoder_module(student, "stage2: the student");
  const int64_t b = video.size(0), t = video.size(1), h = video.size(2), w = video.size(3);
  const int64_t n = (h / encoder.config().patch_size) * (w / encoder.config().patch_size), d = encoder.config().model_dim;
  torch::Tensor input = video.to(dtype);
  StudentOutputs out;
  if (mask.kind == MaskKind::kTube) {
    const int64_t k = mask.keep.size(1);
    out.compact = encoder.encode_tube(input, mask.keep, frame_paddings).embeddings;  // [B, T*K, D]
    // Token t*K + k sits at slot t*N + keep[k].
    torch::Tensor frames = torch::arange(t, mask.keep.options().dtype(torch::kLong)).view({1, t, 1});
    torch::Tensor slots = (frames * n + mask.keep.view({b, 1, k})).reshape({b, t * k, 1}).expand({b, t * k, d});
    out.by_slot = torch::zeros({b, t * n, d}, out.compact.options()).scatter(1, slots, out.compact);  // [B, T*N, D]
  } else {
    torch::Tensor patches = image_to_patch(input, encoder.config().patch_size);  // [B*T, N, P*P*3]
    torch::Tensor paddings = mask.token_mask.to(dtype).view({b * t, n});        // [B*T, N]
    if (frame_paddings.defined())
      paddings = torch::maximum(paddings, frame_paddings.to(dtype).reshape({b * t, 1}).expand({b * t, n}));
    out.by_slot = encoder.encode_with_patches(patches, t, h, w, paddings).embeddings;  // [B, T*N, D]
    out.compact = out.by_slot;
    out.paddings = mask.token_mask;
  }
  return out;
}

Stage2Losses stage2_losses(Model& student, Stage2Decoders& decoders, const torch::Tensor& video,
                           const torch::Tensor& frame_paddings, const Stage2Mask& mask, const torch::Tensor& perm,
                           const TeacherTargets& targets, const Stage2LossOptions& config, torch::ScalarType dtype) {
  StudentOutputs visible = encode_visible(student, video, frame_paddings, mask, dtype);
  Stage2Losses losses;
  const auto scalar = torch::TensorOptions().dtype(torch::kFloat32).device(video.device());
  losses.token = torch::zeros({}, scalar);
  losses.global = torch::zeros({}, scalar);
  if (config.token_loss) {
    torch::Tensor pred = decoders->predict_tokens(visible.by_slot, mask.token_mask, perm);  // [B, L, D] original order
    losses.token = cosine_distance(pred, targets.tokens);
  }
  if (config.global_loss) {
    torch::Tensor pred = decoders->predict_global(visible.compact, visible.paddings);  // [B, D]
    losses.global = cosine_distance(pred, targets.global);
  }
  losses.total = config.token_weight * losses.token + config.global_weight * losses.global;
  return losses;
}

}  // namespace videoprism::train
