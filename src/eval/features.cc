// Labelled manifests, evaluation controls and cached frozen features.
#include "videoprism/apps/features.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"

namespace videoprism::eval {

std::vector<LabelledItem> read_labelled_manifest(const std::string& path, const std::string& task) {
  std::ifstream in(path);
  check(in.good(), "manifest: cannot open ", path);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::vector<LabelledItem> items;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      fail("manifest: ", path, ":", number, ": not JSON: ", e.what());
    }
    check(j.is_object() && j.contains("video") && j["video"].is_string(), "manifest: ", path, ":", number,
          ": expected an object with a string \"video\"");
    LabelledItem item;
    std::filesystem::path video = j["video"].get<std::string>();
    item.video = video.is_absolute() ? video.string() : (folder / video).string();
    if (j.contains("caption") && j["caption"].is_string()) item.caption = j["caption"];
    if (!task.empty()) {
      check(j.contains(task) && j[task].is_number_integer(), "manifest: ", path, ":", number,
            ": expected an integer field \"", task, "\"");
      item.label = j[task].get<int64_t>();
      check(item.label >= 0, "manifest: ", path, ":", number, ": negative label");
    }
    items.push_back(std::move(item));
  }
  check(!items.empty(), "manifest: ", path, " has no items");
  return items;
}

FrameControl parse_frame_control(const std::string& name) {
  if (name == "none") return FrameControl::kNone;
  if (name == "shuffled") return FrameControl::kShuffled;
  if (name == "single-frame") return FrameControl::kSingleFrame;
  fail("control: expected none, shuffled or single-frame, got '", name, "'");
}

std::string to_string(FrameControl control) {
  switch (control) {
    case FrameControl::kShuffled: return "shuffled";
    case FrameControl::kSingleFrame: return "single-frame";
    default: return "none";
  }
}

torch::Tensor apply_frame_control(const torch::Tensor& frames, FrameControl control, uint64_t seed) {
  const int64_t T = frames.size(0);
  if (control == FrameControl::kNone || T < 2) return frames;
  if (control == FrameControl::kSingleFrame) return frames[T / 2].unsqueeze(0).expand_as(frames).contiguous();
  std::vector<int64_t> order(T);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  return frames.index_select(0, torch::tensor(order, torch::kInt64));
}

torch::Tensor extract_features(Model& model, const std::vector<std::string>& videos, const std::string& key,
                               const FeatureOptions& options) {
  check(!videos.empty(), "features: no videos");
  std::string output = key;
  if (key == "tokens") output = model.config().kind == ModelKind::kEncoder ? "embeddings" : "spatiotemporal_features";
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  const int batch = std::max(1, options.batch);
  for (size_t begin = 0; begin < videos.size(); begin += batch) {
    const size_t end = std::min(videos.size(), begin + batch);
    std::vector<torch::Tensor> clips, paddings;
    for (size_t i = begin; i < end; ++i) {
      ClipOptions clip = options.clip;
      clip.windows = 1;
      std::vector<Clip> read = read_clips(videos[i], clip);
      check(!read.empty(), "features: no clip from ", videos[i]);
      clips.push_back(apply_frame_control(read[0].frames, options.control, options.control_seed + i));
      paddings.push_back(read[0].frame_paddings);
    }
    TensorMap out = model.forward({{"inputs", torch::stack(clips)}, {"frame_paddings", torch::stack(paddings)}},
                                  options.run);
    auto it = out.find(output);
    check(it != out.end(), "features: the ", to_string(model.config().kind), " model has no output '", output, "'");
    parts.push_back(it->second.to(torch::kFloat32).cpu());
  }
  return torch::cat(parts, 0);
}

void write_json_atomic(const std::string& path, const std::string& text) { write_file_atomically(path, text + "\n"); }

}  // namespace videoprism::eval
