// Video decoding and clip sampling: exact frame selection on generated
// videos whose frames carry their own index, rotation, seeking, bad files, and
// the official demo clip against an independent ffmpeg decode.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <nlohmann/json.hpp>

#include "videoprism/core/error.h"
#include "videoprism/core/npz.h"
#include "videoprism/media/video_reader.h"
#include "videoprism/media/video_writer.h"

namespace {

using namespace videoprism;

const std::string kShared = VP_SHARED_DIR;
const std::string kDrumming = kShared + "/assets/water_bottle_drumming.mp4";

// A per-process scratch directory, removed at exit.
std::string& scratch_dir() {
  static std::string dir;
  return dir;
}

std::string temp_path(const std::string& name) {
  if (scratch_dir().empty()) {
    char tmpl[] = "/tmp/vp_test_video_XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    scratch_dir() = made;
    std::atexit([] { std::filesystem::remove_all(scratch_dir()); });
  }
  return scratch_dir() + "/" + name;
}

// Frame k: a 4x4 grid of cells, cell b lit (RGB 230,40,120) when bit b of k is
// set, black otherwise. Survives resizing and lossy YUV coding.
torch::Tensor pattern(int64_t k, int width, int height) {
  auto image = torch::zeros({height, width, 3}, torch::kUInt8);  // [H, W, 3]
  for (int b = 0; b < 16; ++b) {
    if (!((k >> b) & 1)) continue;
    int r = b / 4, c = b % 4;
    auto cell = image.slice(0, r * height / 4, (r + 1) * height / 4).slice(1, c * width / 4, (c + 1) * width / 4);
    cell.select(2, 0).fill_(230);
    cell.select(2, 1).fill_(40);
    cell.select(2, 2).fill_(120);
  }
  return image;
}

// Reads the index back from an upright frame, float [H, W, 3] in [0, 1] or uint8.
int64_t decode_pattern(const torch::Tensor& frame) {
  auto image = frame.to(torch::kFloat32);
  if (frame.scalar_type() == torch::kUInt8) image = image / 255.0f;
  const int64_t h = image.size(0), w = image.size(1);
  int64_t k = 0;
  for (int b = 0; b < 16; ++b) {
    int r = b / 4, c = b % 4;
    // Central half of the cell.
    auto cell = image.slice(0, r * h / 4 + h / 16, (r + 1) * h / 4 - h / 16)
                    .slice(1, c * w / 4 + w / 16, (c + 1) * w / 4 - w / 16);
    float red = cell.select(2, 0).mean().item<float>();
    float green = cell.select(2, 1).mean().item<float>();
    if (red > 0.45f) {
      EXPECT_LT(green, 0.35f) << "channel order: lit cell should be red-dominant";
      k |= int64_t{1} << b;
    }
  }
  return k;
}

// Writes frames 0..n-1 as patterns; `stored_rotation` turns each upright
// pattern counterclockwise so that a player applying the metadata sees it upright.
std::string make_video(const std::string& name, int64_t n, int width, int height, VideoWriterOptions options = {}) {
  const std::string path = temp_path(name);
  const bool swap = options.rotation % 180 != 0;
  VideoWriter writer(path, swap ? height : width, swap ? width : height, options);
  for (int64_t k = 0; k < n; ++k) {
    auto upright = pattern(k, width, height);
    // Undo the clockwise display rotation: turn counterclockwise.
    auto stored = torch::rot90(upright, options.rotation / 90, {0, 1}).contiguous();
    writer.write(stored);
  }
  writer.close();
  return path;
}

std::vector<int64_t> floor_indices(int64_t n, int T) {
  std::vector<int64_t> out;
  for (int i = 0; i < T; ++i) out.push_back(i * n / T);
  return out;
}

bool have_ffmpeg_cli() { return std::system("ffmpeg -version > /dev/null 2>&1") == 0; }

TEST(SampleFrameIndices, FloorRuleAndPadding) {
  EXPECT_EQ(sample_frame_indices(0, 100, 16), floor_indices(100, 16));
  EXPECT_EQ(sample_frame_indices(0, 16, 16), floor_indices(16, 16));
  EXPECT_EQ(sample_frame_indices(10, 15, 8), (std::vector<int64_t>{10, 11, 12, 13, 14, -1, -1, -1}));
  EXPECT_EQ(sample_frame_indices(20, 40, 4), (std::vector<int64_t>{20, 25, 30, 35}));
  EXPECT_THROW(sample_frame_indices(0, 10, 0), Error);
}

TEST(VideoReader, LosslessFFV1ExactFramesAndPixels) {
  VideoWriterOptions opts;
  opts.fps = 10;
  const std::string path = make_video("exact.mkv", 50, 64, 64, opts);
  VideoInfo info = probe_video(path);
  EXPECT_EQ(info.num_frames, 50);  // Matroska has no frame count: counted
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 64);
  EXPECT_EQ(info.codec, "ffv1");
  EXPECT_NEAR(info.fps, 10.0, 1e-6);
  EXPECT_NEAR(info.duration_s, 5.0, 1e-6);

  ClipOptions co;
  co.num_frames = 16;
  co.size = 64;  // no scaling: pixels must come back exactly
  auto clips = read_clips(path, co);
  ASSERT_EQ(clips.size(), 1u);
  const Clip& clip = clips[0];
  ASSERT_EQ(clip.frames.sizes(), (std::vector<int64_t>{16, 64, 64, 3}));
  EXPECT_EQ(clip.frame_indices, floor_indices(50, 16));
  EXPECT_EQ(clip.frame_paddings.sum().item<float>(), 0.0f);
  for (int t = 0; t < 16; ++t) {
    auto expected = pattern(clip.frame_indices[t], 64, 64).to(torch::kFloat32) / 255.0f;
    EXPECT_EQ((clip.frames[t] - expected).abs().max().item<float>(), 0.0f) << "slot " << t;
  }
  EXPECT_NEAR(clip.start_s, 0.0, 1e-9);
  EXPECT_NEAR(clip.end_s, 5.0, 1e-6);
}

// Containers without usable timestamps or frame counts: AVI (counted by
// decoding) and a raw H.264 elementary stream (no timestamps at all).
TEST(VideoReader, CountsFramesByDecodingWhenNeeded) {
  VideoWriterOptions h264;
  h264.codec = VideoCodec::H264;
  h264.keyframe_interval = 10;
  const std::vector<std::pair<std::string, VideoWriterOptions>> cases = {
      {"count.avi", VideoWriterOptions{}}, {"count.h264", h264}, {"count_h264.avi", h264}};
  for (const auto& [name, opts] : cases) {
    const std::string path = make_video(name, 37, 64, 64, opts);
    EXPECT_EQ(probe_video(path).num_frames, 37) << name;
    ClipOptions co;
    co.num_frames = 8;
    co.size = 64;
    auto clip = read_clips(path, co)[0];
    EXPECT_EQ(clip.frame_indices, floor_indices(37, 8)) << name;
    for (int t = 0; t < 8; ++t) EXPECT_EQ(decode_pattern(clip.frames[t]), clip.frame_indices[t]) << name;
  }
}

// Variable frame rate: frame k shown at k^2 / 24 s. Selection is by frame
// count (floor rule), window times come from the timestamps.
TEST(VideoReader, VariableFrameRateUsesTimestamps) {
  if (!have_ffmpeg_cli()) GTEST_SKIP() << "the ffmpeg tool is not installed";
  const std::string cfr = make_video("cfr.mkv", 40, 32, 32);
  const std::string vfr = temp_path("vfr.mkv");
  const std::string cmd = "ffmpeg -v error -y -i '" + cfr +
                          "' -vf \"setpts='N*N/24/TB'\" -fps_mode passthrough -c:v ffv1 '" + vfr + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_EQ(probe_video(vfr).num_frames, 40);
  ClipOptions co;
  co.num_frames = 5;
  co.size = 32;
  co.windows = 2;
  auto clips = read_clips(vfr, co);
  EXPECT_EQ(clips[0].frame_indices, (std::vector<int64_t>{0, 4, 8, 12, 16}));
  EXPECT_EQ(clips[1].frame_indices, (std::vector<int64_t>{20, 24, 28, 32, 36}));
  for (const auto& clip : clips)
    for (int t = 0; t < 5; ++t) EXPECT_EQ(decode_pattern(clip.frames[t]), clip.frame_indices[t]);
  EXPECT_NEAR(clips[0].start_s, 0.0, 1e-3);
  EXPECT_NEAR(clips[1].start_s, 400.0 / 24, 1e-3);  // Matroska stores milliseconds
  EXPECT_NEAR(clips[0].end_s, 400.0 / 24, 1e-3);
  EXPECT_NEAR(clips[1].end_s, 39.0 * 39 / 24 + (39.0 * 39 / 24) / 39, 1e-3);  // last + mean step
  // Forced seeking finds the same frames by timestamp.
  co.seek_gap = 0;
  auto sought = read_clips(vfr, co);
  EXPECT_TRUE(torch::equal(sought[1].frames, clips[1].frames));
}

TEST(VideoReader, ResizeFiltersAndCropModesKeepFrameIdentity) {
  const std::string path = make_video("wide.mkv", 40, 128, 64);  // 2:1
  for (auto filter : {ResizeFilter::Lanczos, ResizeFilter::Bilinear, ResizeFilter::Area}) {
    ClipOptions co;
    co.num_frames = 8;
    co.size = 32;
    co.filter = filter;
    auto clip = read_clips(path, co)[0];
    for (int t = 0; t < 8; ++t) EXPECT_EQ(decode_pattern(clip.frames[t]), clip.frame_indices[t]);
  }
  {  // pad: the image fills rows 8..24 of 32, black above and below
    ClipOptions co;
    co.num_frames = 4;
    co.size = 32;
    co.crop = CropMode::Pad;
    auto clip = read_clips(path, co)[0];
    EXPECT_EQ(clip.frames.slice(1, 0, 8).abs().max().item<float>(), 0.0f);
    EXPECT_EQ(clip.frames.slice(1, 24, 32).abs().max().item<float>(), 0.0f);
    for (int t = 0; t < 4; ++t)
      EXPECT_EQ(decode_pattern(clip.frames[t].slice(0, 8, 24)), clip.frame_indices[t]);
  }
  {  // center: 64x128 -> 32x64, crop columns 16..48 = cells columns 1 and 2 only
    ClipOptions co;
    co.num_frames = 4;
    co.size = 32;
    co.crop = CropMode::Center;
    auto clip = read_clips(path, co)[0];
    auto full = read_frames_rgb(path, clip.frame_indices);  // [4, 64, 128, 3]
    for (int t = 0; t < 4; ++t) {
      // Left half of the crop shows the frame's cell column 1, right half column 2.
      int64_t k = clip.frame_indices[t];
      for (int r = 0; r < 4; ++r) {
        float left = clip.frames[t][r * 8 + 4][8][0].item<float>();
        float right = clip.frames[t][r * 8 + 4][24][0].item<float>();
        EXPECT_EQ(left > 0.5f, bool((k >> (r * 4 + 1)) & 1)) << "t=" << t << " r=" << r;
        EXPECT_EQ(right > 0.5f, bool((k >> (r * 4 + 2)) & 1)) << "t=" << t << " r=" << r;
      }
      EXPECT_EQ(decode_pattern(full[t]), k);
    }
  }
}

TEST(VideoReader, ShorterThanClipIsPadded) {
  const std::string path = make_video("short.mkv", 5, 32, 32);
  ClipOptions co;
  co.num_frames = 8;
  co.size = 32;
  auto clip = read_clips(path, co)[0];
  EXPECT_EQ(clip.frame_indices, (std::vector<int64_t>{0, 1, 2, 3, 4, -1, -1, -1}));
  auto expected_pad = torch::tensor({0, 0, 0, 0, 0, 1, 1, 1}, torch::kFloat32);
  EXPECT_TRUE(torch::equal(clip.frame_paddings, expected_pad));
  for (int t = 0; t < 5; ++t) EXPECT_EQ(decode_pattern(clip.frames[t]), t);
  EXPECT_EQ(clip.frames.slice(0, 5, 8).abs().max().item<float>(), 0.0f);
}

TEST(VideoReader, WindowsSplitTheVideoIntoEqualSegments) {
  VideoWriterOptions opts;
  opts.fps = 20;
  const std::string path = make_video("windows.mkv", 61, 32, 32, opts);
  ClipOptions co;
  co.num_frames = 4;
  co.size = 32;
  co.windows = 3;
  auto clips = read_clips(path, co);
  ASSERT_EQ(clips.size(), 3u);
  // Segments [0,20), [20,40), [40,61).
  EXPECT_EQ(clips[0].frame_indices, (std::vector<int64_t>{0, 5, 10, 15}));
  EXPECT_EQ(clips[1].frame_indices, (std::vector<int64_t>{20, 25, 30, 35}));
  EXPECT_EQ(clips[2].frame_indices, (std::vector<int64_t>{40, 45, 50, 55}));
  const double starts[] = {0.0, 1.0, 2.0}, ends[] = {1.0, 2.0, 3.05};
  for (int w = 0; w < 3; ++w) {
    EXPECT_NEAR(clips[w].start_s, starts[w], 1e-6);
    EXPECT_NEAR(clips[w].end_s, ends[w], 1e-6);
    for (int t = 0; t < 4; ++t) EXPECT_EQ(decode_pattern(clips[w].frames[t]), clips[w].frame_indices[t]);
  }
  co.windows = 62;
  EXPECT_THROW(read_clips(path, co), Error);
}

// Inter-coded video (H.264 with B-frames in Matroska, GOP 12): the seeking
// path, forced for every frame, returns exactly what sequential decoding does.
TEST(VideoReader, SeekingMatchesSequentialDecoding) {
  // MPEG-4 part 2 has no B-frames: MP4 frames are indexed from the sample
  // table without reading packets (the fast path); H.264 has B-frames.
  const std::vector<std::pair<std::string, VideoCodec>> cases = {
      {"seek.mkv", VideoCodec::H264}, {"seek.mp4", VideoCodec::H264}, {"seek_mpeg4.mp4", VideoCodec::MPEG4}};
  for (const auto& [name, codec] : cases) {
    VideoWriterOptions opts;
    opts.codec = codec;
    opts.keyframe_interval = 12;
    opts.fps = 25;
    const std::string path = make_video(name, 240, 64, 64, opts);
    EXPECT_EQ(probe_video(path).num_frames, 240) << name;
    ClipOptions co;
    co.num_frames = 16;
    co.size = 64;
    co.seek_gap = -1;  // never seek
    auto sequential = read_clips(path, co)[0];
    co.seek_gap = 0;  // seek before every frame
    auto sought = read_clips(path, co)[0];
    co.seek_gap = 16;  // default heuristic
    auto heuristic = read_clips(path, co)[0];
    EXPECT_EQ(sequential.frame_indices, floor_indices(240, 16));
    EXPECT_TRUE(torch::equal(sequential.frames, sought.frames)) << name;
    EXPECT_TRUE(torch::equal(sequential.frames, heuristic.frames)) << name;
    for (int t = 0; t < 16; ++t) EXPECT_EQ(decode_pattern(sought.frames[t]), sought.frame_indices[t]) << name;
    // Out-of-order and repeated requests.
    auto frames = read_frames_rgb(path, {200, 3, 200, 119}, 0);
    EXPECT_EQ(decode_pattern(frames[0]), 200);
    EXPECT_EQ(decode_pattern(frames[1]), 3);
    EXPECT_EQ(decode_pattern(frames[2]), 200);
    EXPECT_EQ(decode_pattern(frames[3]), 119);
  }
}

TEST(VideoReader, HonorsRotationMetadata) {
  for (int rotation : {90, 180, 270}) {
    VideoWriterOptions opts;
    opts.codec = VideoCodec::H264;
    opts.rotation = rotation;
    // Upright 96x64 (landscape); stored portrait for 90/270.
    const std::string path = make_video("rot" + std::to_string(rotation) + ".mp4", 12, 96, 64, opts);
    VideoInfo info = probe_video(path);
    EXPECT_EQ(info.rotation, rotation);
    EXPECT_EQ(info.width, 96);
    EXPECT_EQ(info.height, 64);
    auto frames = read_frames_rgb(path, {0, 5, 11});
    ASSERT_EQ(frames.sizes(), (std::vector<int64_t>{3, 64, 96, 3}));
    EXPECT_EQ(decode_pattern(frames[1]), 5) << "rotation " << rotation;
    EXPECT_EQ(decode_pattern(frames[2]), 11) << "rotation " << rotation;
    ClipOptions co;
    co.num_frames = 4;
    co.size = 48;
    co.crop = CropMode::Pad;
    auto clip = read_clips(path, co)[0];
    for (int t = 0; t < 4; ++t)
      EXPECT_EQ(decode_pattern(clip.frames[t].slice(0, 8, 40)), clip.frame_indices[t]) << rotation;
  }
}

template <typename Fn>
void expect_error_naming(const std::string& path, Fn fn, const std::string& words) {
  try {
    fn();
    ADD_FAILURE() << "expected an error for " << path;
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(words), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(VideoReader, BadFilesGiveOneClearError) {
  const std::string missing = temp_path("missing.mp4");
  expect_error_naming(missing, [&] { probe_video(missing); }, "cannot open");

  const std::string garbage = temp_path("garbage.mp4");
  std::ofstream(garbage) << "this is not a video at all, just some text\n";
  expect_error_naming(garbage, [&] { read_clips(garbage); }, "cannot open");

  // Truncated: keep the first 40% of the demo clip.
  const std::string truncated = temp_path("truncated.mp4");
  {
    std::ifstream in(kDrumming, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1000u);
    std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() * 4 / 10);
  }
  try {
    read_clips(truncated);
    ADD_FAILURE() << "expected an error for the truncated file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(truncated), std::string::npos) << e.what();
  }

  // Zero frames: a valid container holding a video stream without frames.
  const std::string empty = temp_path("empty.mkv");
  { VideoWriter writer(empty, 32, 32); writer.close(); }
  expect_error_naming(empty, [&] { read_clips(empty); }, "'");
  VideoWriterOptions h264;
  h264.codec = VideoCodec::H264;
  const std::string empty_mp4 = temp_path("empty.mp4");
  { VideoWriter writer(empty_mp4, 32, 32, h264); writer.close(); }
  // The MP4 muxer drops a track without samples: nothing video is left.
  expect_error_naming(empty_mp4, [&] { read_clips(empty_mp4); }, "no video stream");

  if (have_ffmpeg_cli()) {
    const std::string audio = temp_path("audio.m4a");
    ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i sine=duration=0.5 -c:a aac " + audio).c_str()), 0);
    expect_error_naming(audio, [&] { probe_video(audio); }, "no video stream");
  }
  ClipOptions bad;
  bad.num_frames = 0;
  EXPECT_THROW(read_clips(kDrumming, bad), Error);
  EXPECT_THROW(parse_resize_filter("cubic"), Error);
  EXPECT_THROW(parse_crop_mode("zoom"), Error);
}

// An MPEG-TS file whose video stream uses a codec this FFmpeg cannot decode
// (AVS2 without libdavs2). Returns "" when that codec has a decoder here.
std::string make_ts(AVCodecID codec, const std::string& name) {
  const std::string path = temp_path(name);
  AVFormatContext* out = nullptr;
  if (avformat_alloc_output_context2(&out, nullptr, "mpegts", path.c_str()) < 0) return "";
  AVStream* st = avformat_new_stream(out, nullptr);
  st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
  st->codecpar->codec_id = codec;
  st->codecpar->width = 32;
  st->codecpar->height = 32;
  st->time_base = {1, 90000};
  bool ok = avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE) >= 0 && avformat_write_header(out, nullptr) >= 0;
  for (int i = 0; ok && i < 50; ++i) {
    AVPacket* pkt = av_packet_alloc();
    ok = av_new_packet(pkt, 1000) == 0;
    if (ok) {
      std::fill(pkt->data, pkt->data + 1000, static_cast<uint8_t>(i + 1));
      pkt->pts = pkt->dts = i * 3600;
      pkt->stream_index = 0;
      ok = av_interleaved_write_frame(out, pkt) >= 0;
    }
    av_packet_free(&pkt);
  }
  if (ok) av_write_trailer(out);
  avio_closep(&out->pb);
  avformat_free_context(out);
  return ok ? path : "";
}

std::string make_undecodable_video() {
  if (avcodec_find_decoder(AV_CODEC_ID_AVS2) != nullptr) return "";
  return make_ts(AV_CODEC_ID_AVS2, "avs2.ts");
}

TEST(VideoReader, UnsupportedCodecNamesCodecAndFile) {
  const std::string path = make_undecodable_video();
  if (path.empty()) GTEST_SKIP() << "this FFmpeg decodes AVS2; no undecodable codec at hand";
  expect_error_naming(path, [&] { probe_video(path); }, "unsupported codec");
}

// MPEG-2 stream whose packets are garbage: no frame decodes.
TEST(VideoReader, UndecodableStreamGivesOneError) {
  const std::string path = make_ts(AV_CODEC_ID_MPEG2VIDEO, "garbage_mpeg2.ts");
  ASSERT_FALSE(path.empty());
  expect_error_naming(path, [&] { read_clips(path); }, "video");
}

TEST(VideoReader, DemoClipProbe) {
  VideoInfo info = probe_video(kDrumming);
  EXPECT_EQ(info.num_frames, 100);
  EXPECT_EQ(info.width, 512);
  EXPECT_EQ(info.height, 512);
  EXPECT_EQ(info.rotation, 0);
  EXPECT_NEAR(info.fps, 12.0, 1e-6);
  EXPECT_NEAR(info.duration_s, 100.0 / 12.0, 1e-3);
  EXPECT_EQ(info.codec, "h264");
}

// Reads one frame with the ffmpeg tool: uint8 [size, size, 3] (scaled) or
// [512, 512, 3] when size == 0.
torch::Tensor ffmpeg_frame(const std::string& path, int64_t k, int size, const std::string& flags) {
  std::string filter = "select='eq(n\\," + std::to_string(k) + ")'";
  if (size > 0) filter += ",scale=" + std::to_string(size) + ":" + std::to_string(size) + ":flags=" + flags;
  std::string cmd = "ffmpeg -v error -i '" + path + "' -vf \"" + filter +
                    "\" -frames:v 1 -f rawvideo -pix_fmt rgb24 -";
  const int side = size > 0 ? size : 512;
  auto out = torch::empty({side, side, 3}, torch::kUInt8);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return torch::Tensor();
  size_t got = fread(out.data_ptr<uint8_t>(), 1, static_cast<size_t>(out.numel()), pipe.get());
  if (got != static_cast<size_t>(out.numel())) return torch::Tensor();
  return out;
}

TEST(VideoReader, DemoClipMatchesIndependentFfmpegDecode) {
  if (!have_ffmpeg_cli()) GTEST_SKIP() << "the ffmpeg tool is not installed";
  auto clip = read_clips(kDrumming)[0];  // 16 x 288 x 288, Lanczos, stretch
  ASSERT_EQ(clip.frames.sizes(), (std::vector<int64_t>{16, 288, 288, 3}));
  EXPECT_EQ(clip.frame_indices, floor_indices(100, 16));
  auto full = read_frames_rgb(kDrumming, clip.frame_indices);  // [16, 512, 512, 3]
  double worst_scaled = 0.0, worst_full = 0.0;
  for (int t = 0; t < 16; ++t) {
    const int64_t k = clip.frame_indices[t];
    auto expected = ffmpeg_frame(kDrumming, k, 288, "lanczos");
    ASSERT_TRUE(expected.defined()) << "ffmpeg failed for frame " << k;
    double diff = (clip.frames[t] - expected.to(torch::kFloat32) / 255.0f).abs().mean().item<double>();
    worst_scaled = std::max(worst_scaled, diff);
    EXPECT_LT(diff, 2.0 / 255.0) << "frame " << k;
    // A neighbouring frame must be clearly further away (the index is right).
    if (k + 1 < 100) {
      auto neighbour = ffmpeg_frame(kDrumming, k + 1, 288, "lanczos");
      double other = (clip.frames[t] - neighbour.to(torch::kFloat32) / 255.0f).abs().mean().item<double>();
      EXPECT_GT(other, diff) << "frame " << k;
    }
    auto expected_full = ffmpeg_frame(kDrumming, k, 0, "");
    ASSERT_TRUE(expected_full.defined());
    double diff_full =
        (full[t].to(torch::kFloat32) - expected_full.to(torch::kFloat32)).abs().mean().item<double>() / 255.0;
    worst_full = std::max(worst_full, diff_full);
  }
  std::printf("[ measure  ] demo clip vs ffmpeg: mean |diff| 288 lanczos max over frames %.5f (%.3f/255), "
              "full size %.5f (%.3f/255)\n",
              worst_scaled, worst_scaled * 255, worst_full, worst_full * 255);
  EXPECT_LT(worst_full, 1.0 / 255.0);
}

}  // namespace

namespace {

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  *status = pclose(pipe);
  return out;
}

TEST(FramesCli, WritesClipsAndSummary) {
  const std::string out = temp_path("cli_clip.npy");
  int status = -1;
  std::string stdout_text = run_capture(std::string(VP_CLI_PATH) + " frames '" + kDrumming +
                                            "' --frames 4 --size 64 --windows 2 --out '" + out + "'",
                                        &status);
  ASSERT_EQ(status, 0) << stdout_text;
  auto summary = nlohmann::json::parse(stdout_text);
  EXPECT_EQ(summary["shape"], nlohmann::json({2, 4, 64, 64, 3}));
  EXPECT_EQ(summary["video"]["num_frames"], 100);
  EXPECT_EQ(summary["clips"][1]["frame_indices"], nlohmann::json({50, 62, 75, 87}));
  auto saved = load_npy(out);
  ClipOptions co;
  co.num_frames = 4;
  co.size = 64;
  co.windows = 2;
  auto clips = read_clips(kDrumming, co);
  EXPECT_TRUE(torch::equal(saved, torch::stack({clips[0].frames, clips[1].frames})));

  run_capture(std::string(VP_CLI_PATH) + " frames /nonexistent.mp4 --out '" + out + "' 2>&1", &status);
  EXPECT_NE(status, 0);
}

}  // namespace
