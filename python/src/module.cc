// The `videoprism._videoprism` extension module: libvideoprism bound with
// pybind11, one bind_* function per concept. videoprism/__init__.py re-exports it.
#include <malloc.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "videoprism/core/cpu_features.h"
#include "videoprism/core/model.h"

PYBIND11_MODULE(_videoprism, m) {
  m.doc() = "Native core of the videoprism package: libvideoprism bound with pybind11.";
  m.attr("__version__") = VP_VERSION;
  // The package is the application here: it keeps large activation blocks in
  // glibc's heap (as the CLI does) instead of mmap'ing fresh pages per layer.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  namespace vpy = videoprism::python;
  vpy::bind_errors(m);
  vpy::bind_npz(m);
  vpy::bind_tokenizer(m);
  vpy::bind_video(m);
  vpy::bind_model(m);
  vpy::bind_zero_shot(m);
  vpy::bind_index(m);
  m.def("_use_available_cores", [] { videoprism::set_compute_threads(videoprism::available_cores()); },
        "Sets the compute threads to the CPUs this process may use.");
  m.def("_blas_core", &videoprism::blas_core, "OpenBLAS's core name (its float32 kernels), '' if not loaded.");
  m.def("_blas_core_override", [] { return videoprism::blas_core_override(); },
        "The OPENBLAS_CORETYPE this CPU needs when OpenBLAS picked older kernels, else None.");
}
