#include "videoprism/core/profile.h"

#include <chrono>
#include <unordered_map>

#include "videoprism/core/error.h"

namespace videoprism::profile {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void synchronize(const torch::Device& device) {
  if (!device.is_cuda()) return;
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  torch::cuda::synchronize();
#else
  torch::zeros({1}, device).cpu();  // a device-to-host copy waits for the queue
#endif
}

struct Session::State {
  torch::Device device;
  double start = 0;     // clock origin (construction or reset)
  double boundary = 0;  // time of the last region boundary
  std::vector<RegionStats> regions;
  std::unordered_map<std::string, size_t> index;  // name -> regions[]
  std::vector<size_t> open;                       // stack of open regions
  double outside = 0;                             // time with no region open

  explicit State(const torch::Device& d) : device(d) {}

  // Charges the time since the last boundary to the innermost open region.
  void charge() {
    synchronize(device);
    const double now = now_seconds();
    if (open.empty()) {
      outside += now - boundary;
    } else {
      regions[open.back()].seconds += now - boundary;
    }
    boundary = now;
  }

  void enter(const char* name, double flops, double bytes) {
    charge();
    std::string path = open.empty() ? std::string(name) : regions[open.back()].name + "/" + name;
    auto it = index.find(path);
    if (it == index.end()) {
      it = index.emplace(path, regions.size()).first;
      regions.push_back(RegionStats{path});
    }
    RegionStats& r = regions[it->second];
    r.calls += 1;
    r.flops += flops;
    r.bytes += bytes;
    open.push_back(it->second);
  }

  void leave() {
    charge();
    open.pop_back();
  }
};

namespace {
thread_local Session::State* t_state = nullptr;
}  // namespace

Session::Session(const torch::Device& device) {
  check(t_state == nullptr, "profile::Session: a session is already open on this thread");
  state_ = std::make_unique<State>(device);
  reset();
  t_state = state_.get();
}

Session::~Session() {
  if (t_state == state_.get()) t_state = nullptr;
}

void Session::reset() {
  check(state_->open.empty(), "profile::Session::reset: ", state_->open.size(), " regions are still open");
  synchronize(state_->device);
  state_->regions.clear();
  state_->index.clear();
  state_->outside = 0;
  state_->start = state_->boundary = now_seconds();
}

double Session::elapsed() const { return now_seconds() - state_->start; }

std::vector<RegionStats> Session::stats() {
  state_->charge();
  std::vector<RegionStats> out = state_->regions;
  RegionStats outside{"(outside)"};
  outside.seconds = state_->outside;
  out.push_back(outside);
  return out;
}

Region::Region(const char* name, double flops, double bytes) : state_(t_state) {
  if (state_ != nullptr) state_->enter(name, flops, bytes);
}

Region::~Region() {
  // A region outlived by its session (not expected) has nothing to close. A
  // device error while synchronizing surfaces at the next operation instead.
  if (state_ == nullptr || t_state != state_ || state_->open.empty()) return;
  try {
    state_->leave();
  } catch (...) {
    state_->open.pop_back();
  }
}

bool active() { return t_state != nullptr; }

}  // namespace videoprism::profile
