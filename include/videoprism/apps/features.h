// Frozen-backbone features for evaluation: labelled manifests, clip decoding
// with the evaluation controls, and the encoder's outputs cached in memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "videoprism/core/model.h"
#include "videoprism/media/video_reader.h"

namespace videoprism::eval {

// One labelled video: {"video": path, "<task>": int, ...} per JSONL line.
struct LabelledItem {
  std::string video;   // resolved against the manifest's folder
  std::string caption; // "caption" when present
  int64_t label = -1;  // the task's field, -1 when absent
};

// Reads a JSONL manifest; `task` empty reads no label, otherwise the line's
// integer field `task` is required. Errors name "path:line".
std::vector<LabelledItem> read_labelled_manifest(const std::string& path, const std::string& task);

// Evaluation controls on the frames of each clip.
enum class FrameControl {
  kNone,
  kShuffled,     // the T frames in a fixed random order (per clip, seeded). The arrow of
                 // time falls to chance; the unordered frames still show a path's axis
                 // (so 8-way direction can reach 0.5) and its length (speed).
  kSingleFrame,  // the middle frame repeated T times
};
FrameControl parse_frame_control(const std::string& name);  // none|shuffled|single-frame
std::string to_string(FrameControl control);

// Applies a control to frames [T, H, W, 3]; `seed` picks the shuffle order.
torch::Tensor apply_frame_control(const torch::Tensor& frames, FrameControl control, uint64_t seed);

struct FeatureOptions {
  ClipOptions clip;                    // frames and size (one window)
  FrameControl control = FrameControl::kNone;
  uint64_t control_seed = 0;           // shuffled: clip i uses control_seed + i
  int batch = 8;                       // clips per forward
  RunOptions run;
};

// The model's output `key` for every video, stacked on dim 0 (float32, CPU).
// Keys: "tokens" = the spatiotemporal features [N, T*n, D] of any model kind
// (encoder "embeddings", video-text / classifier "spatiotemporal_features"),
// or any key of Model::forward (e.g. "video_embeddings" [N, D]).
torch::Tensor extract_features(Model& model, const std::vector<std::string>& videos, const std::string& key,
                               const FeatureOptions& options);

// Writes JSON atomically (tmp + rename).
void write_json_atomic(const std::string& path, const std::string& text);

}  // namespace videoprism::eval
