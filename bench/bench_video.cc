// Video preprocessing benchmarks: a 16 x 288 x 288 clip from the demo video,
// and from a long video named by $VIDEOPRISM_BENCH_LONG_VIDEO (e.g. a 10-minute
// 1080p H.264 file generated with the ffmpeg tool; skipped when unset).
// Counters: frames/s of output and the process's peak RSS in MiB.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <string>

#include "videoprism/media/video_reader.h"

namespace {

#ifdef VP_SHARED_DIR
const std::string kSharedDir = VP_SHARED_DIR;
#else
const std::string kSharedDir = "../shared";
#endif

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

void run_clip(benchmark::State& state, const std::string& path) {
  videoprism::ClipOptions options;  // 16 frames, 288 x 288, Lanczos, stretch
  try {
    // Validate once before timing.
    auto clips = videoprism::read_clips(path, options);
    const auto& clip = clips.at(0);
    if (clip.frames.sizes() != torch::IntArrayRef({16, 288, 288, 3}) ||
        clip.frame_paddings.sum().item<float>() != 0.0f) {
      state.SkipWithError("unexpected clip shape or padding");
      return;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    auto clips = videoprism::read_clips(path, options);
    benchmark::DoNotOptimize(clips[0].frames.data_ptr<float>());
  }
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 16, benchmark::Counter::kIsRate);
  state.counters["peak_rss_mib"] = peak_rss_mib();
}

void BM_ReadClipDemoVideo(benchmark::State& state) {
  run_clip(state, kSharedDir + "/assets/water_bottle_drumming.mp4");
}
BENCHMARK(BM_ReadClipDemoVideo)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadClipLongVideo(benchmark::State& state) {
  const char* path = std::getenv("VIDEOPRISM_BENCH_LONG_VIDEO");
  if (path == nullptr) {
    state.SkipWithError("set VIDEOPRISM_BENCH_LONG_VIDEO to a long video file");
    return;
  }
  run_clip(state, path);
}
BENCHMARK(BM_ReadClipLongVideo)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
