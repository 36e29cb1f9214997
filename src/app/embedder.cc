// VideoEmbedder: a decode thread feeds a bounded queue of decoded files; the
// calling thread cuts the queued clips into batches of `batch` clips (windows
// of different files mix), runs the model and hands finished files back in
// input order. Decoded frames are dropped as soon as their batch has run, so
// memory is bounded by the queue, not by the video's length or window count.
#include "videoprism/apps/embedder.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"
#include "videoprism/core/limits.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/npz.h"
#include "videoprism/media/tokenizer.h"

namespace videoprism {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A decoded file (or the reason it could not be decoded).
struct Decoded {
  size_t index = 0;
  std::string path;
  VideoInfo info;
  std::vector<Clip> clips;
  std::string error;
};

// Single-producer / single-consumer queue bounded by the number of queued clips
// (always admits one file, so a file with more windows than the bound passes).
class DecodeQueue {
 public:
  explicit DecodeQueue(int64_t max_clips) : max_clips_(max_clips) {}

  // false when the consumer has gone away.
  bool push(Decoded item) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t n = static_cast<int64_t>(item.clips.size());
    not_full_.wait(lock, [&] { return cancelled_ || items_.empty() || queued_clips_ + n <= max_clips_; });
    if (cancelled_) return false;
    queued_clips_ += n;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  // false when the producer is done and the queue is empty.
  bool pop(Decoded& item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    item = std::move(items_.front());
    items_.pop_front();
    queued_clips_ -= static_cast<int64_t>(item.clips.size());
    not_full_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Decoded> items_;
  int64_t queued_clips_ = 0, max_clips_;
  bool closed_ = false, cancelled_ = false;
};

}  // namespace

// A file whose windows are in flight.
struct FileState {
  VideoEmbedding result;
  int remaining = 0;
  std::vector<torch::Tensor> embeddings, frame_embeddings, tokens;  // [K] rows
};

struct PendingClip {
  FileState* owner = nullptr;
  int window = 0;
  Clip clip;
};

VideoEmbedder::VideoEmbedder(Model& model, RunOptions run, EmbedOptions options)
    : model_(model), run_(run), options_(std::move(options)) {
  check_range("embed: clips per forward (--batch)", options_.batch, 1, kMaxBatch);
  check_range("embed: windows (--windows)", options_.clip.windows, 1, kMaxWindows);
  check_range("embed: frames per clip (--frames)", options_.clip.num_frames, 1, kMaxClipFrames);
  check_range("embed: frame size (--size)", options_.clip.size, 1, kMaxClipSize);
  if (options_.frame_embeddings)
    check(model_.config().kind == ModelKind::kVideoClip, "embed: frame embeddings need a video-text model, not a ",
          to_string(model_.config().kind));
  run_.frame_embeddings = options_.frame_embeddings;
}

namespace {

// Runs one batch and appends each clip's rows to its owner.
void forward_batch(Model& model, const RunOptions& run, const EmbedOptions& options,
                   std::vector<PendingClip>& batch, EmbedStats& stats) {
  if (batch.empty()) return;
  std::vector<torch::Tensor> frames, paddings;
  for (auto& p : batch) {
    frames.push_back(p.clip.frames);        // [T, S, S, 3]
    paddings.push_back(p.clip.frame_paddings);  // [T]
    p.clip.frames = torch::Tensor();        // the stacked copy is the only one left
  }
  TensorMap inputs{{"inputs", torch::stack(frames)}, {"frame_paddings", torch::stack(paddings)}};
  frames.clear();
  const double start = now_s();
  TensorMap out = model.forward(inputs, run);
  stats.model_s += now_s() - start;
  stats.batches += 1;
  stats.clips += static_cast<int64_t>(batch.size());

  torch::Tensor embeddings = clip_embeddings(model.config().kind, out);  // [B, D]
  // [B, T*N, D]
  torch::Tensor tokens = out.at(model.config().kind == ModelKind::kEncoder ? "embeddings" : "spatiotemporal_features");
  for (size_t i = 0; i < batch.size(); ++i) {
    FileState* owner = batch[i].owner;
    const int k = batch[i].window;
    owner->embeddings[k] = embeddings[i].clone();
    if (options.tokens) owner->tokens[k] = tokens[i].clone();
    if (options.frame_embeddings) owner->frame_embeddings[k] = out.at("frame_embeddings")[i].clone();
    owner->remaining -= 1;
  }
  batch.clear();
}

}  // namespace

torch::Tensor clip_embeddings(ModelKind kind, const TensorMap& out) {
  auto normalized = [](const torch::Tensor& x) { return x / (x.pow(2).sum(-1, true) + 1e-12).sqrt(); };
  switch (kind) {
    case ModelKind::kVideoClip:
      return out.at("video_embeddings");  // [B, D], normalized by the model
    case ModelKind::kEncoder:
      return normalized(out.at("embeddings").mean(1));  // [B, T*N, D] -> [B, D]
    case ModelKind::kVideoClassifier:
      return normalized(out.at("global_embeddings"));  // [B, D]
  }
  fail("clip_embeddings: unknown model kind");
}

EmbedStats VideoEmbedder::run(const std::vector<std::string>& paths, const OnVideo& on_video,
                              const OnError& on_error) {
  EmbedStats stats;
  const double start = now_s();
  const int64_t bound = options_.prefetch_clips > 0 ? options_.prefetch_clips : 2 * options_.batch;
  DecodeQueue queue(bound);
  const ClipOptions clip_options = options_.clip;
  std::thread producer([&queue, &paths, clip_options] {
    for (size_t i = 0; i < paths.size(); ++i) {
      Decoded item;
      item.index = i;
      item.path = paths[i];
      try {
        item.info = probe_video(paths[i]);
        item.clips = read_clips(paths[i], clip_options);
      } catch (const std::exception& e) {
        item.clips.clear();
        item.error = e.what();
        auto nl = item.error.find('\n');
        if (nl != std::string::npos) item.error.resize(nl);
      }
      if (!queue.push(std::move(item))) break;
    }
    queue.close();
  });
  struct Joiner {
    DecodeQueue& queue;
    std::thread& thread;
    ~Joiner() {
      queue.cancel();
      if (thread.joinable()) thread.join();
    }
  } joiner{queue, producer};

  // Files finish in input order: a file is handed out when it and all before it are done.
  std::deque<std::unique_ptr<FileState>> in_flight;
  std::vector<PendingClip> pending;
  auto hand_out_finished = [&] {
    while (!in_flight.empty() && in_flight.front()->remaining == 0) {
      FileState& f = *in_flight.front();
      f.result.embeddings = torch::stack(f.embeddings);  // [K, D]
      if (options_.tokens) f.result.tokens = torch::stack(f.tokens);
      if (options_.frame_embeddings) f.result.frame_embeddings = torch::stack(f.frame_embeddings);
      // A NaN or infinite embedding (damaged weights, a model that diverged)
      // is never handed out to be stored or ranked: the file is reported.
      if (!torch::isfinite(f.result.embeddings).all().item<bool>()) {
        stats.failed += 1;
        on_error(f.result.index, f.result.path,
                 "the model gave a non-finite (NaN or infinite) embedding; not stored (are the checkpoint's "
                 "weights finite?)");
      } else {
        stats.files += 1;
        on_video(f.result);
      }
      in_flight.pop_front();
    }
  };

  for (;;) {
    Decoded item;
    const double wait_start = now_s();
    const bool got = queue.pop(item);
    stats.wait_decode_s += now_s() - wait_start;
    if (!got) break;
    if (!item.error.empty()) {
      stats.failed += 1;
      // Earlier files still in flight keep input order for results; errors report now.
      on_error(item.index, item.path, item.error);
      continue;
    }
    auto state = std::make_unique<FileState>();
    const int K = static_cast<int>(item.clips.size());
    state->result.index = item.index;
    state->result.path = item.path;
    state->result.info = item.info;
    state->remaining = K;
    state->embeddings.resize(K);
    state->tokens.resize(K);
    state->frame_embeddings.resize(K);
    for (int k = 0; k < K; ++k) {
      state->result.windows.emplace_back(item.clips[k].start_s, item.clips[k].end_s);
      pending.push_back({state.get(), k, std::move(item.clips[k])});
      if (static_cast<int>(pending.size()) == options_.batch) {
        forward_batch(model_, run_, options_, pending, stats);
      }
    }
    in_flight.push_back(std::move(state));
    hand_out_finished();
  }
  forward_batch(model_, run_, options_, pending, stats);
  hand_out_finished();
  stats.wall_s = now_s() - start;
  return stats;
}

VideoEmbedding VideoEmbedder::embed(const std::string& path) {
  VideoEmbedding result;
  std::string error;
  run({path}, [&](const VideoEmbedding& v) { result = v; },
      [&](size_t, const std::string&, const std::string& message) { error = message; });
  check(error.empty(), error);
  return result;
}

torch::Tensor encode_texts(Model& model, const Tokenizer& tokenizer, const std::vector<std::string>& texts,
                           const RunOptions& run, int batch, int max_length) {
  check(model.config().kind == ModelKind::kVideoClip, "text embeddings need a video-text model, not a ",
        to_string(model.config().kind));
  check(tokenizer.vocab_size() <= model.config().vocabulary_size, "tokenizer '", tokenizer.path(), "' has ",
        tokenizer.vocab_size(), " pieces, more than the model's vocabulary of ", model.config().vocabulary_size);
  if (texts.empty()) return torch::zeros({0, model.config().encoder.model_dim});
  std::vector<torch::Tensor> parts;
  for (size_t begin = 0; begin < texts.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(texts.size(), begin + static_cast<size_t>(batch));
    TokenizedBatch tokens = tokenizer.tokenize({texts.begin() + begin, texts.begin() + end}, max_length);
    TensorMap out = model.forward({{"text_token_ids", tokens.ids}, {"text_paddings", tokens.paddings}}, run);
    parts.push_back(out.at("text_embeddings"));  // [b, D]
  }
  torch::Tensor all = torch::cat(parts);  // [N, D]
  check(torch::isfinite(all).all().item<bool>(),
        "text embeddings: the model gave non-finite (NaN or infinite) values; are the checkpoint's weights finite?");
  return all;
}

namespace {

torch::Tensor utf8_lines(const std::vector<std::string>& lines) {
  std::string joined;
  for (size_t i = 0; i < lines.size(); ++i) joined += (i ? "\n" : "") + lines[i];
  torch::Tensor bytes = torch::empty({static_cast<int64_t>(joined.size())}, torch::kUInt8);
  std::copy(joined.begin(), joined.end(), bytes.data_ptr<uint8_t>());
  return bytes;
}

nlohmann::json to_json_list(const torch::Tensor& vector) {
  torch::Tensor v = vector.contiguous();
  const float* p = v.data_ptr<float>();
  return std::vector<float>(p, p + v.numel());
}

}  // namespace

void save_embeddings(const std::string& path, const std::vector<VideoEmbedding>& videos,
                     const std::vector<std::string>& texts, const torch::Tensor& text_embeddings) {
  auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".npz")) {
    std::vector<std::pair<std::string, torch::Tensor>> arrays;
    std::vector<std::string> names;
    if (!videos.empty()) {
      std::vector<torch::Tensor> emb, times, frames, tokens;
      for (const auto& v : videos) {
        names.push_back(v.path);
        emb.push_back(v.embeddings);
        torch::Tensor t = torch::empty({static_cast<int64_t>(v.windows.size()), 2}, torch::kFloat64);
        for (size_t k = 0; k < v.windows.size(); ++k) {
          t[k][0] = v.windows[k].first;
          t[k][1] = v.windows[k].second;
        }
        times.push_back(t);
        if (v.frame_embeddings.defined()) frames.push_back(v.frame_embeddings);
        if (v.tokens.defined()) tokens.push_back(v.tokens);
      }
      arrays.emplace_back("video_embeddings", torch::stack(emb));  // [N, K, D]
      arrays.emplace_back("window_times", torch::stack(times));    // [N, K, 2]
      if (!frames.empty()) arrays.emplace_back("frame_embeddings", torch::stack(frames));  // [N, K, T, D]
      if (!tokens.empty()) arrays.emplace_back("tokens", torch::stack(tokens));            // [N, K, T*N', D]
      arrays.emplace_back("paths_utf8", utf8_lines(names));
    }
    if (!texts.empty()) {
      arrays.emplace_back("text_embeddings", text_embeddings);  // [M, D]
      arrays.emplace_back("texts_utf8", utf8_lines(texts));
    }
    save_npz(path, arrays);
    return;
  }
  check(ends_with(".jsonl") || ends_with(".json"), "embed: --out '", path, "': expected a .npz or .jsonl file");
  // Formatted whole before anything is written; invalid UTF-8 in a path is
  // replaced (with the exact bytes in path_hex), never a reason to drop results.
  std::string text;
  for (const auto& v : videos) {
    nlohmann::json line{{"duration_s", v.info.duration_s}};
    put_path(line, "path", v.path);
    for (size_t k = 0; k < v.windows.size(); ++k) {
      nlohmann::json w{{"start_s", v.windows[k].first}, {"end_s", v.windows[k].second},
                       {"embedding", to_json_list(v.embeddings[k])}};
      if (v.frame_embeddings.defined()) {
        for (int64_t t = 0; t < v.frame_embeddings.size(1); ++t)
          w["frame_embeddings"].push_back(to_json_list(v.frame_embeddings[k][t]));
      }
      if (v.tokens.defined()) w["tokens_shape"] = v.tokens[k].sizes().vec();
      line["windows"].push_back(w);
    }
    text += dump_json(line) + "\n";
  }
  for (size_t i = 0; i < texts.size(); ++i)
    text += dump_json(nlohmann::json{{"text", texts[i]}, {"embedding", to_json_list(text_embeddings[i])}}) + "\n";
  write_file_atomically(path, text);
}

}  // namespace videoprism
