// How the trainers' data loader decodes clips (Stage1Config::data_options,
// Stage2Config::data_options).
#pragma once

#include <cstdint>

namespace videoprism::train {

struct DataOptions {
  int num_frames = 8;        // T
  int image_size = 288;      // S
  double scale_jitter = 0.0; // > 0: decode at S*(1+u*jitter), u~U[0,1], then random S x S crop
  bool flip = false;         // random horizontal flips (off: captions may say left/right)
  int workers = 2;           // decoding threads
  int prefetch = 2;          // batches decoded ahead
  uint64_t seed = 0;
  // Runtime, not configuration: page-lock each batch's video and paddings in
  // the worker thread (training on a GPU: the copy to the device can then be
  // asynchronous). Needs a CUDA libtorch.
  bool pin_memory = false;
};

}  // namespace videoprism::train
