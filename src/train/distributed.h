// Data-parallel process group (c10d): Gloo on CPU. Rendezvous as torchrun:
// RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (TCPStore served by rank 0).
// Training on GPUs ("device": "cuda", one GPU per rank by LOCAL_RANK) works
// through the same group: collectives copy GPU tensors to the host and back
// (correct, not fast; no NCCL). One process: no communication at all.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "train_step/collectives.h"

namespace videoprism::train {

class Distributed : public Collectives {
 public:
  // A single process (world 1, no communication).
  Distributed();
  // From the environment; WORLD_SIZE unset or 1 gives a single process.
  static Distributed from_env();
  // Explicit rendezvous (tests).
  Distributed(int rank, int world, const std::string& master_addr, int master_port);
  ~Distributed() override;
  Distributed(Distributed&&) noexcept;
  Distributed& operator=(Distributed&&) noexcept;

  int rank() const override { return rank_; }
  int world() const override { return world_; }
  bool is_main() const { return rank_ == 0; }

  // [world*B, ...]: every rank's `local` [B, ...] concatenated in rank order,
  // with this rank's slot being `local` itself so gradients flow only into
  // the local part (CLIP-style gather). Identity for one process.
  torch::Tensor all_gather_with_local_grad(const torch::Tensor& local) override;
  // In-place sum over ranks of float32 tensors (all on one device; GPU ones
  // are reduced through a host copy).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override;
  void barrier();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0;
  int world_ = 1;
};

}  // namespace videoprism::train
