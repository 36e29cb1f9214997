#include "cuda/cuda_graph.h"

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "videoprism/core/error.h"

namespace videoprism::cuda {

struct GraphRunner::Impl {
  at::cuda::CUDAGraph graph;
  torch::Tensor input;  // the captured input buffer
  TensorMap outputs;    // the captured outputs
};

GraphRunner::GraphRunner(std::function<TensorMap(const torch::Tensor&)> fn, const torch::Tensor& example, int warmup)
    : impl_(std::make_unique<Impl>()) {
  check(example.is_cuda(), "GraphRunner: expected a CUDA input, got one on ", example.device());
  torch::NoGradGuard no_grad;
  c10::cuda::CUDAGuard device_guard(example.device());
  impl_->input = example.clone();
  // Warm up and capture on a side stream (capture is not allowed on the
  // legacy default stream); cuBLAS handles and workspaces are made here.
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  at::cuda::CUDAEvent ready;
  ready.record(c10::cuda::getCurrentCUDAStream());
  ready.block(side);
  {
    c10::cuda::CUDAStreamGuard stream_guard(side);
    for (int i = 0; i < warmup; ++i) fn(impl_->input);
    impl_->graph.capture_begin();
    impl_->outputs = fn(impl_->input);
    impl_->graph.capture_end();
  }
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(c10::cuda::getCurrentCUDAStream());
}

GraphRunner::~GraphRunner() = default;

const TensorMap& GraphRunner::run(const torch::Tensor& input) {
  check(input.sizes() == impl_->input.sizes(), "GraphRunner: the graph was captured for input ",
        impl_->input.sizes(), ", got ", input.sizes());
  impl_->input.copy_(input, /*non_blocking=*/true);
  impl_->graph.replay();
  return impl_->outputs;
}

}  // namespace videoprism::cuda
