#include "serve/search_service.h"

#include <filesystem>

#include <torch/torch.h>

#include "videoprism/core/cpu_features.h"
#include "videoprism/apps/embedder.h"
#include "videoprism/core/error.h"
#include "videoprism/apps/indexer.h"

namespace videoprism::serve {
namespace {

RunOptions make_run(const ServeOptions& options) {
  RunOptions run;
  run.device = parse_device(options.device);
  run.dtype = resolve_dtype(options.dtype, run.device);  // "auto" as search resolves it
  run.threads = options.model_threads;
  run.frame_embeddings = false;
  apply_run_options(run);
  return run;
}

std::vector<float> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();  // [D]
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

SearchService::SearchService(const IndexSnapshot& snapshot, const ServeOptions& options)
    : run_(make_run(options)),
      model_(load_index_model(snapshot.dir(), snapshot.meta(), options.checkpoint)),
      text_cache_(static_cast<size_t>(std::max(0, options.text_cache_size))) {
  model_.to(run_.device);
  if (run_.dtype == torch::kQInt8) model_.prepare_for_inference(run_);  // quantized once, here
  const std::string tokenizer = snapshot.meta("tokenizer", options.tokenizer);
  if (!tokenizer.empty()) tokenizer_.emplace(tokenizer);
  frames_ = std::stoi(snapshot.meta("frames", "16"));
  size_ = std::stoi(snapshot.meta("size", "288"));
}

QueryVector SearchService::text(const std::string& query) {
  check(tokenizer_.has_value(), "search: the index records no tokenizer; restart the server with --tokenizer");
  if (auto hit = text_cache_.get(query)) return {std::move(*hit), true};
  std::vector<float> v;
  {
    std::lock_guard<std::mutex> lock(model_mutex_);
    torch::NoGradGuard no_grad;
    v = to_vector(encode_texts(model_, *tokenizer_, {query}, run_)[0]);  // [D]
  }
  text_cache_.put(query, v);
  return {std::move(v), false};
}

QueryVector SearchService::video(const std::string& path) {
  EmbedOptions embed;
  embed.clip.num_frames = frames_;
  embed.clip.size = size_;
  embed.clip.windows = 1;
  std::lock_guard<std::mutex> lock(model_mutex_);
  torch::NoGradGuard no_grad;
  VideoEmbedder embedder(model_, run_, embed);
  return {to_vector(embedder.embed(path).embeddings[0]), false};  // [D]
}

}  // namespace videoprism::serve
