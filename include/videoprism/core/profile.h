// Where the time goes: named regions over a model's forward, timed while a
// profile::Session is alive on the calling thread.
//
//   profile::Session session(device);
//   model.forward(inputs, run);
//   for (const auto& r : session.stats()) ...  // "spatial/ffn1": calls, seconds, FLOPs, bytes
//
// Regions nest; a region's name is the path of the regions open around it
// ("spatial/attend") and its time is exclusive: time spent in an inner region
// is not counted again in the outer one, so the regions' seconds sum to the
// session's wall time (time outside every region is reported as "(outside)").
// On a CUDA device every region boundary synchronizes the device, so a region
// owns the kernels it launched; that serializes host and device, and a
// profiled forward is slower than a plain one (bench --breakdown reports both).
// Without a session a region costs one thread-local load.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace videoprism::profile {

struct RegionStats {
  std::string name;    // path of nested region names, "/"-separated
  int64_t calls = 0;   // times the region was entered
  double seconds = 0;  // exclusive wall time
  double flops = 0;    // floating-point operations the region declared
  double bytes = 0;    // memory traffic the region declared (reads + writes)
};

class Session {
 public:
  // One session per thread at a time; a second throws videoprism::Error.
  explicit Session(const torch::Device& device);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Regions in first-entered order, then "(outside)"; charges the time up to now.
  std::vector<RegionStats> stats();
  // Forgets every region and restarts the clock (e.g. after a warm-up run).
  void reset();
  // Wall seconds since construction or the last reset().
  double elapsed() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// Times the enclosing scope as `name` (a string literal) in the current
// session, if any. `flops` and `bytes` are added to the region's totals.
class Region {
 public:
  explicit Region(const char* name, double flops = 0, double bytes = 0);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

 private:
  Session::State* state_;  // null: no session on this thread
};

// Whether a session is alive on this thread (to skip computing FLOPs / bytes).
bool active();

// Waits for the device's queued work (a no-op on the CPU).
void synchronize(const torch::Device& device);

// FLOPs of an [m, k] x [k, n] matmul; bytes of `elements` values of `dtype`.
inline double matmul_flops(int64_t m, int64_t n, int64_t k) { return 2.0 * double(m) * double(n) * double(k); }
inline double tensor_bytes(int64_t elements, torch::ScalarType dtype) {
  return double(elements) * double(c10::elementSize(dtype));
}

}  // namespace videoprism::profile
