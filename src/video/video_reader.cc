// Clip sampling and preprocessing on top of VideoDecoder: frame selection,
// rotation, resize (swscale), crop/pad, float conversion.
#include "videoprism/media/video_reader.h"

extern "C" {
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <map>

#include "video/video_decoder.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"

namespace videoprism {
namespace {

// Converts decoded frames to upright RGB uint8 of a fixed scaled size.
class FrameConverter {
 public:
  FrameConverter(int rotation, int flags) : rotation_(rotation), flags_(flags) {}
  ~FrameConverter() { sws_freeContext(sws_); }
  FrameConverter(const FrameConverter&) = delete;
  FrameConverter& operator=(const FrameConverter&) = delete;

  // Scales the frame to display size [out_h, out_w] (after rotation) and
  // returns uint8 [out_h, out_w, 3], upright.
  torch::Tensor convert(const AVFrame* frame, int out_w, int out_h) {
    const bool swap = rotation_ % 180 != 0;
    const int sw = swap ? out_h : out_w, sh = swap ? out_w : out_h;  // source orientation
    auto format = static_cast<AVPixelFormat>(frame->format);
    // The JPEG-range aliases are deprecated in swscale; the range is set below.
    bool full = frame->color_range == AVCOL_RANGE_JPEG;
    if (format == AV_PIX_FMT_YUVJ420P) format = AV_PIX_FMT_YUV420P, full = true;
    if (format == AV_PIX_FMT_YUVJ422P) format = AV_PIX_FMT_YUV422P, full = true;
    if (format == AV_PIX_FMT_YUVJ444P) format = AV_PIX_FMT_YUV444P, full = true;
    if (format == AV_PIX_FMT_YUVJ440P) format = AV_PIX_FMT_YUV440P, full = true;
    sws_ = sws_getCachedContext(sws_, frame->width, frame->height, format, sw, sh, AV_PIX_FMT_RGB24,
                                flags_, nullptr, nullptr, nullptr);
    check(sws_ != nullptr, "video: cannot convert pixel format ",
          av_get_pix_fmt_name(format) ? av_get_pix_fmt_name(format) : "?", " to RGB");
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    if (desc != nullptr && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
      // Honor the frame's YUV matrix and range (unspecified: BT.601 limited, as ffmpeg).
      int matrix = SWS_CS_DEFAULT;
      switch (frame->colorspace) {
        case AVCOL_SPC_BT709: matrix = SWS_CS_ITU709; break;
        case AVCOL_SPC_FCC: matrix = SWS_CS_FCC; break;
        case AVCOL_SPC_SMPTE240M: matrix = SWS_CS_SMPTE240M; break;
        case AVCOL_SPC_BT2020_NCL: case AVCOL_SPC_BT2020_CL: matrix = SWS_CS_BT2020; break;
        default: break;
      }
      sws_setColorspaceDetails(sws_, sws_getCoefficients(matrix), full ? 1 : 0,
                               sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    }
    auto rgb = torch::empty({sh, sw, 3}, torch::kUInt8);  // [sh, sw, 3] source orientation
    uint8_t* dst[4] = {rgb.data_ptr<uint8_t>(), nullptr, nullptr, nullptr};
    int dst_stride[4] = {sw * 3, 0, 0, 0};
    int rows = sws_scale(sws_, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
    check(rows == sh, "video: scaling failed (", rows, " of ", sh, " rows)");
    // torch::rot90 with k = -1 over (rows, cols) turns the image clockwise.
    if (rotation_ == 90) return torch::rot90(rgb, -1, {0, 1}).contiguous();
    if (rotation_ == 180) return torch::rot90(rgb, 2, {0, 1}).contiguous();
    if (rotation_ == 270) return torch::rot90(rgb, 1, {0, 1}).contiguous();
    return rgb;
  }

 private:
  int rotation_;
  int flags_;
  SwsContext* sws_ = nullptr;
};

int sws_flags(ResizeFilter filter) {
  int base = SWS_LANCZOS;
  if (filter == ResizeFilter::Bilinear) base = SWS_BILINEAR;
  if (filter == ResizeFilter::Area) base = SWS_AREA;
  return base | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP;
}

// Display-size frame -> [S, S, 3] float32 in [0, 1] per crop mode.
torch::Tensor preprocess(FrameConverter& converter, const AVFrame* frame, int display_w,
                         int display_h, const ClipOptions& options) {
  const int S = options.size;
  switch (options.crop) {
    case CropMode::Stretch:
      return converter.convert(frame, S, S).to(torch::kFloat32).div_(255.0f);
    case CropMode::Center: {
      // As the classification demo: scale = max(S/h, S/w), round, crop at (new - S) // 2.
      double scale = std::max(static_cast<double>(S) / display_h, static_cast<double>(S) / display_w);
      int new_h = std::max(S, static_cast<int>(std::lround(display_h * scale)));
      int new_w = std::max(S, static_cast<int>(std::lround(display_w * scale)));
      auto scaled = converter.convert(frame, new_w, new_h);  // [new_h, new_w, 3]
      int top = (new_h - S) / 2, left = (new_w - S) / 2;
      return scaled.slice(0, top, top + S).slice(1, left, left + S).to(torch::kFloat32).div_(255.0f);
    }
    case CropMode::Pad: {
      // Letterbox: the long side becomes S, centered on black.
      double scale = std::min(static_cast<double>(S) / display_h, static_cast<double>(S) / display_w);
      int new_h = std::clamp(static_cast<int>(std::lround(display_h * scale)), 1, S);
      int new_w = std::clamp(static_cast<int>(std::lround(display_w * scale)), 1, S);
      auto scaled = converter.convert(frame, new_w, new_h);
      auto out = torch::zeros({S, S, 3}, torch::kFloat32);
      int top = (S - new_h) / 2, left = (S - new_w) / 2;
      out.slice(0, top, top + new_h).slice(1, left, left + new_w).copy_(scaled.to(torch::kFloat32).div_(255.0f));
      return out;
    }
  }
  fail("video: unknown crop mode");
}

}  // namespace

ResizeFilter parse_resize_filter(const std::string& name) {
  if (name == "lanczos") return ResizeFilter::Lanczos;
  if (name == "bilinear") return ResizeFilter::Bilinear;
  if (name == "area") return ResizeFilter::Area;
  fail_arg("resize filter: expected lanczos, bilinear or area, got '", name, "'");
}

CropMode parse_crop_mode(const std::string& name) {
  if (name == "none" || name == "stretch") return CropMode::Stretch;
  if (name == "center") return CropMode::Center;
  if (name == "pad") return CropMode::Pad;
  fail_arg("crop mode: expected none, center or pad, got '", name, "'");
}

std::vector<int64_t> sample_frame_indices(int64_t begin, int64_t end, int num_frames) {
  check(num_frames > 0, "sample_frame_indices: num_frames expected > 0, got ", num_frames);
  check(end >= begin, "sample_frame_indices: empty segment [", begin, ", ", end, ")");
  const int64_t m = end - begin;
  std::vector<int64_t> indices(static_cast<size_t>(num_frames), -1);
  for (int64_t i = 0; i < num_frames; ++i) {
    if (m >= num_frames) {
      indices[i] = begin + i * m / num_frames;  // floor(i * m / T), exact in integers
    } else if (i < m) {
      indices[i] = begin + i;  // fewer frames than slots: all of them, then padding
    }
  }
  return indices;
}

VideoInfo probe_video(const std::string& path) {
  detail::VideoDecoder decoder(path, 1);
  VideoInfo info;
  info.path = path;
  info.num_frames = decoder.num_frames();
  info.duration_s = decoder.duration_s();
  info.fps = decoder.fps();
  info.rotation = decoder.rotation();
  const bool swap = info.rotation % 180 != 0;
  info.width = swap ? decoder.height() : decoder.width();
  info.height = swap ? decoder.width() : decoder.height();
  info.codec = decoder.codec_name();
  return info;
}

std::vector<Clip> read_clips(const std::string& path, const ClipOptions& options) {
  check_range("read_clips: frames per clip (--frames)", options.num_frames, 1, kMaxClipFrames);
  check_range("read_clips: frame size (--size)", options.size, 1, kMaxClipSize);
  check_range("read_clips: windows (--windows)", options.windows, 1, kMaxWindows);
  check_threads("read_clips: decoder threads (--threads)", options.threads);
  detail::VideoDecoder decoder(path, options.threads);
  const int64_t n = decoder.num_frames();
  const int K = options.windows, T = options.num_frames, S = options.size;
  check(K <= n, "read_clips: '", path, "' has ", n, " frames, fewer than the ", K, " windows asked for");

  std::vector<Clip> clips(static_cast<size_t>(K));
  std::map<int64_t, std::vector<std::pair<int, int>>> slots;  // frame index -> (clip, slot)
  for (int w = 0; w < K; ++w) {
    const int64_t begin = w * n / K, end = (w + 1) * n / K;
    Clip& clip = clips[w];
    clip.frames = torch::zeros({T, S, S, 3}, torch::kFloat32);  // [T, S, S, 3]
    clip.frame_paddings = torch::zeros({T}, torch::kFloat32);   // [T]
    clip.frame_indices = sample_frame_indices(begin, end, T);
    clip.start_s = decoder.frame_time(begin);
    clip.end_s = decoder.frame_time(end);
    for (int t = 0; t < T; ++t) {
      if (clip.frame_indices[t] < 0)
        clip.frame_paddings[t] = 1.0f;
      else
        slots[clip.frame_indices[t]].emplace_back(w, t);
    }
  }
  std::vector<int64_t> wanted;
  for (const auto& entry : slots) wanted.push_back(entry.first);

  const int rotation = decoder.rotation();
  const bool swap = rotation % 180 != 0;
  const int display_w = swap ? decoder.height() : decoder.width();
  const int display_h = swap ? decoder.width() : decoder.height();
  FrameConverter converter(rotation, sws_flags(options.filter));
  decoder.decode(wanted, options.seek_gap, [&](int64_t index, const AVFrame* frame) {
    auto image = preprocess(converter, frame, display_w, display_h, options);  // [S, S, 3]
    for (auto [w, t] : slots.at(index)) clips[w].frames[t].copy_(image);
  });
  return clips;
}

torch::Tensor read_frames_rgb(const std::string& path, const std::vector<int64_t>& indices,
                              int seek_gap) {
  detail::VideoDecoder decoder(path, 0);
  const int64_t n = decoder.num_frames();
  std::vector<int64_t> wanted(indices);
  for (auto k : wanted)
    check(k >= 0 && k < n, "read_frames_rgb: frame index ", k, " out of range [0, ", n, ") for '", path, "'");
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  const bool swap = decoder.rotation() % 180 != 0;
  const int w = swap ? decoder.height() : decoder.width();
  const int h = swap ? decoder.width() : decoder.height();
  auto out = torch::empty({static_cast<int64_t>(indices.size()), h, w, 3}, torch::kUInt8);
  FrameConverter converter(decoder.rotation(), SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT);
  decoder.decode(wanted, seek_gap, [&](int64_t index, const AVFrame* frame) {
    auto image = converter.convert(frame, w, h);  // [h, w, 3]
    for (size_t i = 0; i < indices.size(); ++i)
      if (indices[i] == index) out[static_cast<int64_t>(i)].copy_(image);
  });
  return out;
}

}  // namespace videoprism
