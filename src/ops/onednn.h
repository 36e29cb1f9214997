// The one oneDNN CPU engine the process's oneDNN primitives (ops/int8_gemm,
// ops/f32_gemm) run on.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <unordered_map>

namespace videoprism::ops {

dnnl::engine& onednn_cpu_engine();

// Runs `primitive` (made with a user scratchpad, `pd` its descriptor) on `args`
// with a scratchpad of its own, so concurrent calls of one primitive never
// share one, and waits for it.
void onednn_execute(const dnnl::primitive& primitive, const dnnl::primitive_desc_base& pd,
                    std::unordered_map<int, dnnl::memory> args);

}  // namespace videoprism::ops
