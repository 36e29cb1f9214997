// Internal: an FFmpeg demuxer + decoder for one video stream that delivers
// chosen frames (by presentation index) without holding the others.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace videoprism::detail {

class VideoDecoder {
 public:
  VideoDecoder(const std::string& path, int threads);
  ~VideoDecoder();
  VideoDecoder(const VideoDecoder&) = delete;
  VideoDecoder& operator=(const VideoDecoder&) = delete;

  int64_t num_frames() const { return num_frames_; }
  int width() const { return codec_->width; }    // coded size, before rotation
  int height() const { return codec_->height; }
  int rotation() const { return rotation_; }     // clockwise degrees
  double fps() const { return fps_; }
  double duration_s() const { return duration_s_; }
  std::string codec_name() const { return codec_->codec ? codec_->codec->name : "?"; }
  // Presentation time of frame k in seconds from the stream start; k may be n.
  double frame_time(int64_t k) const;

  // Calls `on_frame(k, frame)` once for every k in `wanted` (sorted, unique),
  // in increasing order. Throws naming the file if a frame cannot be decoded.
  void decode(const std::vector<int64_t>& wanted, int seek_gap,
              const std::function<void(int64_t, const AVFrame*)>& on_frame);

 private:
  // Everything the constructor does after avformat_open_input (throws; the
  // constructor then releases the context).
  void open_stream(int threads);
  void build_index();
  void count_by_decoding();
  void rewind();
  bool index_from_container();
  bool send_and_receive(AVPacket* packet, const std::function<bool(AVFrame*)>& on_decoded);
  int64_t index_of(const AVFrame* frame, int64_t sequential) const;

  std::string path_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  int stream_index_ = -1;
  int rotation_ = 0;
  double fps_ = 0.0;
  double duration_s_ = 0.0;
  int64_t num_frames_ = 0;
  bool have_pts_ = false;           // every frame has a unique pts: index by pts
  std::vector<int64_t> frame_pts_;  // [n] sorted presentation timestamps
  std::vector<int64_t> key_pts_;    // sorted pts of keyframes
};

}  // namespace videoprism::detail
