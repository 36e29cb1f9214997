// libavcodec/libavformat encoder for synthetic test and training videos.
#include "videoprism/media/video_writer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <cmath>
#include <cstring>
#include <exception>
#include <memory>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"

namespace videoprism {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

struct VideoWriter::State {
  std::string path;
  int width = 0, height = 0;
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVStream* stream = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  SwsContext* sws = nullptr;
  int64_t next_pts = 0;
  bool header_written = false;
  bool closed = false;
  // The file is written as a temporary beside `path` and renamed into place
  // by close() (src/io/atomic_file.h); destroyed uncommitted, it is removed.
  std::unique_ptr<AtomicFile> file;
  int uncaught_at_open = 0;

  ~State() {
    sws_freeContext(sws);
    av_packet_free(&packet);
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    if (format != nullptr) {
      if (format->pb != nullptr && !(format->oformat->flags & AVFMT_NOFILE)) avio_closep(&format->pb);
      avformat_free_context(format);
    }
  }

  // Sends `input` (nullptr flushes) and writes every packet that comes out.
  void encode(AVFrame* input) {
    int ret = avcodec_send_frame(codec, input);
    if (ret < 0) fail("VideoWriter: encoding into '", path, "' failed: ", av_error(ret));
    while ((ret = avcodec_receive_packet(codec, packet)) >= 0) {
      av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
      packet->stream_index = stream->index;
      ret = av_interleaved_write_frame(format, packet);
      if (ret < 0) fail("VideoWriter: writing '", path, "' failed: ", av_error(ret));
    }
    if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
      fail("VideoWriter: encoding into '", path, "' failed: ", av_error(ret));
  }
};

VideoWriter::VideoWriter(const std::string& path, int width, int height, const VideoWriterOptions& options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_FATAL);  // encoder chatter
  s.path = path;
  s.width = width;
  s.height = height;
  check(width > 0 && height > 0, "VideoWriter: '", path, "' frame size expected > 0, got ", width, "x", height);
  check(options.fps > 0, "VideoWriter: '", path, "' fps expected > 0, got ", options.fps);
  check(options.start_s >= 0, "VideoWriter: '", path, "' start_s expected >= 0, got ", options.start_s);

  VideoCodec kind = options.codec;
  if (kind == VideoCodec::Auto)
    kind = ends_with(path, ".mkv") || ends_with(path, ".nut") || ends_with(path, ".avi") ? VideoCodec::FFV1
                                                                                          : VideoCodec::H264;
  const AVCodec* encoder = nullptr;
  if (kind == VideoCodec::FFV1) encoder = avcodec_find_encoder(AV_CODEC_ID_FFV1);
  if (kind == VideoCodec::H264) {
    encoder = avcodec_find_encoder_by_name("libx264");
    if (encoder == nullptr) encoder = avcodec_find_encoder(AV_CODEC_ID_H264);
    if (encoder == nullptr) kind = VideoCodec::MPEG4;
  }
  if (kind == VideoCodec::MPEG4) encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  check(encoder != nullptr, "VideoWriter: no encoder for '", path, "' in this FFmpeg");
  const bool yuv = kind != VideoCodec::FFV1;
  if (yuv) check(width % 2 == 0 && height % 2 == 0, "VideoWriter: '", path, "' ", encoder->name,
                 " needs even frame sizes, got ", width, "x", height);

  int ret = avformat_alloc_output_context2(&s.format, nullptr, nullptr, path.c_str());
  if (ret < 0 || s.format == nullptr)
    fail("VideoWriter: no container format for '", path, "': ", av_error(ret));
  s.stream = avformat_new_stream(s.format, nullptr);
  s.codec = avcodec_alloc_context3(encoder);
  check(s.stream != nullptr && s.codec != nullptr, "VideoWriter: out of memory for '", path, "'");

  // Exact rational frame rate for common values (e.g. 29.97 = 30000/1001).
  AVRational rate = av_d2q(options.fps, 1 << 20);
  s.codec->width = width;
  s.codec->height = height;
  s.codec->time_base = av_inv_q(rate);
  s.codec->framerate = rate;
  s.codec->pix_fmt = yuv ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_BGR0;
  if (options.keyframe_interval > 0) s.codec->gop_size = options.keyframe_interval;
  if (kind == VideoCodec::FFV1) {
    s.codec->level = 3;
    av_opt_set_int(s.codec->priv_data, "slicecrc", 0, 0);
  } else if (std::string(encoder->name) == "libx264") {
    av_opt_set(s.codec->priv_data, "preset", "veryfast", 0);
    av_opt_set_int(s.codec->priv_data, "crf", options.quality, 0);
  } else {
    s.codec->flags |= AV_CODEC_FLAG_QSCALE;
    s.codec->global_quality = FF_QP2LAMBDA * std::max(1, std::min(31, options.quality / 6));
    s.codec->bit_rate = 0;
  }
  if (s.format->oformat->flags & AVFMT_GLOBALHEADER) s.codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ret = avcodec_open2(s.codec, encoder, nullptr);
  if (ret < 0) fail("VideoWriter: cannot open encoder ", encoder->name, " for '", path, "': ", av_error(ret));
  ret = avcodec_parameters_from_context(s.stream->codecpar, s.codec);
  if (ret < 0) fail("VideoWriter: codec parameters for '", path, "': ", av_error(ret));
  s.stream->time_base = s.codec->time_base;
  s.stream->avg_frame_rate = rate;
  s.next_pts = std::llround(options.start_s * av_q2d(rate));

  if (options.rotation % 360 != 0) {
    int32_t matrix[9];
    // av_display_rotation_get() of this matrix gives -rotation, which players
    // (and ffmpeg's autorotate) read as "turn clockwise by rotation".
    av_display_rotation_set(matrix, static_cast<double>(options.rotation));
#if LIBAVCODEC_VERSION_INT >= AV_VERSION_INT(60, 30, 100)  // FFmpeg 6.1: coded_side_data
    AVPacketSideData* sd = av_packet_side_data_new(&s.stream->codecpar->coded_side_data,
                                                   &s.stream->codecpar->nb_coded_side_data,
                                                   AV_PKT_DATA_DISPLAYMATRIX, sizeof(matrix), 0);
    check(sd != nullptr, "VideoWriter: cannot set rotation for '", path, "'");
    std::memcpy(sd->data, matrix, sizeof(matrix));
#else
    uint8_t* sd = av_stream_new_side_data(s.stream, AV_PKT_DATA_DISPLAYMATRIX, sizeof(matrix));
    check(sd != nullptr, "VideoWriter: cannot set rotation for '", path, "'");
    std::memcpy(sd, matrix, sizeof(matrix));
#endif
  }

  if (!(s.format->oformat->flags & AVFMT_NOFILE)) {
    s.file = std::make_unique<AtomicFile>(path);  // the container was chosen from `path` above
    ret = avio_open(&s.format->pb, s.file->tmp().c_str(), AVIO_FLAG_WRITE);
    if (ret < 0) fail("VideoWriter: cannot create '", path, "': ", av_error(ret));
  }
  s.uncaught_at_open = std::uncaught_exceptions();
  ret = avformat_write_header(s.format, nullptr);
  if (ret < 0) fail("VideoWriter: cannot write header of '", path, "': ", av_error(ret));
  s.header_written = true;

  s.frame = av_frame_alloc();
  s.packet = av_packet_alloc();
  check(s.frame != nullptr && s.packet != nullptr, "VideoWriter: out of memory for '", path, "'");
  s.frame->format = s.codec->pix_fmt;
  s.frame->width = width;
  s.frame->height = height;
  ret = av_frame_get_buffer(s.frame, 0);
  if (ret < 0) fail("VideoWriter: frame buffer for '", path, "': ", av_error(ret));
  s.sws = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, s.codec->pix_fmt,
                         SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr, nullptr);
  check(s.sws != nullptr, "VideoWriter: no RGB conversion for '", path, "'");
}

VideoWriter::~VideoWriter() {
  // Unwinding from an error: leave no file (the temporary one is removed).
  if (std::uncaught_exceptions() > state_->uncaught_at_open) return;
  try {
    close();
  } catch (...) {
    // Destructors must not throw; call close() to see errors.
  }
}

std::string VideoWriter::encoder_name() const { return state_->codec->codec->name; }

void VideoWriter::write(const torch::Tensor& frame) {
  State& s = *state_;
  check(!s.closed, "VideoWriter: '", s.path, "' is already closed");
  check(frame.dim() == 3 && frame.size(0) == s.height && frame.size(1) == s.width && frame.size(2) == 3,
        "VideoWriter: '", s.path, "' frame expected [", s.height, ",", s.width, ",3], got ",
        shape_str(frame.sizes()));
  check(frame.scalar_type() == torch::kUInt8, "VideoWriter: '", s.path, "' frame expected uint8, got ",
        frame.scalar_type());
  auto rgb = frame.contiguous();  // [H, W, 3]
  int ret = av_frame_make_writable(s.frame);
  if (ret < 0) fail("VideoWriter: frame buffer for '", s.path, "': ", av_error(ret));
  const uint8_t* src[4] = {rgb.data_ptr<uint8_t>(), nullptr, nullptr, nullptr};
  int src_stride[4] = {s.width * 3, 0, 0, 0};
  sws_scale(s.sws, src, src_stride, 0, s.height, s.frame->data, s.frame->linesize);
  s.frame->pts = s.next_pts++;
  s.encode(s.frame);
}

void VideoWriter::close() {
  State& s = *state_;
  if (s.closed) return;
  s.closed = true;
  s.encode(nullptr);
  int ret = av_write_trailer(s.format);
  if (ret < 0) fail("VideoWriter: cannot finish '", s.path, "': ", av_error(ret));
  if (s.file) {
    ret = avio_closep(&s.format->pb);  // flushes: a full disk shows here
    if (ret < 0) fail("VideoWriter: cannot write '", s.path, "': ", av_error(ret));
    s.file->commit();
  }
}

void write_video(const std::string& path, const torch::Tensor& frames, const VideoWriterOptions& options) {
  check(frames.dim() == 4 && frames.size(3) == 3, "write_video: '", path, "' frames expected [T,H,W,3], got ",
        shape_str(frames.sizes()));
  VideoWriter writer(path, static_cast<int>(frames.size(2)), static_cast<int>(frames.size(1)), options);
  for (int64_t t = 0; t < frames.size(0); ++t) writer.write(frames[t]);
  writer.close();
}

}  // namespace videoprism
