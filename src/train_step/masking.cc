// Tube and BEVT-style block masks; per-sample permutations.
#include "train_step/masking.h"
#include "train_step/splitmix.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "videoprism/core/error.h"

namespace videoprism::train {
namespace {

uint64_t mix(uint64_t x) { return splitmix64(x); }

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * (double(rng() >> 11) * (1.0 / 9007199254740992.0));
}

// One BEiT-style block mask with exactly `count` masked cells: [gh*gw], 1 = masked.
std::vector<uint8_t> block_mask_2d(int64_t gh, int64_t gw, int64_t count, int64_t min_block, std::mt19937_64& rng) {
  const int64_t n = gh * gw;
  std::vector<uint8_t> mask(n, 0);
  int64_t masked = 0;
  for (int attempt = 0; attempt < 100 && masked < count; ++attempt) {
    const double area = uniform(rng, double(std::min(min_block, count)), double(std::max(min_block, count - masked)));
    const double aspect = std::exp(uniform(rng, std::log(0.3), std::log(1 / 0.3)));
    const int64_t h = std::clamp<int64_t>(std::llround(std::sqrt(area * aspect)), 1, gh);
    const int64_t w = std::clamp<int64_t>(std::llround(std::sqrt(area / aspect)), 1, gw);
    const int64_t top = int64_t(rng() % uint64_t(gh - h + 1)), left = int64_t(rng() % uint64_t(gw - w + 1));
    for (int64_t y = top; y < top + h; ++y)
      for (int64_t x = left; x < left + w; ++x) {
        masked += mask[y * gw + x] == 0;
        mask[y * gw + x] = 1;
      }
  }
  // Exact count: unmask (or mask) random cells.
  while (masked != count) {
    const int64_t i = int64_t(rng() % uint64_t(n));
    if (masked > count && mask[i]) {
      mask[i] = 0;
      --masked;
    } else if (masked < count && !mask[i]) {
      mask[i] = 1;
      ++masked;
    }
  }
  return mask;
}

}  // namespace

MaskKind parse_mask_kind(const std::string& name) {
  if (name == "tube") return MaskKind::kTube;
  if (name == "block") return MaskKind::kBlock;
  fail("mask kind: expected tube or block, got '", name, "'");
}

std::string to_string(MaskKind kind) { return kind == MaskKind::kTube ? "tube" : "block"; }

uint64_t stateless_seed(uint64_t seed, int64_t step, int micro, uint64_t purpose) {
  return mix(mix(seed ^ (0x57a9e2ULL + purpose)) ^ mix(uint64_t(step) * 1315423911ULL + uint64_t(micro)));
}

torch::Tensor sample_tube_keep(int64_t b, int64_t n, double ratio, uint64_t seed) {
  const int64_t k = std::max<int64_t>(1, std::llround(double(n) * (1.0 - ratio)));
  torch::Tensor keep = torch::empty({b, k}, torch::kLong);  // [B, K]
  auto out = keep.accessor<int64_t, 2>();
  std::mt19937_64 rng(seed);
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < n; ++j) perm[j] = j;
    for (int64_t j = n; j > 1; --j) std::swap(perm[j - 1], perm[rng() % uint64_t(j)]);
    std::sort(perm.begin(), perm.begin() + k);
    for (int64_t j = 0; j < k; ++j) out[i][j] = perm[j];
  }
  return keep;
}

torch::Tensor tube_token_mask(const torch::Tensor& keep, int64_t t, int64_t n) {
  const int64_t b = keep.size(0);
  torch::Tensor spatial = torch::ones({b, n}, torch::kFloat32);
  spatial.scatter_(1, keep.to(torch::kLong), 0.0);                             // [B, N]
  return spatial.unsqueeze(1).expand({b, t, n}).reshape({b, t * n}).clone();  // [B, T*N]
}

torch::Tensor sample_block_mask(int64_t b, int64_t t, int64_t gh, int64_t gw, double ratio, uint64_t seed,
                                int64_t min_block) {
  const int64_t n = gh * gw;
  const int64_t count = std::clamp<int64_t>(std::llround(double(n) * ratio), 0, n - 1);
  torch::Tensor mask = torch::zeros({b, t, n}, torch::kFloat32);
  auto out = mask.accessor<float, 3>();
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<uint8_t> inside = block_mask_2d(gh, gw, count, min_block, rng);
    const std::vector<uint8_t> outside = block_mask_2d(gh, gw, count, min_block, rng);
    const int64_t span = std::clamp<int64_t>(std::llround(double(t) * uniform(rng, 0.5, 0.75)), 1, t);
    const int64_t start = int64_t(rng() % uint64_t(t - span + 1));
    for (int64_t f = 0; f < t; ++f) {
      const auto& m = (f >= start && f < start + span) ? inside : outside;
      for (int64_t j = 0; j < n; ++j) out[i][f][j] = float(m[j]);
    }
  }
  return mask;
}

torch::Tensor sample_permutations(int64_t b, int64_t length, uint64_t seed) {
  torch::Tensor perm = torch::empty({b, length}, torch::kLong);
  auto out = perm.accessor<int64_t, 2>();
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < length; ++j) out[i][j] = j;
    for (int64_t j = length; j > 1; --j) std::swap(out[i][j - 1], out[i][int64_t(rng() % uint64_t(j))]);
  }
  return perm;
}

torch::Tensor shuffle_tokens(const torch::Tensor& x, const torch::Tensor& perm) {
  check(perm.dim() == 2 && perm.size(0) == x.size(0) && perm.size(1) == x.size(1), "shuffle_tokens: perm ",
        perm.sizes(), " does not match tokens ", x.sizes());
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = perm.size(0);
  shape[1] = perm.size(1);
  torch::Tensor index = perm.to(x.device()).view(shape).expand(x.sizes());
  return x.gather(1, index);
}

torch::Tensor unshuffle_tokens(const torch::Tensor& y, const torch::Tensor& perm) {
  std::vector<int64_t> shape(y.dim(), 1);
  shape[0] = perm.size(0);
  shape[1] = perm.size(1);
  torch::Tensor index = perm.to(y.device()).view(shape).expand(y.sizes());
  return torch::zeros_like(y).scatter(1, index, y);
}

}  // namespace videoprism::train
