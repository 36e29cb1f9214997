// The --dtype flag shared by the inference commands.
#pragma once

#include <string>

#include <torch/torch.h>

namespace videoprism::cli {

inline constexpr const char* kDtypeHelp =
    "auto (bf16 where the CPU has native bf16 or on CUDA, else f32), f32, bf16 or int8 (CPU: int8 projection "
    "GEMMs, float32 elsewhere; docs/int8.md)";

// Resolves `name` ("auto", "f32", "bf16", "int8", ...) for `device`; when that is bf16
// on a CPU that only emulates it, prints the measured slowdown to stderr.
torch::ScalarType dtype_flag(const std::string& name, const torch::Device& device);

}  // namespace videoprism::cli
