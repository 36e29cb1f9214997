#include "ops/onednn.h"

#include <torch/torch.h>

#include <utility>

namespace videoprism::ops {

dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

void onednn_execute(const dnnl::primitive& primitive, const dnnl::primitive_desc_base& pd,
                    std::unordered_map<int, dnnl::memory> args) {
  dnnl::engine& engine = onednn_cpu_engine();
  torch::Tensor scratch = torch::empty({static_cast<int64_t>(pd.scratchpad_desc().get_size())}, torch::kUInt8);
  args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(pd.scratchpad_desc(), engine, scratch.data_ptr()));
  dnnl::stream stream(engine);
  primitive.execute(stream, args);
  stream.wait();
}

}  // namespace videoprism::ops
