// The `videoprism._videoprism` extension module: libvideoprism bound with
// pybind11, one bind_* function per concept. videoprism/__init__.py re-exports it.
#include <pybind11/pybind11.h>

#include "bindings.h"

PYBIND11_MODULE(_videoprism, m) {
  m.doc() = "Native core of the videoprism package: libvideoprism bound with pybind11.";
  m.attr("__version__") = VP_VERSION;
  namespace vpy = videoprism::python;
  vpy::bind_errors(m);
  vpy::bind_npz(m);
  vpy::bind_tokenizer(m);
  vpy::bind_video(m);
  vpy::bind_model(m);
  vpy::bind_zero_shot(m);
  vpy::bind_index(m);
}
