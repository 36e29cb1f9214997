// vp.Model: a loaded model plus how to run it (shared by model.cc, zero_shot.cc, index.cc).
#pragma once

#include <memory>
#include <string>

#include "videoprism/core/model.h"

namespace videoprism::python {

struct PyModel {
  std::shared_ptr<Model> model;
  RunOptions run;
  std::string checkpoint;  // absolute path of the loaded .npz ("" when none)

  // The clip shape of a released preset with these parameter shapes, else 16 x 288.
  int default_frames() const;
  int default_size() const;
};

}  // namespace videoprism::python
