// Thumbnails (libavcodec's mjpeg), previews (VideoDecoder -> swscale ->
// VideoWriter H.264) and the browser-playability check.
#include "io/atomic_file.h"
#include "serve/media_codec.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

#include <torch/torch.h>

#include "video/video_decoder.h"
#include "videoprism/core/error.h"
#include "videoprism/media/video_reader.h"
#include "videoprism/media/video_writer.h"

namespace videoprism::serve {
namespace {

std::string av_error(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buf, sizeof(buf));
  return buf;
}

int even(double v) { return std::max(2, static_cast<int>(std::lround(v / 2.0)) * 2); }

// The last frame shown at or before `time_s` (frame times from the stream start).
int64_t frame_at(const detail::VideoDecoder& decoder, double time_s) {
  int64_t lo = 0, hi = decoder.num_frames() - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (decoder.frame_time(mid) <= time_s + 1e-6) lo = mid; else hi = mid - 1;
  }
  return std::max<int64_t>(0, lo);
}

// JPEG bytes of uint8 RGB [H, W, 3], scaled to out_w x out_h.
std::string encode_jpeg(const torch::Tensor& rgb, int out_w, int out_h) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  check(codec != nullptr, "serve: this FFmpeg has no MJPEG encoder");
  struct Ctx {
    AVCodecContext* c = nullptr;
    AVFrame* f = nullptr;
    AVPacket* p = nullptr;
    SwsContext* s = nullptr;
    ~Ctx() { sws_freeContext(s); av_packet_free(&p); av_frame_free(&f); avcodec_free_context(&c); }
  } x;
  x.c = avcodec_alloc_context3(codec);
  x.f = av_frame_alloc();
  x.p = av_packet_alloc();
  check(x.c && x.f && x.p, "serve: out of memory encoding a thumbnail");
  x.c->width = out_w;
  x.c->height = out_h;
  x.c->pix_fmt = AV_PIX_FMT_YUVJ420P;
  x.c->time_base = {1, 25};
  x.c->flags |= AV_CODEC_FLAG_QSCALE;
  x.c->global_quality = FF_QP2LAMBDA * 4;
  int ret = avcodec_open2(x.c, codec, nullptr);
  if (ret < 0) fail("serve: cannot open the MJPEG encoder: ", av_error(ret));
  x.f->format = x.c->pix_fmt;
  x.f->width = out_w;
  x.f->height = out_h;
  x.f->quality = x.c->global_quality;
  ret = av_frame_get_buffer(x.f, 0);
  if (ret < 0) fail("serve: thumbnail frame buffer: ", av_error(ret));
  const int h = static_cast<int>(rgb.size(0)), w = static_cast<int>(rgb.size(1));
  x.s = sws_getContext(w, h, AV_PIX_FMT_RGB24, out_w, out_h, AV_PIX_FMT_YUVJ420P, SWS_AREA | SWS_ACCURATE_RND,
                       nullptr, nullptr, nullptr);
  check(x.s != nullptr, "serve: no RGB to YUV conversion for a thumbnail");
  const uint8_t* src[4] = {rgb.data_ptr<uint8_t>(), nullptr, nullptr, nullptr};
  int stride[4] = {w * 3, 0, 0, 0};
  sws_scale(x.s, src, stride, 0, h, x.f->data, x.f->linesize);
  x.f->pts = 0;
  ret = avcodec_send_frame(x.c, x.f);
  if (ret >= 0) ret = avcodec_send_frame(x.c, nullptr);
  if (ret < 0) fail("serve: JPEG encoding failed: ", av_error(ret));
  std::string out;
  while ((ret = avcodec_receive_packet(x.c, x.p)) >= 0) {
    out.append(reinterpret_cast<const char*>(x.p->data), static_cast<size_t>(x.p->size));
    av_packet_unref(x.p);
  }
  check(!out.empty(), "serve: the JPEG encoder produced nothing");
  return out;
}

}  // namespace

void write_thumbnail(const std::string& video, double time_s, int width, const std::string& out_path) {
  int64_t k = 0;
  {
    detail::VideoDecoder decoder(video, 1);
    check(decoder.num_frames() > 0, "serve: '", video, "' has no frames");
    k = frame_at(decoder, time_s);
  }
  torch::Tensor frame = read_frames_rgb(video, {k})[0].contiguous();  // [H, W, 3] upright
  const int h = static_cast<int>(frame.size(0)), w = static_cast<int>(frame.size(1));
  const int out_w = even(std::min(width, w));
  const int out_h = even(static_cast<double>(h) * out_w / w);
  const std::string bytes = encode_jpeg(frame, out_w, out_h);
  write_file_atomically(out_path, bytes);
}

void write_preview(const std::string& video, double start_s, double end_s, int height, double max_s,
                   const std::string& out_path) {
  detail::VideoDecoder decoder(video, 0);
  const int64_t n = decoder.num_frames();
  check(n > 0, "serve: '", video, "' has no frames");
  // Frames shown in [start_s, end_s): from the one showing at start_s.
  const int64_t k0 = frame_at(decoder, start_s);
  int64_t k1 = k0 + 1;
  while (k1 < n && decoder.frame_time(k1) < end_s - 1e-6) ++k1;
  const double fps = decoder.fps() > 0 ? decoder.fps() : 25.0;
  k1 = std::min<int64_t>(k1, k0 + std::max<int64_t>(1, static_cast<int64_t>(std::ceil(max_s * fps))));
  std::vector<int64_t> wanted;
  for (int64_t k = k0; k < k1; ++k) wanted.push_back(k);

  // Source orientation (before rotation); the player turns it by the display matrix.
  const int src_w = decoder.width(), src_h = decoder.height();
  const int out_h = even(std::min(height, src_h));
  const int out_w = even(static_cast<double>(src_w) * out_h / src_h);
  VideoWriterOptions options;
  options.fps = fps;
  options.codec = VideoCodec::H264;
  options.quality = 26;
  options.rotation = decoder.rotation();
  options.keyframe_interval = std::max(1, static_cast<int>(std::lround(fps)));
  options.start_s = decoder.frame_time(k0);
  {
    // VideoWriter writes atomically (a temporary file renamed by close(),
    // removed if it never gets there); the container follows out_path.
    VideoWriter writer(out_path, out_w, out_h, options);
    check(writer.encoder_name() != "mpeg4", "serve: this FFmpeg has no H.264 encoder for browser previews");
    struct Sws {
      SwsContext* p = nullptr;
      ~Sws() { sws_freeContext(p); }
    } sws;
    decoder.decode(wanted, 16, [&](int64_t, const AVFrame* frame) {
      auto format = static_cast<AVPixelFormat>(frame->format);
      sws.p = sws_getCachedContext(sws.p, frame->width, frame->height, format, out_w, out_h, AV_PIX_FMT_RGB24,
                                   SWS_BILINEAR, nullptr, nullptr, nullptr);
      check(sws.p != nullptr, "serve: cannot convert the frames of '", video, "' to RGB");
      auto rgb = torch::empty({out_h, out_w, 3}, torch::kUInt8);  // [h, w, 3]
      uint8_t* dst[4] = {rgb.data_ptr<uint8_t>(), nullptr, nullptr, nullptr};
      int dst_stride[4] = {out_w * 3, 0, 0, 0};
      sws_scale(sws.p, frame->data, frame->linesize, 0, frame->height, dst, dst_stride);
      writer.write(rgb);
    });
    writer.close();
  }
}

bool browser_playable(const std::string& video) {
  AVFormatContext* format = nullptr;
  if (avformat_open_input(&format, video.c_str(), nullptr, nullptr) < 0) return false;
  std::unique_ptr<AVFormatContext, void (*)(AVFormatContext*)> guard(format, [](AVFormatContext* f) {
    avformat_close_input(&f);
  });
  const std::string container = format->iformat->name;
  const bool mp4 = container.find("mp4") != std::string::npos;
  const bool webm = container.find("webm") != std::string::npos && video.size() > 5 &&
                    video.compare(video.size() - 5, 5, ".webm") == 0;
  if (!mp4 && !webm) return false;
  bool any = false;
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVCodecParameters* par = format->streams[i]->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_VIDEO) continue;
    if (format->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC) continue;
    any = true;
    const AVCodecID id = par->codec_id;
    const bool ok = mp4 ? (id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_VP9 || id == AV_CODEC_ID_AV1)
                        : (id == AV_CODEC_ID_VP8 || id == AV_CODEC_ID_VP9 || id == AV_CODEC_ID_AV1);
    if (!ok) return false;
  }
  return any;
}

}  // namespace videoprism::serve
