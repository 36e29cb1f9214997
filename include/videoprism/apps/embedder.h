// Video and text embeddings for many files: batching across files and windows,
// with decoding overlapped with the model (a background thread decodes the
// next files while the model runs on the current batch).
//
//   Model model = Model::load("lvt.npz");
//   EmbedOptions options;  options.clip.num_frames = 16;  options.batch = 4;
//   VideoEmbedder embedder(model, run, options);
//   embedder.run(paths, [](const VideoEmbedding& v) { ... },
//                [](size_t i, const std::string& path, const std::string& why) { ... });
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "videoprism/core/model.h"
#include "videoprism/media/video_reader.h"

namespace videoprism {

class Tokenizer;

struct EmbedOptions {
  ClipOptions clip;               // frames, size, windows (K clips per video), resize
  int batch = 1;                  // clips per forward (windows of several files mix)
  bool tokens = false;            // keep the spatiotemporal tokens of every window
  bool frame_embeddings = false;  // keep per-frame embeddings (video-text models)
  int prefetch_clips = 0;         // decoded clips allowed to wait; 0: 2 * batch
};

// One video's result. K = number of windows.
struct VideoEmbedding {
  size_t index = 0;                                // position in the input list
  std::string path;
  VideoInfo info;                                  // from probe_video
  std::vector<std::pair<double, double>> windows;  // [K] (start_s, end_s)
  torch::Tensor embeddings;        // float32 [K, D], L2-normalized
  torch::Tensor frame_embeddings;  // float32 [K, T, D] when asked, else undefined
  torch::Tensor tokens;            // float32 [K, T*N, D] when asked, else undefined
};

// Wall-clock accounting of one run() (seconds).
struct EmbedStats {
  int64_t files = 0, failed = 0, clips = 0, batches = 0;
  double wall_s = 0;         // whole run
  double model_s = 0;        // inside the model's forward
  double wait_decode_s = 0;  // the model thread waiting for decoded clips
};

class VideoEmbedder {
 public:
  using OnVideo = std::function<void(const VideoEmbedding&)>;
  using OnError = std::function<void(size_t index, const std::string& path, const std::string& message)>;

  // `model` must outlive the embedder. Encoder-only models give the
  // L2-normalized mean of their tokens as the embedding; classifiers their
  // global embedding.
  VideoEmbedder(Model& model, RunOptions run, EmbedOptions options);

  // Embeds the files; on_video is called (on the calling thread) as each file's
  // windows are all done, in input order; on_error for each file that cannot
  // be read (the others continue). Model errors propagate.
  EmbedStats run(const std::vector<std::string>& paths, const OnVideo& on_video, const OnError& on_error);

  // One file; throws on failure.
  VideoEmbedding embed(const std::string& path);

  const EmbedOptions& options() const { return options_; }

 private:
  Model& model_;
  RunOptions run_;
  EmbedOptions options_;
};

// The L2-normalized embedding of each clip from a forward's outputs, by model
// kind: video-text `video_embeddings`; encoder the normalized mean of its tokens
// (`embeddings`); classifier its normalized `global_embeddings`. [B, D].
torch::Tensor clip_embeddings(ModelKind kind, const TensorMap& outputs);

// Tokenizes and encodes texts with the model's text tower: float32 [N, D],
// L2-normalized (video-text models only).
torch::Tensor encode_texts(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                           const RunOptions& run, int batch = 64, int max_length = 64);

// Writes results: ".npz" (video_embeddings [N,K,D], window_times [N,K,2],
// frame_embeddings [N,K,T,D], tokens [N,K,T*N',D], text_embeddings [M,D],
// paths / texts as newline-joined UTF-8 bytes `paths_utf8`, `texts_utf8`) or
// ".jsonl" (one object per video, then one per text). Atomic (tmp + rename).
void save_embeddings(const std::string& path, const std::vector<VideoEmbedding>& videos,
                     const std::vector<std::string>& texts, const torch::Tensor& text_embeddings);

}  // namespace videoprism
