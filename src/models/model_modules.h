// Typed access to a Model's module tree, for the code built on the modules
// (training, its benchmark, tests). models/ is the only place that turns the
// untyped torch::nn::Module of a Model into its concrete type; a wrong kind is
// an error naming the caller and both kinds.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "encoders/factorized_encoder.h"
#include "models/video_classifier.h"
#include "models/video_clip.h"
#include "videoprism/core/model.h"

namespace videoprism {

// `who`: the caller, first in the error ("stage2: the teacher must be ...").
FactorizedVideoCLIPImpl& video_clip_module(Model& model, const std::string& who);
FactorizedEncoderImpl& encoder_module(Model& model, const std::string& who);
FactorizedVideoClassifierImpl& classifier_module(Model& model, const std::string& who);

// Copies every parameter of `from` into `to` (no gradient). Both encoders
// must have the same parameter names and shapes; a mismatch names `who` and
// the parameter. Returns the (to, from) tensor pairs in `to`'s order.
std::vector<std::pair<torch::Tensor, torch::Tensor>> copy_encoder_weights(FactorizedEncoderImpl& from,
                                                                          FactorizedEncoderImpl& to,
                                                                          const std::string& who);

}  // namespace videoprism
