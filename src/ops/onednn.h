// The one oneDNN CPU engine the process's oneDNN primitives (ops/int8_gemm,
// ops/f32_gemm) run on.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace videoprism::ops {

dnnl::engine& onednn_cpu_engine();

}  // namespace videoprism::ops
