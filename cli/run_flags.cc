#include "run_flags.h"

#include <iostream>

#include "videoprism/core/cpu_features.h"

namespace videoprism::cli {

torch::ScalarType dtype_flag(const std::string& name, const torch::Device& device) {
  const torch::ScalarType dtype = resolve_dtype(name, device);
  if (auto warning = bf16_emulation_warning(dtype, device)) std::cerr << *warning << "\n";
  return dtype;
}

}  // namespace videoprism::cli
