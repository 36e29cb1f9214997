// Video-text batches from one or more manifests, decoded by a pool of worker
// threads that prefetches the next batches.
//
// Order is a pure function of (seed, dataset, epoch): each dataset is walked
// through a seeded permutation per epoch (the remainder that does not fill a
// global batch is dropped). Step s draws from dataset s mod D, so batches
// alternate between datasets and never mix them. Augmentation randomness is
// keyed by (seed, dataset, epoch, item), so a resumed run sees exactly the
// same clips. With several processes each rank takes its slice of the same
// global batch.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "videoprism/train/data_options.h"
#include "videoprism/train/manifest.h"

namespace videoprism::train {


// Where each dataset's walk stands.
struct DataPosition {
  std::vector<int64_t> epoch;   // per dataset
  std::vector<int64_t> cursor;  // next index into that epoch's permutation
  int64_t step = 0;             // batches handed out so far (selects the dataset)
};
nlohmann::json to_json(const DataPosition& position);
DataPosition data_position_from_json(const nlohmann::json& j);

struct VideoTextBatch {
  int64_t step = 0;                   // position.step of this batch
  int dataset = 0;                    // index into the manifests
  torch::Tensor video;                // float32 [B, T, S, S, 3] in [0, 1]
  torch::Tensor frame_paddings;       // float32 [B, T], 1 = padded frame
  std::vector<std::string> captions;  // [B]
  std::vector<int64_t> items;         // [B] item indices in the dataset (after skipping)
  DataPosition position_after;        // the loader's position once this batch is consumed
};

class VideoTextLoader {
 public:
  // global_batch clips per step over all ranks; this rank gets clips
  // [m*G/A + rank*b, m*G/A + (rank+1)*b) of each of the A = micro_batches
  // slices, b = G/(A*world), in micro-batch order.
  // Probes every video first: a missing or undecodable one is logged on
  // stderr and skipped (see skipped()); a dataset left with fewer usable
  // items than global_batch is an error.
  VideoTextLoader(std::vector<Manifest> manifests, DataOptions options, int64_t global_batch, int rank = 0,
                  int world = 1, int micro_batches = 1, const DataPosition* start = nullptr);
  ~VideoTextLoader();

  VideoTextBatch next();
  int64_t skipped() const;  // items dropped at probe time plus clips that failed to decode later
  int64_t num_usable(int dataset) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace videoprism::train
