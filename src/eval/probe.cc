// MAP and linear probes on frozen features. See include/videoprism/eval/probe.h.
#include "videoprism/apps/probe.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <torch/torch.h>

#include "layers/atten_token_pooling.h"
#include "layers/layer_norm.h"
#include "videoprism/core/error.h"

namespace videoprism::eval {
namespace {

class MapProbeImpl : public torch::nn::Module {
 public:
  MapProbeImpl(int64_t dim, int64_t heads, int64_t classes, double dropout)
      : token_norm(register_module("token_norm", LayerNorm(dim))),
        pooling(register_module("pooling", AttenTokenPoolingLayer(dim, dim, heads, 1))),
        drop(register_module("dropout", torch::nn::Dropout(dropout))),
        classifier(register_module("classifier", torch::nn::Linear(dim, classes))) {}
  // tokens [B, L, D] -> logits [B, C]
  torch::Tensor forward(const torch::Tensor& tokens) {
    torch::Tensor pooled = pooling->forward(token_norm->forward(tokens)).select(1, 0);  // [B, D]
    return classifier->forward(drop->forward(pooled));
  }
  LayerNorm token_norm;
  AttenTokenPoolingLayer pooling;
  torch::nn::Dropout drop;
  torch::nn::Linear classifier;
};
TORCH_MODULE(MapProbe);

// Initializes the layers the project builds uninitialized, with the same
// rules as Model::init_random (LN scales are offsets from 1).
void init_map_probe(MapProbe& probe) {
  torch::NoGradGuard no_grad;
  for (auto& item : probe->named_parameters()) {
    const std::string& key = item.key();
    torch::Tensor p = item.value();
    const std::string leaf = key.substr(key.rfind('.') + 1);
    if (key.rfind("classifier.", 0) == 0) continue;  // torch's Linear init
    const auto s = p.sizes();
    if (leaf == "bias" || leaf == "b" || leaf == "scale" || leaf == "per_dim_scale") {
      p.zero_();
    } else if (leaf == "pooling_attention_query") {
      p.normal_(0.0, 1.0 / std::sqrt(double(s.back())));
    } else if (leaf == "w") {
      const bool output = key.find(".post.") != std::string::npos;
      const int64_t d = s[s.size() - 3], nh = s[s.size() - 2] * s[s.size() - 1];
      p.normal_(0.0, 1.0 / std::sqrt(double(output ? nh : d)));
    } else {
      p.normal_(0.0, 1.0 / std::sqrt(double(s.size() >= 2 ? s[s.size() - 2] : s.back())));
    }
  }
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return logits.argmax(1).eq(labels).to(torch::kFloat64).mean().item<double>();
}

}  // namespace

ProbeKind parse_probe_kind(const std::string& name) {
  if (name == "map") return ProbeKind::kMap;
  if (name == "linear") return ProbeKind::kLinear;
  fail("probe: --kind expected map or linear, got '", name, "'");
}

void mean_std(const std::vector<double>& values, double* mean, double* std) {
  double m = 0, v = 0;
  for (double x : values) m += x;
  m /= std::max<size_t>(1, values.size());
  for (double x : values) v += (x - m) * (x - m);
  *mean = m;
  *std = values.size() > 1 ? std::sqrt(v / (values.size() - 1)) : 0.0;
}

ProbeResult run_probe(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                      const torch::Tensor& test_features, const torch::Tensor& test_labels, const ProbeOptions& options) {
  check(train_features.dim() == 3 && test_features.dim() == 3, "probe: features must be [N, L, D], got ",
        train_features.sizes(), " and ", test_features.sizes());
  check(train_features.size(2) == test_features.size(2), "probe: train and test feature widths differ");
  check(train_labels.size(0) == train_features.size(0) && test_labels.size(0) == test_features.size(0),
        "probe: one label per video expected");
  check(!options.seeds.empty(), "probe: no seeds");
  const int64_t D = train_features.size(2), N = train_features.size(0);
  ProbeResult result;
  result.num_classes = options.num_classes > 0
                           ? options.num_classes
                           : 1 + static_cast<int>(std::max(train_labels.max().item<int64_t>(), test_labels.max().item<int64_t>()));
  const int64_t C = result.num_classes;
  result.chance = torch::bincount(test_labels, {}, C).max().item<double>() / test_labels.size(0);

  // Linear probe inputs: mean-pooled tokens, standardized by the train set.
  torch::Tensor train_x = train_features, test_x = test_features;
  if (options.kind == ProbeKind::kLinear) {
    train_x = train_features.mean(1);  // [N, D]
    test_x = test_features.mean(1);
    const torch::Tensor mu = train_x.mean(0), sigma = train_x.std(0).clamp_min(1e-6);
    train_x = (train_x - mu) / sigma;
    test_x = (test_x - mu) / sigma;
  }
  const int64_t batch = std::max<int64_t>(1, std::min<int64_t>(options.batch, N));
  const int64_t steps_per_epoch = (N + batch - 1) / batch;
  const int64_t total = std::max<int64_t>(1, steps_per_epoch * options.epochs);
  const int64_t warmup = std::max<int64_t>(1, static_cast<int64_t>(std::lround(options.warmup_fraction * total)));
  result.steps = total;

  for (uint64_t seed : options.seeds) {
    torch::manual_seed(seed);
    std::shared_ptr<torch::nn::Module> module;
    std::function<torch::Tensor(const torch::Tensor&)> forward;
    if (options.kind == ProbeKind::kMap) {
      check(D % options.num_heads == 0, "probe: --heads ", options.num_heads, " must divide the width ", D);
      MapProbe probe(D, options.num_heads, C, options.dropout);
      init_map_probe(probe);
      module = probe.ptr();
      forward = [probe](const torch::Tensor& x) mutable { return probe->forward(x); };
    } else {
      torch::nn::Linear probe(D, C);
      module = probe.ptr();
      forward = [probe](const torch::Tensor& x) mutable { return probe->forward(x); };
    }
    torch::optim::AdamW optimizer(module->parameters(), torch::optim::AdamWOptions(options.lr)
                                                             .betas({0.9, 0.999})
                                                             .weight_decay(options.weight_decay));
    const auto loss_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(options.label_smoothing);
    module->train();
    int64_t step = 0;
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      const torch::Tensor order = torch::randperm(N, torch::kInt64);
      for (int64_t begin = 0; begin < N; begin += batch, ++step) {
        const double lr = step < warmup ? options.lr * (step + 1) / warmup
                                        : options.lr * 0.5 * (1 + std::cos(M_PI * (step - warmup) / std::max<int64_t>(1, total - warmup)));
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        const torch::Tensor index = order.slice(0, begin, std::min(N, begin + batch));
        const torch::Tensor loss = torch::nn::functional::cross_entropy(forward(train_x.index_select(0, index)),
                                                                        train_labels.index_select(0, index), loss_options);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
      }
    }
    module->eval();
    torch::NoGradGuard no_grad;
    result.train_accuracy.push_back(accuracy(forward(train_x), train_labels));
    result.test_accuracy.push_back(accuracy(forward(test_x), test_labels));
  }
  mean_std(result.test_accuracy, &result.mean, &result.std);
  return result;
}

}  // namespace videoprism::eval
