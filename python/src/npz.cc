// vp.load_npz / vp.save_npz on the library's strict reader and atomic writer.
#include <map>
#include <utility>
#include <vector>

#include <pybind11/stl.h>
#include <torch/torch.h>

#include "bindings.h"
#include "videoprism/core/error.h"
#include "videoprism/core/npz.h"

namespace videoprism::python {

void bind_npz(py::module_& m) {
  m.def(
      "load_npz",
      [](const py::object& path) {
        const std::string file = path_string(path, "load_npz: path");
        std::map<std::string, torch::Tensor> arrays;
        {
          py::gil_scoped_release release;
          arrays = load_npz(file);
        }
        py::dict out;
        for (auto& [key, tensor] : arrays) out[py::str(key)] = to_numpy(tensor);
        return out;
      },
      py::arg("path"),
      R"doc(Reads every array of a NumPy .npz archive into a dict {key: numpy.ndarray}.

Strict like the library: a missing file raises FileNotFoundError; a file that
is not a zip archive, a truncated or corrupt member, or an unsupported dtype
raises RuntimeError naming the file and key.)doc");

  m.def(
      "save_npz",
      [](const py::object& path, const py::dict& arrays, bool compress) {
        const std::string file = path_string(path, "save_npz: path");
        std::vector<HeldArray> held;
        std::vector<std::pair<std::string, torch::Tensor>> list;
        for (auto item : arrays) {
          check_arg(py::isinstance<py::str>(item.first), "save_npz: keys must be str, got ",
                    py::str(py::type::of(item.first)).cast<std::string>());
          const std::string key = item.first.cast<std::string>();
          held.push_back(from_numpy(item.second, "save_npz: '" + key + "'"));
          list.emplace_back(key, held.back().tensor);
        }
        py::gil_scoped_release release;
        save_npz(file, list, compress);
      },
      py::arg("path"), py::arg("arrays"), py::arg("compress") = false,
      R"doc(Writes a dict {key: array} as a .npz archive that numpy.load reads.

compress=False stores members like numpy.savez, True deflates them like
numpy.savez_compressed. The file is written to a temporary name and renamed,
so readers never see half a file.)doc");
}

}  // namespace videoprism::python
