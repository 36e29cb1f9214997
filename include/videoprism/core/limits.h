// Resource limits on user-supplied sizes, in one place (docs/limits.md lists
// them). Each bound stops a typo or a hostile value before it reaches an
// allocator, FFmpeg or a thread pool, with a one-line error naming the
// argument, the accepted range and the value that came.
#pragma once

#include <cstdint>
#include <string>

namespace videoprism {

constexpr int kMaxClipFrames = 1024;     // --frames: frames per clip (T)
constexpr int kMaxClipSize = 4096;       // --size: frame height and width in pixels (S)
constexpr int kMaxWindows = 4096;        // --windows: clips per video (K)
constexpr int kMaxBatch = 4096;          // --batch: clips per forward
constexpr int kMaxTextLength = 4096;     // --max-length: token ids per text
constexpr int kMaxIterations = 1000000;  // bench --iterations / --warmup

// Intra-op and decoder threads: at most max(256, 4 x the machine's cores).
int max_threads();

// Throws "<what>: expected <lo>..<hi>, got <value>" unless lo <= value <= hi.
void check_range(const std::string& what, int64_t value, int64_t lo, int64_t hi);

// Threads (0 = the library's default): 0..max_threads().
void check_threads(const std::string& what, int64_t threads);

// The largest decompressed .npz member (and .npy payload) a reader accepts,
// in bytes: VIDEOPRISM_NPZ_MAX_BYTES when set (a positive integer, optionally
// with a K, M, G or T suffix, powers of 1024), else 4 GiB (the largest member
// of any VideoPrism checkpoint, the giant's scanned FFN kernel, is 1.4 GB). A bad value of the
// variable is an error naming it.
uint64_t npz_max_member_bytes();

}  // namespace videoprism
