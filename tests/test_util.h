// Helpers shared by the test files.
#pragma once

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace videoprism::testing {

inline std::string shared_dir() { return VP_SHARED_DIR; }
inline std::string golden_dir(const std::string& name) { return shared_dir() + "/golden/" + name; }
inline std::string cli_path() { return VP_CLI_PATH; }

// A fresh temporary directory, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "videoprism-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs a shell command and captures its output.
inline CommandResult run_command(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) result.output += buffer;
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Cosine similarity of two arrays taken as flat vectors.
inline double flat_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.to(torch::kFloat64).flatten(), y = b.to(torch::kFloat64).flatten();
  return (x.dot(y) / (x.norm() * y.norm())).item<double>();
}

}  // namespace videoprism::testing
