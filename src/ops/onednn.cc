#include "ops/onednn.h"

namespace videoprism::ops {

dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace videoprism::ops
