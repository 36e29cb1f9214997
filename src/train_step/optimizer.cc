#include "train_step/optimizer.h"

#include <cmath>
#include <map>

#include "videoprism/core/error.h"

namespace videoprism::train {

bool takes_weight_decay(const std::string& key) {
  const std::string leaf = key.substr(key.rfind('/') + 1);
  return leaf == "kernel" || leaf == "w";
}

AdamW::AdamW(std::vector<NamedParameter> params, AdamWOptions options)
    : params_(std::move(params)), options_(options) {
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p.tensor, torch::kFloat32));
    v_.push_back(torch::zeros_like(p.tensor, torch::kFloat32));
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_) {
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(b1, double(steps_));
  const double correction2 = 1.0 - std::pow(b2, double(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].tensor;
    const torch::Tensor& g = p.grad();
    if (!g.defined()) continue;
    // Decoupled decay (Loshchilov & Hutter): p -= lr * wd * p.
    if (params_[i].decay && options_.weight_decay > 0) p.mul_(1.0 - lr * options_.weight_decay);
    m_[i].mul_(b1).add_(g, 1.0 - b1);
    v_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    torch::Tensor denom = (v_[i] / correction2).sqrt_().add_(options_.eps);
    p.addcdiv_(m_[i], denom, -lr / correction1);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state_arrays() const {
  std::vector<std::pair<std::string, torch::Tensor>> arrays;
  for (size_t i = 0; i < params_.size(); ++i) arrays.emplace_back("adam/m/" + params_[i].name, m_[i]);
  for (size_t i = 0; i < params_.size(); ++i) arrays.emplace_back("adam/v/" + params_[i].name, v_[i]);
  arrays.emplace_back("adam/steps", torch::tensor({steps_}, torch::kLong));
  return arrays;
}

void AdamW::load_state(const std::vector<std::pair<std::string, torch::Tensor>>& arrays) {
  std::map<std::string, torch::Tensor> by_name(arrays.begin(), arrays.end());
  auto take = [&](const std::string& key, const torch::Tensor& like) {
    auto it = by_name.find(key);
    check(it != by_name.end(), "optimizer state: missing ", key);
    check(it->second.sizes() == like.sizes(), "optimizer state: ", key, " expected ", shape_str(like.sizes()),
          ", got ", shape_str(it->second.sizes()));
    // Onto the parameter's device (a checkpoint is read on the CPU); always a copy.
    return it->second.to(like.device(), torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
  };
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    m_[i] = take("adam/m/" + params_[i].name, params_[i].tensor);
    v_[i] = take("adam/v/" + params_[i].name, params_[i].tensor);
  }
  auto it = by_name.find("adam/steps");
  check(it != by_name.end(), "optimizer state: missing adam/steps");
  steps_ = it->second.to(torch::kLong).reshape({-1})[0].item<int64_t>();
}

double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  // Accumulated on the gradients' device (one synchronization, not one per
  // parameter), in float64, in parameter order: the CPU result is unchanged.
  torch::Tensor sum;
  for (const auto& p : params) {
    if (!p.tensor.grad().defined()) continue;
    torch::Tensor part = p.tensor.grad().to(torch::kFloat64).pow(2).sum();
    sum = sum.defined() ? sum + part : part;
  }
  const double norm = sum.defined() ? std::sqrt(sum.item<double>()) : 0.0;
  if (max_norm > 0 && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    for (const auto& p : params) {
      if (p.tensor.grad().defined()) p.tensor.grad().mul_(factor);
    }
  }
  return norm;
}

}  // namespace videoprism::train
