// Training FLOPs per clip (a multiply-add is 2 FLOPs), for throughput
// reports (`videoprism bench --train`).
//
// Convention: a trained part costs 3x its forward (the backward pass computes
// gradients for activations and for weights, each about one forward); a
// frozen part (the stage-2 teacher) costs its forward once. Counted: every
// dense projection, the patch embedding, the attention score and value
// matmuls (the full score matrix, as the kernels compute it, also under a
// causal mask or paddings). Not counted: norms, softmax, activations, the
// loss (stage 1's B x B similarity matrix adds 2*B*D per clip), the
// optimizer. At the full grid the forward helpers equal the model's own
// encoder_flops_per_clip / video_flops_per_clip (config.h).
#pragma once

#include <cstdint>

#include "videoprism/core/config.h"
#include "train_step/masking.h"
#include "train_step/stage2_decoders.h"

namespace videoprism::train {

// The FactorizedEncoder on T frames of n spatial tokens each (n = kept
// positions of a tube mask, or the whole grid).
double encoder_forward_flops(const EncoderConfig& encoder, int64_t t, int64_t n);

// The video side of a FactorizedVideoCLIP on T frames of n tokens: encoder,
// auxiliary layers (global attention over T*n tokens), MAP pooler.
double clip_video_forward_flops(const ModelConfig& clip, int64_t t, int64_t n);

// The text tower on `length` ids plus the class token.
double text_forward_flops(const ModelConfig& clip, int64_t length);

// Spatial positions a tube mask keeps of n: max(1, round(n * (1 - ratio))).
int64_t kept_positions(int64_t n, double ratio);

// Stage 1 on a T x H x W clip with tube token drop `token_drop` and captions
// of `text_length` ids: 3 x (clip_video_forward_flops on the kept tokens +
// text_forward_flops).
double stage1_train_flops_per_clip(const ModelConfig& clip, int64_t t, int64_t h, int64_t w, double token_drop,
                                   int64_t text_length);

// The stage-2 decoders' forward on a clip of L = T*N tokens: the token branch
// on all L slots; the global branch on S tokens (tube: the T*K visible ones;
// block: all L, the masked ones as paddings). `decoder` resolved.
double stage2_decoders_forward_flops(const DecoderOptions& decoder, int64_t encoder_dim, int64_t length,
                                     int64_t global_tokens, bool token_branch, bool global_branch);

// Stage 2 on a T x H x W clip: the frozen teacher's forward on the full clip
// (video_flops_per_clip) + 3 x (the student encoder on the visible tokens
// (tube: T x K; block: every token, masked ones as paddings) + the decoders).
double stage2_train_flops_per_clip(const ModelConfig& teacher, int64_t t, int64_t h, int64_t w, MaskKind mask_kind,
                                   double mask_ratio, const DecoderOptions& decoder, bool token_branch,
                                   bool global_branch);

}  // namespace videoprism::train
