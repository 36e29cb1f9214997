// A small video encoder (libavcodec): RGB uint8 frames [T, H, W, 3] to a file.
// FFV1 in .mkv is lossless (tests); .mp4 uses H.264 (libx264) when the linked
// FFmpeg has an encoder for it, else MPEG-4 part 2.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

namespace videoprism {

enum class VideoCodec {
  Auto,   // by extension: .mkv/.avi/.nut -> FFV1, otherwise H.264 (or MPEG-4)
  FFV1,   // lossless, RGB (bgr0) pixels
  H264,   // yuv420p; falls back to MPEG4 when no H.264 encoder is linked
  MPEG4,  // MPEG-4 part 2, yuv420p
};

struct VideoWriterOptions {
  double fps = 24.0;          // constant frame rate of the stream
  VideoCodec codec = VideoCodec::Auto;
  int quality = 18;           // H.264 CRF / MPEG-4 qscale*? (lower is better)
  int rotation = 0;           // clockwise degrees a player must turn frames (display matrix)
  int keyframe_interval = 0;  // GOP size; 0 = encoder default
  double start_s = 0;         // presentation time of the first frame (a cut keeps its source's timeline)
};

class VideoWriter {
 public:
  // Opens `path` for frames of width x height (even sizes for yuv420p codecs).
  VideoWriter(const std::string& path, int width, int height, const VideoWriterOptions& options = {});
  ~VideoWriter();  // closes (finishes the file) if close() was not called
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Appends one frame, uint8 [H, W, 3] RGB.
  void write(const torch::Tensor& frame);
  // Flushes the encoder and writes the trailer. Idempotent.
  void close();
  // Name of the encoder in use ("ffv1", "libx264", "mpeg4").
  std::string encoder_name() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes all frames, uint8 [T, H, W, 3], to `path`.
void write_video(const std::string& path, const torch::Tensor& frames, const VideoWriterOptions& options = {});

}  // namespace videoprism
