// Video decoding and clip sampling (FFmpeg), as the official demos preprocess
// videos: T frame indices floor(i * n / T) over the video's n frames, resize
// to S x S (Lanczos), RGB float32 in [0, 1].
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace videoprism {

enum class ResizeFilter { Lanczos, Bilinear, Area };
enum class CropMode {
  Stretch,  // resize the whole frame to S x S (official video-text demo)
  Center,   // short side to S, then center crop (official classification demo)
  Pad,      // letterbox: long side to S, centered on black
};

ResizeFilter parse_resize_filter(const std::string& name);  // lanczos|bilinear|area
CropMode parse_crop_mode(const std::string& name);          // none|stretch|center|pad

struct VideoInfo {
  std::string path;
  int64_t num_frames = 0;   // real frame count (counted when the container lacks it)
  double duration_s = 0.0;  // stream duration
  double fps = 0.0;         // average frame rate
  int width = 0;            // display size, after rotation
  int height = 0;
  int rotation = 0;         // clockwise degrees applied to make frames upright: 0/90/180/270
  std::string codec;        // decoder name
};

struct ClipOptions {
  int num_frames = 16;                         // T, frames per clip
  int size = 288;                              // S, output height and width
  ResizeFilter filter = ResizeFilter::Lanczos;
  CropMode crop = CropMode::Stretch;
  int windows = 1;                             // K equal consecutive segments, one clip each
  int threads = 0;                             // decoder threads, 0 = FFmpeg's choice
  // Seek (instead of decoding through) when the keyframe at or before the
  // next wanted frame lies more than this many frames past the last decoded
  // one. 0 forces a seek for every wanted frame (tests); negative never seeks.
  int seek_gap = 16;
};

struct Clip {
  torch::Tensor frames;          // float32 [T, S, S, 3], RGB in [0, 1]; zeros where padded
  torch::Tensor frame_paddings;  // float32 [T], 1 = padded slot (segment shorter than T)
  double start_s = 0.0;          // time of the segment's first frame
  double end_s = 0.0;            // time just after the segment's last frame
  std::vector<int64_t> frame_indices;  // [T] frame index per slot, -1 for padded slots
};

// Frame indices of one clip over a segment [begin, end): begin + floor(i * m / T)
// for m = end - begin >= T; when m < T all m frames then -1 (padded) slots.
std::vector<int64_t> sample_frame_indices(int64_t begin, int64_t end, int num_frames);

// Opens the file and reads its metadata and real frame count.
VideoInfo probe_video(const std::string& path);

// Reads `options.windows` clips (K = 1: one clip over the whole video).
std::vector<Clip> read_clips(const std::string& path, const ClipOptions& options = {});

// Decodes the given frame indices (any order, repeats allowed) as uint8 RGB
// at display size [N, H, W, 3], upright. For tests and tools.
torch::Tensor read_frames_rgb(const std::string& path, const std::vector<int64_t>& indices,
                              int seek_gap = 16);

}  // namespace videoprism
