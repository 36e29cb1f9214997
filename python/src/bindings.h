// The extension module's pieces: one bind_* function per concept (one file
// each), and the numpy <-> torch conversions they share (arrays.cc).
#pragma once

#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <torch/types.h>

namespace videoprism::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_npz(py::module_& m);
void bind_tokenizer(py::module_& m);
void bind_video(py::module_& m);
void bind_model(py::module_& m);
void bind_zero_shot(py::module_& m);
void bind_index(py::module_& m);

// A numpy array (or anything numpy.asarray takes) seen as a CPU tensor. The
// tensor shares the array's memory when it is C-contiguous with a dtype torch
// has (float32/64, int8/16/32/64, uint8, bool); otherwise `array` is a
// contiguous copy. Keep the HeldArray alive while the tensor is used.
// Throws videoprism::InvalidArgument naming `what` for other dtypes.
struct HeldArray {
  py::array array;
  torch::Tensor tensor;
};
HeldArray from_numpy(const py::handle& object, const std::string& what);

// A numpy array over the tensor's memory (a contiguous CPU copy when it is not
// one already; bfloat16/float16 become float32). The array owns a reference to
// the tensor, so no data is copied for the model's float32 CPU outputs.
py::array to_numpy(torch::Tensor tensor);

// str or os.PathLike -> path string; throws InvalidArgument naming `what`.
std::string path_string(const py::handle& object, const std::string& what);

}  // namespace videoprism::python
