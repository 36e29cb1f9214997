// videoprism: the command-line front-end. Parses, calls the library, formats.
// Library errors (videoprism::Error and c10::Error) become one line on stderr
// and exit code 1; usage errors exit with CLI11's code.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>

#include <torch/torch.h>

#include "command.h"
#include "progress_bar.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"

namespace videoprism::cli {

std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

}  // namespace videoprism::cli

namespace {
// c10 errors carry a multi-line backtrace; keep the first line only.
std::string first_line(const std::string& text) {
  auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}
}  // namespace

int main(int argc, char** argv) {
  // Two settings the libraries read only when they load, so the CLI sets them
  // and starts again (once):
  // - libtorch's OpenMP threads spin after each parallel region while
  //   OpenBLAS's own threads want the same cores for the next float32 matmul:
  //   on 2 cores that costs ~12% of a VideoPrism-B forward. bf16 (oneDNN, on
  //   the OpenMP pool) is unaffected. VIDEOPRISM_KEEP_OMP_WAIT=1 skips this.
  // - OpenBLAS's kernels: Debian's 0.3.21 takes CPUs newer than it knows for a
  //   Pentium 4 ("Prescott") and runs float32 GEMMs on SSE3, ~10x slow;
  //   blas_core_override names the core type that matches the CPU. An
  //   OPENBLAS_CORETYPE already set is kept.
  bool restart = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("VIDEOPRISM_KEEP_OMP_WAIT") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    restart = true;
  }
  if (const auto core = videoprism::blas_core_override()) {
    setenv("OPENBLAS_CORETYPE", core->c_str(), 1);
    restart = true;
  }
  if (restart) execv("/proc/self/exe", argv);  // returns only on failure: carry on as we are
  // Every core this process may use, unless OMP_NUM_THREADS says otherwise:
  // libtorch's own default here is 1 of 2. `--threads N` still overrides.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) videoprism::set_compute_threads(videoprism::available_cores());
  // The application decides how the library's messages and progress look,
  // and how glibc serves large blocks: activations are tens of MB each, and
  // glibc would serve them with mmap and return them on free, so every layer
  // would fault in and zero fresh pages; keeping them in the heap lets the
  // next layer reuse them.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  videoprism::cli::install_terminal_sinks();
  using namespace videoprism::cli;
  CLI::App app{"videoprism: Google's VideoPrism video foundation model in C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "videoprism 0.1.0");

  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandInfo& a, const CommandInfo& b) { return a.name < b.name; });
  std::function<int()> run;
  for (auto& info : registry) {
    CLI::App* sub = app.add_subcommand(info.name, info.description);
    auto runner = std::make_shared<std::function<int()>>(info.setup(*sub));
    sub->callback([runner, &run] { run = *runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 0;
  } catch (const videoprism::Error& e) {
    std::cerr << "videoprism: " << e.what() << "\n";
  } catch (const c10::Error& e) {
    std::cerr << "videoprism: " << first_line(e.what_without_backtrace()) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "videoprism: " << first_line(e.what()) << "\n";
  }
  return 1;
}
