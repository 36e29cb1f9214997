// videoprism compare: per-array agreement of two .npz files (max abs error and
// cosine), with an optional tolerance that sets the exit code.
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "videoprism/core/json_output.h"
#include "videoprism/core/error.h"
#include "videoprism/core/npz.h"

namespace videoprism::cli {
namespace {

struct CompareArgs {
  std::string ours, reference;
  double tolerance = -1.0;
  double min_cosine = -2.0;
  bool all_keys = false;
};

int run_compare(const CompareArgs& args) {
  NpzReader ours(args.ours), ref(args.reference);
  bool ok = true;
  int compared = 0;
  for (const auto& key : ref.keys()) {
    if (!ours.contains(key)) {
      if (args.all_keys) {
        std::cout << nlohmann::json{{"key", key}, {"missing", true}}.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
        ok = false;
      }
      continue;
    }
    torch::Tensor a = ours.read(key).to(torch::kFloat64), b = ref.read(key).to(torch::kFloat64);
    nlohmann::json line{{"key", key}, {"shape", b.sizes().vec()}};
    if (a.sizes() != b.sizes()) {
      line["error"] = "shape " + shape_str(a.sizes()) + " vs " + shape_str(b.sizes());
      ok = false;
    } else if (b.numel() > 0) {
      const double err = (a - b).abs().max().item<double>();
      const double cosine = (a.flatten().dot(b.flatten()) / (a.norm() * b.norm() + 1e-30)).item<double>();
      line["max_abs_error"] = err;
      line["cosine"] = cosine;
      bool pass = (args.tolerance < 0 || err <= args.tolerance) && cosine >= args.min_cosine;
      line["pass"] = pass;
      ok = ok && pass;
    }
    ++compared;
    std::cout << line.dump(-1, ' ', false, videoprism::kJsonReplace) << "\n";
  }
  check(compared > 0, "compare: no array of ", args.reference, " is in ", args.ours);
  return ok ? 0 : 2;
}

VP_REGISTER_COMMAND("compare", "Compare the arrays of two .npz files (max abs error, cosine)", [](CLI::App& sub) {
  auto args = std::make_shared<CompareArgs>();
  sub.add_option("ours", args->ours, "Our outputs (.npz)")->required();
  sub.add_option("reference", args->reference, "Reference outputs (.npz); inputs in it are compared too")->required();
  sub.add_option("--tolerance", args->tolerance, "Fail (exit 2) when any max abs error exceeds this");
  sub.add_option("--min-cosine", args->min_cosine, "Fail (exit 2) when any cosine is below this");
  sub.add_flag("--all-keys", args->all_keys, "Fail when a reference array is missing from ours");
  sub.footer("Example:\n  videoprism compare out.npz ../shared/golden/clip_tiny/io.npz --tolerance 1e-4");
  return [args] { return run_compare(*args); };
});

}  // namespace
}  // namespace videoprism::cli
