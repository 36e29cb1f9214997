// Training FLOP estimates (see train_flops.h for what is counted).
#include "train_step/train_flops.h"

#include <algorithm>
#include <cmath>

namespace videoprism::train {
namespace {

// One pre-LN block on s tokens of width d (MLP f): q, k, v, post + FFN
// projections, and QK^T + PV over the full s x s score matrix.
double block_flops(double s, double d, double f) { return 2.0 * s * (4.0 * d * d + 2.0 * d * f) + 4.0 * s * s * d; }

// MAP pooler (one query) over s tokens of width d, attention width h: the K
// and V projections of every token and the query's scores and mix.
double pooler_flops(double s, double d, double h) { return 2.0 * s * d * h * 2.0 + 4.0 * s * h; }

}  // namespace

double encoder_forward_flops(const EncoderConfig& e, int64_t t, int64_t n) {
  const double d = e.model_dim, f = e.mlp_dim, p = e.patch_size;
  const double frames = static_cast<double>(t), positions = static_cast<double>(n), tokens = frames * positions;
  const double dense = 2.0 * tokens * (4.0 * d * d + 2.0 * d * f);
  const double spatial_attention = 4.0 * frames * positions * positions * d;  // [T] x n x n per clip
  const double temporal_attention = 4.0 * positions * frames * frames * d;    // [n] x T x T per clip
  return 2.0 * tokens * p * p * 3.0 * d + e.num_spatial_layers * (dense + spatial_attention) +
         e.num_temporal_layers * (dense + temporal_attention);
}

double clip_video_forward_flops(const ModelConfig& c, int64_t t, int64_t n) {
  const EncoderConfig& e = c.encoder;
  const double tokens = static_cast<double>(t) * static_cast<double>(n);
  return encoder_forward_flops(e, t, n) + c.num_auxiliary_layers * block_flops(tokens, e.model_dim, e.mlp_dim) +
         pooler_flops(tokens, e.model_dim, 4.0 * e.model_dim);
}

double text_forward_flops(const ModelConfig& c, int64_t length) {
  const double d = c.encoder.model_dim;
  return c.num_unimodal_layers * block_flops(static_cast<double>(length + 1), d, 4.0 * d);
}

int64_t kept_positions(int64_t n, double ratio) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(n) * (1.0 - ratio)));
}

double stage1_train_flops_per_clip(const ModelConfig& clip, int64_t t, int64_t h, int64_t w, double token_drop,
                                   int64_t text_length) {
  const int64_t p = clip.encoder.patch_size;
  const int64_t n = (h / p) * (w / p);
  const int64_t kept = token_drop > 0 ? kept_positions(n, token_drop) : n;
  return 3.0 * (clip_video_forward_flops(clip, t, kept) + text_forward_flops(clip, text_length));
}

double stage2_decoders_forward_flops(const DecoderOptions& o, int64_t encoder_dim, int64_t length,
                                     int64_t global_tokens, bool token_branch, bool global_branch) {
  const double d = static_cast<double>(encoder_dim), dd = static_cast<double>(o.model_dim);
  const double fd = static_cast<double>(o.mlp_dim);
  double flops = 0.0;
  if (token_branch) {
    const double l = static_cast<double>(length);
    flops += 2.0 * l * d * dd + o.num_layers * block_flops(l, dd, fd) + 2.0 * l * dd * d;
  }
  if (global_branch) {
    const double s = static_cast<double>(global_tokens);
    flops += 2.0 * s * d * dd + o.num_layers * block_flops(s, dd, fd) + pooler_flops(s, dd, dd) + 2.0 * dd * d;
  }
  return flops;
}

double stage2_train_flops_per_clip(const ModelConfig& teacher, int64_t t, int64_t h, int64_t w, MaskKind mask_kind,
                                   double mask_ratio, const DecoderOptions& decoder, bool token_branch,
                                   bool global_branch) {
  const EncoderConfig& e = teacher.encoder;
  const int64_t n = (h / e.patch_size) * (w / e.patch_size);
  const int64_t visible = mask_kind == MaskKind::kTube ? kept_positions(n, mask_ratio) : n;
  const double student = encoder_forward_flops(e, t, visible);
  const double decoders =
      stage2_decoders_forward_flops(decoder, e.model_dim, t * n, t * visible, token_branch, global_branch);
  return video_flops_per_clip(teacher, t, h, w) + 3.0 * (student + decoders);
}

}  // namespace videoprism::train
