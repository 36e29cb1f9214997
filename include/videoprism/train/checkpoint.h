// Training checkpoints in a run directory, shared by every training stage:
//
//   RUN_DIR/checkpoints/step_00001000/model.npz      released .npz layout (Model::save)
//                                    /optimizer.npz  optimizer moments and extra trainables
//                                    /state.json     step, data position, RNG, config
//   RUN_DIR/checkpoints/latest                       name of the newest complete one
//
// A checkpoint is written into a temporary folder, every file fsynced, the
// folder renamed into place, then `latest` replaced by rename: a kill -9 at
// any moment leaves the previous checkpoint and `latest` intact.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace videoprism {
class Model;
}

namespace videoprism::train {

using NamedArrays = std::vector<std::pair<std::string, torch::Tensor>>;

struct CheckpointFiles {
  std::map<std::string, NamedArrays> npz;  // file name (e.g. "optimizer.npz") -> arrays
  nlohmann::json state;                    // written as state.json
};

class CheckpointStore {
 public:
  // keep: how many newest checkpoints to keep (older ones are deleted); 0 keeps all.
  explicit CheckpointStore(std::string run_dir, int keep = 2);

  // Writes the model (as model.npz) and the files as checkpoint `step`;
  // arrays on a GPU are copied to the CPU first. Returns its folder.
  std::string save(int64_t step, const Model& model, const CheckpointFiles& files);

  // Folder of the newest complete checkpoint, if any.
  std::optional<std::string> latest() const;

  // Reads state.json and every .npz of a checkpoint folder (model.npz excluded:
  // load it with Model::load_weights(folder + "/model.npz")).
  static CheckpointFiles read(const std::string& folder);

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int keep_;
};

// The model .npz a user names: a run directory (its latest checkpoint's
// model.npz), a checkpoint folder (its model.npz) or an .npz file.
std::string resolve_model_checkpoint(const std::string& path);


}  // namespace videoprism::train
