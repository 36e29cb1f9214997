// Helpers shared by the test files.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

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

// The model inputs among a golden case's arrays (the names Model::forward takes).
inline std::map<std::string, torch::Tensor> model_inputs(const std::map<std::string, torch::Tensor>& io) {
  std::map<std::string, torch::Tensor> inputs;
  for (const char* name : {"inputs", "frame_paddings", "text_token_ids", "text_paddings"}) {
    auto it = io.find(name);
    if (it != io.end()) inputs[name] = it->second;
  }
  return inputs;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Largest |a - b| over two named sets of arrays; infinity when their names differ.
inline double max_param_diff(const std::map<std::string, torch::Tensor>& a,
                             const std::map<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double diff = 0;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end()) return std::numeric_limits<double>::infinity();
    diff = std::max(diff, max_abs_diff(value, it->second));
  }
  return diff;
}

// The JSON objects of a .jsonl file, one per non-empty line.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

// A TCP port on the loopback interface that was free a moment ago (for the
// distributed tests' MASTER_PORT).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

// Cosine similarity of two arrays taken as flat vectors.
inline double flat_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.to(torch::kFloat64).flatten(), y = b.to(torch::kFloat64).flatten();
  return (x.dot(y) / (x.norm() * y.norm())).item<double>();
}

}  // namespace videoprism::testing
