// FFmpeg demux + decode of one video stream, frame-accurate by index.
#include "video_decoder.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/error.h>
}

#include <algorithm>
#include <cmath>
#include <memory>

#include "videoprism/core/error.h"

namespace videoprism::detail {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

// Clockwise degrees (0/90/180/270) that make the stream's frames upright,
// from the display-matrix side data (as the ffmpeg tool's autorotate).
int stream_rotation(const AVStream* stream) {
  const uint8_t* matrix = nullptr;
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)  // FFmpeg 6.1: coded_side_data
  const AVPacketSideData* sd = av_packet_side_data_get(
      stream->codecpar->coded_side_data, stream->codecpar->nb_coded_side_data,
      AV_PKT_DATA_DISPLAYMATRIX);
  if (sd != nullptr && sd->size >= 9 * sizeof(int32_t)) matrix = sd->data;
#else
  size_t size = 0;
  matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (size < 9 * sizeof(int32_t)) matrix = nullptr;
#endif
  if (matrix == nullptr) return 0;
  double angle = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(angle)) return 0;
  long clockwise = std::lround(-angle / 90.0) * 90;
  return static_cast<int>(((clockwise % 360) + 360) % 360);
}

}  // namespace

VideoDecoder::VideoDecoder(const std::string& path, int threads) : path_(path) {
  // FFmpeg logs warnings about recoverable stream damage to stderr; failures
  // reach the caller as videoprism::Error. Quiet it unless the user raised it.
  if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_FATAL);
  int ret = avformat_open_input(&format_, path.c_str(), nullptr, nullptr);
  if (ret == AVERROR(ENOENT)) fail_not_found("video: cannot open '", path, "': ", av_error(ret));
  if (ret < 0)
    fail("video: cannot open '", path, "': ", av_error(ret),
         ret == AVERROR_INVALIDDATA || ret == AVERROR_EOF ? " (not a media file, empty or truncated?)" : "");
  // From here on a failure must release what was opened: the destructor does
  // not run for a constructor that throws, and a leaked AVFormatContext keeps
  // the file's descriptor open (a library with many bad files ran out).
  try {
    open_stream(threads);
  } catch (...) {
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
    throw;
  }
}

void VideoDecoder::open_stream(int threads) {
  const std::string& path = path_;
  int ret = avformat_find_stream_info(format_, nullptr);
  if (ret < 0) fail("video: cannot read stream info of '", path, "': ", av_error(ret));
#if LIBAVFORMAT_VERSION_MAJOR >= 59
  const AVCodec* decoder = nullptr;
#else
  AVCodec* decoder = nullptr;
#endif
  ret = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (ret == AVERROR_STREAM_NOT_FOUND) {
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (format_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
        fail("video: '", path, "' has no decodable video frames (empty video stream)");
    fail("video: no video stream in '", path, "' (audio-only or not a video?)");
  }
  if (ret == AVERROR_DECODER_NOT_FOUND || (ret >= 0 && decoder == nullptr)) {
    int index = -1;
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (format_->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) index = static_cast<int>(i);
    const char* name = index >= 0 ? avcodec_get_name(format_->streams[index]->codecpar->codec_id) : "?";
    fail("video: unsupported codec '", name, "' in '", path, "' (no decoder in this FFmpeg)");
  }
  if (ret < 0) fail("video: cannot select a video stream in '", path, "': ", av_error(ret));
  stream_index_ = ret;
  stream_ = format_->streams[stream_index_];
  for (unsigned i = 0; i < format_->nb_streams; ++i)
    if (static_cast<int>(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;

  codec_ = avcodec_alloc_context3(decoder);
  check(codec_ != nullptr, "video: out of memory opening '", path, "'");
  ret = avcodec_parameters_to_context(codec_, stream_->codecpar);
  if (ret < 0) fail("video: bad codec parameters in '", path, "': ", av_error(ret));
  codec_->thread_count = std::max(0, threads);
  codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  codec_->pkt_timebase = stream_->time_base;
  ret = avcodec_open2(codec_, decoder, nullptr);
  if (ret < 0) fail("video: cannot open decoder '", decoder->name, "' for '", path, "': ", av_error(ret));
  check(codec_->width > 0 && codec_->height > 0, "video: '", path, "' has no frame size (corrupt?)");

  rotation_ = stream_rotation(stream_);
  AVRational rate = stream_->avg_frame_rate.num > 0 ? stream_->avg_frame_rate : stream_->r_frame_rate;
  fps_ = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
  build_index();
  check(num_frames_ > 0, "video: '", path, "' has no decodable video frames");
  if (have_pts_) {
    duration_s_ = frame_time(num_frames_);
  } else if (stream_->duration > 0) {
    duration_s_ = stream_->duration * av_q2d(stream_->time_base);
  } else if (format_->duration > 0) {
    duration_s_ = static_cast<double>(format_->duration) / AV_TIME_BASE;
  } else if (fps_ > 0) {
    duration_s_ = num_frames_ / fps_;
  }
  if (fps_ <= 0 && duration_s_ > 0) fps_ = num_frames_ / duration_s_;
}

VideoDecoder::~VideoDecoder() {
  avcodec_free_context(&codec_);
  avformat_close_input(&format_);
}

double VideoDecoder::frame_time(int64_t k) const {
  if (have_pts_) {
    const double tb = av_q2d(stream_->time_base);
    if (k < num_frames_) return static_cast<double>(frame_pts_[k] - frame_pts_[0]) * tb;
    // Past the last frame: its time plus one frame duration.
    double last = static_cast<double>(frame_pts_.back() - frame_pts_[0]) * tb;
    double step = num_frames_ > 1 ? last / static_cast<double>(num_frames_ - 1) : (fps_ > 0 ? 1.0 / fps_ : 0.0);
    return last + step;
  }
  return fps_ > 0 ? static_cast<double>(k) / fps_ : 0.0;
}

// Demuxes every packet of the stream (no decoding) to learn the frame count and
// the presentation timestamps. When some packet has no timestamp, or the
// container can pack several frames per packet (AVI), counts by decoding.
void VideoDecoder::build_index() {
  if (index_from_container()) return;
  rewind();
  PacketPtr packet(av_packet_alloc());
  bool all_pts = true;
  int ret = 0;
  while ((ret = av_read_frame(format_, packet.get())) >= 0) {
    if (packet->stream_index == stream_index_ && !(packet->flags & AV_PKT_FLAG_DISCARD) &&
        packet->size > 0) {
      if (packet->pts == AV_NOPTS_VALUE) all_pts = false;
      frame_pts_.push_back(packet->pts);
      if (packet->flags & AV_PKT_FLAG_KEY) key_pts_.push_back(packet->pts);
    }
    av_packet_unref(packet.get());
  }
  if (ret != AVERROR_EOF) fail("video: error reading '", path_, "': ", av_error(ret), " (truncated or corrupt?)");
  std::sort(frame_pts_.begin(), frame_pts_.end());
  std::sort(key_pts_.begin(), key_pts_.end());
  bool unique = std::adjacent_find(frame_pts_.begin(), frame_pts_.end()) == frame_pts_.end();
  const std::string format_name = format_->iformat->name;
  have_pts_ = all_pts && unique && !frame_pts_.empty() && format_name.find("avi") == std::string::npos;
  if (have_pts_) {
    num_frames_ = static_cast<int64_t>(frame_pts_.size());
  } else {
    frame_pts_.clear();
    key_pts_.clear();
    count_by_decoding();
  }
}

// Cheap path for MP4/MOV without frame reordering: the demuxer's sample table
// lists every frame with its timestamp and keyframe flag, so nothing needs to be
// read. Checked against the first packets' pts; any mismatch (e.g. a composition
// offset) falls back to demuxing everything.
bool VideoDecoder::index_from_container() {
#if LIBAVFORMAT_VERSION_MAJOR > 58 || (LIBAVFORMAT_VERSION_MAJOR == 58 && LIBAVFORMAT_VERSION_MINOR >= 78)
  const std::string format_name = format_->iformat->name;
  if (format_name.find("mp4") == std::string::npos && format_name.find("mov") == std::string::npos)
    return false;
  if (stream_->codecpar->video_delay > 0 || codec_->has_b_frames > 0) return false;
  const int entries = avformat_index_get_entries_count(stream_);
  if (entries <= 0) return false;
  std::vector<int64_t> pts, keys;
  pts.reserve(static_cast<size_t>(entries));
  for (int i = 0; i < entries; ++i) {
    const AVIndexEntry* e = avformat_index_get_entry(stream_, i);
    if (e == nullptr || (e->flags & AVINDEX_DISCARD_FRAME) || e->size <= 0) continue;
    pts.push_back(e->timestamp);
    if (e->flags & AVINDEX_KEYFRAME) keys.push_back(e->timestamp);
  }
  if (pts.empty() || !std::is_sorted(pts.begin(), pts.end()) ||
      std::adjacent_find(pts.begin(), pts.end()) != pts.end())
    return false;
  // The first packets must carry exactly these timestamps.
  PacketPtr packet(av_packet_alloc());
  size_t checked = 0;
  while (checked < std::min<size_t>(pts.size(), 8) && av_read_frame(format_, packet.get()) >= 0) {
    bool ours = packet->stream_index == stream_index_ && !(packet->flags & AV_PKT_FLAG_DISCARD);
    int64_t packet_pts = packet->pts;
    av_packet_unref(packet.get());
    if (!ours) continue;
    if (packet_pts != pts[checked]) {
      rewind();
      return false;
    }
    ++checked;
  }
  if (checked == 0) return false;
  frame_pts_ = std::move(pts);
  key_pts_ = std::move(keys);
  have_pts_ = true;
  num_frames_ = static_cast<int64_t>(frame_pts_.size());
  return true;
#else
  return false;
#endif
}

void VideoDecoder::rewind() {
  int64_t start = !frame_pts_.empty() ? frame_pts_.front()
                  : stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0;
  int ret = av_seek_frame(format_, stream_index_, start, AVSEEK_FLAG_BACKWARD);
  if (ret < 0) ret = av_seek_frame(format_, -1, 0, AVSEEK_FLAG_BYTE);
  if (ret < 0) fail("video: cannot rewind '", path_, "': ", av_error(ret));
  avcodec_flush_buffers(codec_);
}

void VideoDecoder::count_by_decoding() {
  int64_t count = 0;
  decode({}, -1, [&](int64_t, const AVFrame*) { ++count; });
  num_frames_ = count;
}

int64_t VideoDecoder::index_of(const AVFrame* frame, int64_t sequential) const {
  if (!have_pts_) return sequential;
  int64_t ts = frame->best_effort_timestamp != AV_NOPTS_VALUE ? frame->best_effort_timestamp : frame->pts;
  auto it = std::lower_bound(frame_pts_.begin(), frame_pts_.end(), ts);
  if (it == frame_pts_.end() || *it != ts) return -1;  // not a frame of the index
  return static_cast<int64_t>(it - frame_pts_.begin());
}

// Decodes from the current demuxer position. An empty `wanted` means every
// frame (used for counting); otherwise stops after the last wanted frame.
void VideoDecoder::decode(const std::vector<int64_t>& wanted, int seek_gap,
                          const std::function<void(int64_t, const AVFrame*)>& on_frame) {
  const bool all = wanted.empty();
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  size_t next = 0;           // position in `wanted`
  int64_t sequential = 0;    // decoded frames since the start (no-seek mode)
  int64_t last_index = -1;   // index of the last decoded frame
  bool demux_eof = false;
  int decode_errors = 0;
  int seek_retries = 0;
  int64_t sought_key = -1;   // key_pts_ position of the last seek, -1 if none

  auto seek_to_key = [&](int64_t key_pos) {
    int64_t ts = key_pos >= 0 ? key_pts_[key_pos] : frame_pts_.front();
    int ret = av_seek_frame(format_, stream_index_, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) fail("video: seek failed in '", path_, "': ", av_error(ret));
    avcodec_flush_buffers(codec_);
    demux_eof = false;
    sought_key = key_pos;
    last_index = -1;
  };
  // Seek when the keyframe at or before the target lies more than `seek_gap`
  // frames past the last decoded frame (seeking then skips that many decodes).
  auto maybe_seek = [&](int64_t target) {
    if (!have_pts_ || seek_gap < 0 || key_pts_.empty()) return;
    const int64_t target_pts = frame_pts_[target];
    auto it = std::upper_bound(key_pts_.begin(), key_pts_.end(), target_pts);
    if (it == key_pts_.begin()) return;
    const int64_t key_pos = static_cast<int64_t>(it - key_pts_.begin()) - 1;
    const int64_t key_index = static_cast<int64_t>(
        std::lower_bound(frame_pts_.begin(), frame_pts_.end(), key_pts_[key_pos]) - frame_pts_.begin());
    if (seek_gap == 0 || key_index - last_index > seek_gap) seek_to_key(key_pos);
  };

  rewind();
  if (!all) maybe_seek(wanted[0]);
  while (all || next < wanted.size()) {
    int ret = avcodec_receive_frame(codec_, frame.get());
    if (ret == 0) {
      int64_t index = index_of(frame.get(), sequential++);
      if (index < 0) continue;
      if (all) {
        on_frame(index, frame.get());
      } else if (index == wanted[next]) {
        on_frame(index, frame.get());
        last_index = index;
        ++next;
        sought_key = -1;
        if (next < wanted.size()) maybe_seek(wanted[next]);
      } else if (index > wanted[next]) {
        // Landed past the target after a seek (keyframe timestamps can exceed
        // later frames' with B-frames): seek to an earlier keyframe.
        if (sought_key < 0 || ++seek_retries > 64)
          fail("video: frame ", wanted[next], " of '", path_, "' could not be decoded (corrupt?)");
        seek_to_key(sought_key - 1);
      } else {
        last_index = index;
      }
      av_frame_unref(frame.get());
      continue;
    }
    if (ret == AVERROR_EOF) break;  // fully drained
    if (ret != AVERROR(EAGAIN)) fail("video: decoding '", path_, "' failed: ", av_error(ret));
    if (demux_eof) break;  // flushed, nothing more will come
    ret = av_read_frame(format_, packet.get());
    if (ret == AVERROR_EOF) {
      demux_eof = true;
      avcodec_send_packet(codec_, nullptr);  // drain
      continue;
    }
    if (ret < 0) fail("video: error reading '", path_, "': ", av_error(ret), " (truncated or corrupt?)");
    if (packet->stream_index == stream_index_) {
      ret = avcodec_send_packet(codec_, packet.get());
      // A damaged packet loses its frame; a wanted frame missing fails below.
      if (ret < 0 && ret != AVERROR(EAGAIN) && ++decode_errors > 1000)
        fail("video: too many decoding errors in '", path_, "': ", av_error(ret));
    }
    av_packet_unref(packet.get());
  }
  if (!all && next < wanted.size())
    fail("video: frame ", wanted[next], " of '", path_, "' could not be decoded (only ",
         last_index + 1, " frames decodable; truncated or corrupt?)");
}

}  // namespace videoprism::detail
