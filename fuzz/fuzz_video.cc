// Fuzz target: video containers through FFmpeg, as the library opens them:
// probe_video, then read_clips with small clips (4 frames of 32 x 32, two
// windows, one decoder thread, seeking on) so each input stays cheap. FFmpeg
// itself is not instrumented; the harness exercises our wrapper around it
// (container and stream checks, frame counting, seeking, rotation, scaling).
// Run with -timeout and -rss_limit_mb (scripts/sanitize.sh does).
#include <cstdint>

extern "C" {
#include <libavutil/log.h>
}

#include "fuzz_util.h"
#include "videoprism/media/video_reader.h"

using namespace videoprism;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_input("input.video", data, size);
  fuzz::expect_clean([&] { (void)probe_video(path); });
  fuzz::expect_clean([&] {
    ClipOptions options;
    options.num_frames = 4;
    options.size = 32;
    options.windows = 2;
    options.threads = 1;
    options.seek_gap = 2;
    options.crop = CropMode::Center;
    for (const Clip& clip : read_clips(path, options)) (void)clip.frames.sum().item<float>();
  });
  return 0;
}
