#include "train/data_loader.h"
#include "train_step/splitmix.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "videoprism/core/error.h"
#include "videoprism/core/log.h"
#include "videoprism/media/video_reader.h"

namespace videoprism::train {

nlohmann::json to_json(const DataPosition& position) {
  return {{"epoch", position.epoch}, {"cursor", position.cursor}, {"step", position.step}};
}

DataPosition data_position_from_json(const nlohmann::json& j) {
  DataPosition position;
  position.epoch = j.at("epoch").get<std::vector<int64_t>>();
  position.cursor = j.at("cursor").get<std::vector<int64_t>>();
  position.step = j.at("step").get<int64_t>();
  check(position.epoch.size() == position.cursor.size(), "data position: epoch and cursor lengths differ");
  return position;
}

namespace {

uint64_t mix(uint64_t x) { return splitmix64(x); }
uint64_t key(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x5eed;
  for (uint64_t p : parts) h = mix(h ^ mix(p));
  return h;
}

class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 0; i < std::max(1, threads); ++i) workers_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    ready_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_ && jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      // Jobs report their errors through their futures; anything that still
      // escapes must not take the process down from a worker thread.
      try {
        job();
      } catch (const std::exception& e) {
        log_warning(std::string("data: a worker job failed: ") + e.what());
      } catch (...) {
        log_warning("data: a worker job failed");
      }
    }
  }
  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> jobs_;
  std::mutex mutex_;
  std::condition_variable ready_;
  bool stop_ = false;
};

struct Dataset {
  std::string path;
  std::vector<ManifestItem> items;  // usable ones
  std::vector<VideoInfo> infos;
};

struct DecodedClip {
  torch::Tensor frames;    // [T, S, S, 3]
  torch::Tensor paddings;  // [T]
};

// One clip of T frames at S x S. Scale jitter decodes at S' = S * (1 + u * jitter)
// and takes a random S x S window; flip mirrors the frames horizontally.
DecodedClip decode_clip(const ManifestItem& item, const VideoInfo& info, const DataOptions& options,
                        uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int T = options.num_frames, S = options.image_size;
  const int scaled = options.scale_jitter > 0 ? int(std::lround(S * (1.0 + uniform(rng) * options.scale_jitter))) : S;
  DecodedClip out;
  if (item.start_s < 0 && item.end_s < 0) {
    ClipOptions clip_options;
    clip_options.num_frames = T;
    clip_options.size = scaled;
    clip_options.crop = CropMode::Stretch;
    clip_options.threads = 1;
    Clip clip = read_clips(item.video, clip_options).at(0);
    out.frames = clip.frames;          // [T, S', S', 3]
    out.paddings = clip.frame_paddings;  // [T]
  } else {
    const int64_t n = info.num_frames;
    const double fps = info.fps > 0 ? info.fps : double(n) / std::max(info.duration_s, 1e-6);
    // Clamped as doubles before the cast: a huge time or fps never reaches an
    // out-of-range float-to-integer conversion.
    auto frame_at = [&](double frame, int64_t lo, int64_t hi) {
      if (std::isnan(frame)) return lo;
      return static_cast<int64_t>(std::clamp(frame, static_cast<double>(lo), static_cast<double>(hi)));
    };
    int64_t begin = item.start_s < 0 ? 0 : frame_at(std::floor(item.start_s * fps), 0, n - 1);
    int64_t end = item.end_s < 0 ? n : frame_at(std::ceil(item.end_s * fps), begin + 1, n);
    std::vector<int64_t> slots = sample_frame_indices(begin, end, T), wanted;
    for (int64_t index : slots)
      if (index >= 0) wanted.push_back(index);
    torch::Tensor rgb = read_frames_rgb(item.video, wanted);  // uint8 [M, H, W, 3]
    torch::Tensor resized = torch::nn::functional::interpolate(
        rgb.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0),
        torch::nn::functional::InterpolateFuncOptions()
            .size(std::vector<int64_t>{scaled, scaled})
            .mode(torch::kBilinear)
            .align_corners(false));
    resized = resized.clamp_(0.0, 1.0).permute({0, 2, 3, 1});  // [M, S', S', 3]
    out.frames = torch::zeros({T, scaled, scaled, 3}, torch::kFloat32);
    out.paddings = torch::zeros({T}, torch::kFloat32);
    int64_t m = 0;
    for (int t = 0; t < T; ++t) {
      if (slots[t] < 0)
        out.paddings[t] = 1.0f;
      else
        out.frames[t].copy_(resized[m++]);
    }
  }
  if (scaled > S) {
    const int64_t y = int64_t(rng() % uint64_t(scaled - S + 1)), x = int64_t(rng() % uint64_t(scaled - S + 1));
    out.frames = out.frames.slice(1, y, y + S).slice(2, x, x + S).contiguous();
  }
  if (options.flip && uniform(rng) < 0.5) out.frames = out.frames.flip({2}).contiguous();
  return out;
}

}  // namespace

struct VideoTextLoader::Impl {
  std::vector<Dataset> datasets;
  DataOptions options;
  int64_t global_batch = 0;
  int rank = 0, world = 1, micro = 1;
  DataPosition planned;  // position after the batches submitted so far
  std::vector<int64_t> perm_epoch;
  std::vector<std::vector<int64_t>> perms;
  std::atomic<int64_t> skipped{0};
  std::deque<std::future<VideoTextBatch>> queue;
  std::unique_ptr<ThreadPool> pool;

  const std::vector<int64_t>& permutation(int d, int64_t epoch) {
    if (perm_epoch[d] != epoch || perms[d].empty()) {
      std::vector<int64_t>& perm = perms[d];
      perm.resize(datasets[d].items.size());
      for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(i);
      std::mt19937_64 rng(key({options.seed, uint64_t(d), uint64_t(epoch), 1}));
      // Fisher-Yates with our own draws: the same order on every platform.
      for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
      perm_epoch[d] = epoch;
    }
    return perms[d];
  }

  void submit_next() {
    const int num = int(datasets.size());
    const int d = int(planned.step % num);
    const int64_t n = int64_t(datasets[d].items.size());
    if (planned.cursor[d] + global_batch > n) {
      ++planned.epoch[d];
      planned.cursor[d] = 0;
    }
    const int64_t epoch = planned.epoch[d];
    const std::vector<int64_t>& perm = permutation(d, epoch);
    const int64_t start = planned.cursor[d];
    const int64_t per_micro = global_batch / micro, local = per_micro / world;
    auto batch = std::make_shared<VideoTextBatch>();
    batch->step = planned.step;
    batch->dataset = d;
    for (int m = 0; m < micro; ++m)
      for (int64_t j = 0; j < local; ++j) batch->items.push_back(perm[start + m * per_micro + rank * local + j]);
    planned.cursor[d] += global_batch;
    ++planned.step;
    batch->position_after = planned;

    const int64_t b = int64_t(batch->items.size());
    batch->captions.resize(b);
    auto clips = std::make_shared<std::vector<DecodedClip>>(b);
    auto remaining = std::make_shared<std::atomic<int64_t>>(b);
    auto failed = std::make_shared<std::atomic<bool>>(false);
    auto error = std::make_shared<std::string>();
    auto promise = std::make_shared<std::promise<VideoTextBatch>>();
    queue.push_back(promise->get_future());
    for (int64_t i = 0; i < b; ++i) {
      pool->submit([this, batch, clips, remaining, failed, error, promise, i, d, epoch, n] {
        const Dataset& data = datasets[d];
        int64_t item = batch->items[i];
        // A clip that fails to decode now is logged, counted and replaced by
        // the next items of the dataset (this rank only; batch sizes stay equal).
        for (int64_t attempt = 0; attempt < n; ++attempt) {
          const int64_t candidate = (item + attempt) % n;
          const ManifestItem& entry = data.items[candidate];
          try {
            (*clips)[i] = decode_clip(entry, data.infos[candidate], options,
                                      key({options.seed, uint64_t(d), uint64_t(epoch), uint64_t(candidate), 2}));
            batch->items[i] = candidate;
            batch->captions[i] = entry.caption;
            break;
          } catch (const std::exception& e) {
            ++skipped;
            log_warning("data: skipping " + entry.video + " (" + data.path + ":" + std::to_string(entry.line) +
                        "): " + e.what());
            if (attempt + 1 == n) {
              *error = "data: no clip of " + data.path + " decodes";
              *failed = true;
            }
          }
        }
        if (--*remaining == 0) {
          if (*failed) {
            promise->set_exception(std::make_exception_ptr(Error(*error)));
            return;
          }
          // Assembling the batch can throw too (clips of different shapes,
          // memory): the error goes to the caller through the future, never
          // out of the worker thread (which would std::terminate).
          VideoTextBatch out = *batch;
          try {
            std::vector<torch::Tensor> frames, paddings;
            for (auto& c : *clips) {
              frames.push_back(c.frames);
              paddings.push_back(c.paddings);
            }
            out.video = torch::stack(frames);          // [B, T, S, S, 3]
            out.frame_paddings = torch::stack(paddings);  // [B, T]
          } catch (const std::exception& e) {
            std::string what = e.what();
            what = what.substr(0, what.find('\n'));
            promise->set_exception(
                std::make_exception_ptr(Error("data: cannot assemble a batch of " + data.path + ": " + what)));
            return;
          }
          if (options.pin_memory) {
            try {
              out.video = out.video.pin_memory();
              out.frame_paddings = out.frame_paddings.pin_memory();
            } catch (const std::exception& e) {
              promise->set_exception(
                  std::make_exception_ptr(Error(std::string("data: cannot pin a batch: ") + e.what())));
              return;
            }
          }
          promise->set_value(std::move(out));
        }
      });
    }
  }
};

VideoTextLoader::VideoTextLoader(std::vector<Manifest> manifests, DataOptions options, int64_t global_batch, int rank,
                                 int world, int micro_batches, const DataPosition* start)
    : impl_(std::make_unique<Impl>()) {
  check(!manifests.empty(), "data: no manifests given");
  check(global_batch > 0 && micro_batches > 0 && global_batch % (int64_t(micro_batches) * world) == 0,
        "data: global batch ", global_batch, " must be a multiple of grad_accum (", micro_batches,
        ") x processes (", world, ")");
  Impl& s = *impl_;
  s.options = options;
  s.global_batch = global_batch;
  s.rank = rank;
  s.world = world;
  s.micro = micro_batches;
  s.pool = std::make_unique<ThreadPool>(options.workers);

  // Probe every video (in parallel): missing or undecodable ones are skipped.
  for (auto& manifest : manifests) {
    const int64_t n = int64_t(manifest.items.size());
    std::vector<VideoInfo> infos(n);
    std::vector<std::string> errors(n);
    std::vector<std::future<void>> done;
    for (int64_t i = 0; i < n; ++i) {
      auto task = std::make_shared<std::packaged_task<void()>>([&, i] {
        try {
          infos[i] = probe_video(manifest.items[i].video);
          if (infos[i].num_frames <= 0) errors[i] = "no frames";
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
      done.push_back(task->get_future());
      s.pool->submit([task] { (*task)(); });
    }
    for (auto& f : done) f.get();
    Dataset data;
    data.path = manifest.path;
    for (int64_t i = 0; i < n; ++i) {
      if (!errors[i].empty()) {
        ++s.skipped;
        log_warning("data: skipping " + manifest.items[i].video + " (" + manifest.path + ":" +
                    std::to_string(manifest.items[i].line) + "): " + errors[i]);
        continue;
      }
      data.items.push_back(manifest.items[i]);
      data.infos.push_back(infos[i]);
    }
    check(!data.items.empty(), "data: manifest ", manifest.path, " has no usable items (", n, " skipped)");
    check(int64_t(data.items.size()) >= global_batch, "data: manifest ", manifest.path, " has ", data.items.size(),
          " usable items, fewer than the global batch ", global_batch);
    s.datasets.push_back(std::move(data));
  }
  if (s.skipped > 0) log_warning("data: " + std::to_string(s.skipped) + " item(s) skipped");

  const size_t num = s.datasets.size();
  s.perm_epoch.assign(num, -1);
  s.perms.resize(num);
  if (start != nullptr) {
    check(start->epoch.size() == num, "data: the saved position has ", start->epoch.size(),
          " datasets, the run has ", num);
    s.planned = *start;
  } else {
    s.planned.epoch.assign(num, 0);
    s.planned.cursor.assign(num, 0);
  }
  for (int i = 0; i < std::max(1, options.prefetch); ++i) s.submit_next();
}

VideoTextLoader::~VideoTextLoader() {
  // Let in-flight jobs finish before the pool and datasets go away.
  if (impl_) {
    for (auto& f : impl_->queue) f.wait();
    impl_->pool.reset();
  }
}

VideoTextBatch VideoTextLoader::next() {
  Impl& s = *impl_;
  std::future<VideoTextBatch> front = std::move(s.queue.front());
  s.queue.pop_front();
  s.submit_next();
  return front.get();
}

int64_t VideoTextLoader::skipped() const { return impl_->skipped; }
int64_t VideoTextLoader::num_usable(int dataset) const { return int64_t(impl_->datasets.at(dataset).items.size()); }

}  // namespace videoprism::train
