#include "videoprism/train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/atomic_file.h"
#include "videoprism/core/error.h"
#include "videoprism/core/model.h"
#include "videoprism/core/npz.h"

namespace videoprism::train {
namespace fs = std::filesystem;
namespace {

std::string step_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step_%08lld", static_cast<long long>(step));
  return name;
}

bool is_step_name(const std::string& name) {
  return name.size() == 13 && name.rfind("step_", 0) == 0 &&
         std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace


CheckpointStore::CheckpointStore(std::string run_dir, int keep)
    : dir_((fs::path(run_dir) / "checkpoints").string()), keep_(keep) {}

std::string CheckpointStore::save(int64_t step, const Model& model, const CheckpointFiles& files) {
  fs::create_directories(dir_);
  const std::string name = step_name(step);
  const std::string final_dir = (fs::path(dir_) / name).string();
  const std::string tmp_dir = final_dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp_dir);
  fs::create_directories(tmp_dir);
  // A failed save (a full disk, an I/O error) leaves no half-written folder:
  // `latest` still names the previous complete checkpoint.
  struct RemoveUnlessDone {
    const std::string& dir;
    bool done = false;
    ~RemoveUnlessDone() {
      std::error_code ec;
      if (!done) fs::remove_all(dir, ec);
    }
  } cleanup{tmp_dir};
  // Every file below is written by write_atomically (fsync'ed before its
  // rename); the folder is then synced, renamed into place and its parent synced.
  model.save(tmp_dir + "/model.npz");
  for (const auto& [file, arrays] : files.npz) {
    // The npz writer reads host memory: arrays of a GPU run (optimizer
    // moments, decoders, logit scale) are copied to the CPU here.
    NamedArrays host;
    for (const auto& [key, value] : arrays)
      host.emplace_back(key, value.device().is_cpu() ? value : value.detach().to(torch::kCPU));
    save_npz(tmp_dir + "/" + file, host);
  }
  write_file_atomically(tmp_dir + "/state.json", files.state.dump(2) + "\n");
  sync_path(tmp_dir, true);
  // Replacing an existing folder of the same step (never the one `latest`
  // names while we run: that is an older step) needs it out of the way.
  if (fs::exists(final_dir)) fs::remove_all(final_dir);
  fs::rename(tmp_dir, final_dir);
  cleanup.done = true;
  sync_path(dir_, true);
  write_file_atomically((fs::path(dir_) / "latest").string(), name + "\n");

  // Leftovers of interrupted saves (a folder or a `latest` of a killed run).
  remove_stale_temporaries(dir_);
  if (keep_ > 0) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string n = entry.path().filename().string();
      if (entry.is_directory() && is_step_name(n)) names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    for (size_t i = 0; i + keep_ < names.size(); ++i) {
      if (names[i] == name) continue;
      std::error_code ec;
      fs::remove_all(fs::path(dir_) / names[i], ec);
    }
  }
  return final_dir;
}

std::optional<std::string> CheckpointStore::latest() const {
  std::ifstream in((fs::path(dir_) / "latest").string());
  if (!in.good()) return std::nullopt;
  std::string name;
  in >> name;
  if (!is_step_name(name)) return std::nullopt;
  const std::string folder = (fs::path(dir_) / name).string();
  if (!fs::exists(folder + "/state.json") || !fs::exists(folder + "/model.npz")) return std::nullopt;
  return folder;
}

CheckpointFiles CheckpointStore::read(const std::string& folder) {
  CheckpointFiles files;
  std::ifstream in(folder + "/state.json");
  check(in.good(), "checkpoint ", folder, ": no state.json");
  try {
    in >> files.state;
  } catch (const nlohmann::json::exception& e) {
    fail("checkpoint ", folder, "/state.json: ", e.what());
  }
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string n = entry.path().filename().string();
    if (n == "model.npz" || entry.path().extension() != ".npz") continue;
    NamedArrays arrays;
    NpzReader reader(entry.path().string());
    for (const auto& key : reader.keys()) arrays.emplace_back(key, reader.read(key));
    files.npz[n] = std::move(arrays);
  }
  return files;
}

}  // namespace videoprism::train

namespace videoprism::train {

std::string resolve_model_checkpoint(const std::string& path) {
  const fs::path p(path);
  if (!fs::is_directory(p)) {
    check(fs::exists(p), "checkpoint ", path, ": no such file or directory");
    return path;
  }
  if (fs::exists(p / "model.npz")) return (p / "model.npz").string();
  std::optional<std::string> folder = CheckpointStore((p).string()).latest();
  check(folder.has_value(), "checkpoint ", path, ": a directory with neither model.npz nor a complete checkpoint");
  return *folder + "/model.npz";
}

}  // namespace videoprism::train
