#include "train/distributed.h"

#include <chrono>
#include <cstdlib>
#include <string>

#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#include "videoprism/core/error.h"

namespace videoprism::train {

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

Distributed::Distributed() = default;
Distributed::~Distributed() = default;
Distributed::Distributed(Distributed&&) noexcept = default;
Distributed& Distributed::operator=(Distributed&&) noexcept = default;

Distributed::Distributed(int rank, int world, const std::string& master_addr, int master_port)
    : rank_(rank), world_(world) {
  check(world >= 1 && rank >= 0 && rank < world, "distributed: RANK ", rank, " out of range for WORLD_SIZE ", world);
  check(master_port > 0 && master_port < 65536, "distributed: MASTER_PORT ", master_port, " out of range");
  if (world == 1) return;
  impl_ = std::make_unique<Impl>();
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(master_port);
  options.isServer = rank == 0;
  options.numWorkers = static_cast<std::size_t>(world);
  options.waitWorkers = true;
  options.timeout = std::chrono::seconds(300);
  impl_->store = c10::make_intrusive<c10d::TCPStore>(master_addr, options);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(600));
  // Bind Gloo's transport to the address ranks reach each other on.
  gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(master_addr));
  gloo_options->threads = 2;
  impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank, world, gloo_options);
}

Distributed Distributed::from_env() {
  const char* world = std::getenv("WORLD_SIZE");
  if (world == nullptr || std::string(world).empty() || std::atoi(world) <= 1) return Distributed();
  auto need = [](const char* name) {
    const char* value = std::getenv(name);
    check(value != nullptr && *value != '\0', "distributed: WORLD_SIZE > 1 needs ", name, " in the environment");
    return std::string(value);
  };
  return Distributed(std::stoi(need("RANK")), std::atoi(world), need("MASTER_ADDR"), std::stoi(need("MASTER_PORT")));
}

torch::Tensor Distributed::all_gather_with_local_grad(const torch::Tensor& local) {
  if (world_ == 1) return local;
  // Gloo here runs on host memory: a GPU tensor goes through the CPU.
  torch::Tensor input = local.detach().to(torch::kCPU).contiguous();
  std::vector<torch::Tensor> inputs{input};
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int r = 0; r < world_; ++r) outputs[0].push_back(torch::empty_like(input));
  impl_->group->allgather(outputs, inputs)->wait();
  for (auto& part : outputs[0]) part = part.to(local.device());
  outputs[0][rank_] = local;  // gradient flows through this rank's slot only
  return torch::cat(outputs[0], 0);
}

void Distributed::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  if (world_ == 1 || tensors.empty()) return;
  // One flat buffer: a single collective instead of one per parameter.
  std::vector<torch::Tensor> flat_parts;
  for (const auto& t : tensors) flat_parts.push_back(t.reshape({-1}));
  // Gloo here runs on host memory: GPU tensors go through the CPU.
  std::vector<torch::Tensor> buffer{torch::cat(flat_parts).to(torch::kCPU)};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  impl_->group->allreduce(buffer, options)->wait();
  int64_t offset = 0;
  for (auto& t : tensors) {
    t.copy_(buffer[0].narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void Distributed::barrier() {
  if (world_ == 1) return;
  impl_->group->barrier()->wait();
}

}  // namespace videoprism::train
