// numpy <-> torch without copies where the layout allows.
#include <vector>

#include <torch/torch.h>

#include "bindings.h"
#include "videoprism/core/error.h"

namespace videoprism::python {

namespace {

torch::ScalarType torch_dtype(const py::dtype& dt, const std::string& what) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return torch::kFloat32;
  if (kind == 'f' && size == 8) return torch::kFloat64;
  if (kind == 'i' && size == 4) return torch::kInt32;
  if (kind == 'i' && size == 8) return torch::kInt64;
  if (kind == 'i' && size == 2) return torch::kInt16;
  if (kind == 'i' && size == 1) return torch::kInt8;
  if (kind == 'u' && size == 1) return torch::kUInt8;
  if (kind == 'b') return torch::kBool;
  fail_arg(what, ": expected a numeric array (float32/64, int8/16/32/64, uint8 or bool), got dtype ",
           py::str(static_cast<const py::object&>(dt)).cast<std::string>());
}

}  // namespace

HeldArray from_numpy(const py::handle& object, const std::string& what) {
  py::array array;
  try {
    array = py::array::ensure(object);
  } catch (const py::error_already_set&) {
  }
  if (!array) fail_arg(what, ": expected an array, got ", py::str(py::type::of(object)).cast<std::string>());
  // Only native byte order maps onto torch (a '>f4' array is converted below).
  if (array.dtype().attr("byteorder").cast<std::string>() == ">")
    array = py::array::ensure(array.attr("astype")(array.dtype().attr("newbyteorder")("=")));
  const torch::ScalarType dtype = torch_dtype(array.dtype(), what);
  if (!(array.flags() & py::array::c_style)) array = py::array::ensure(array, py::array::c_style);
  std::vector<int64_t> shape(array.shape(), array.shape() + array.ndim());
  HeldArray held;
  held.array = array;
  held.tensor = torch::from_blob(const_cast<void*>(array.data()), shape, torch::TensorOptions().dtype(dtype));
  return held;
}

py::array to_numpy(torch::Tensor tensor) {
  tensor = tensor.to(torch::kCPU);
  if (tensor.scalar_type() == torch::kBFloat16 || tensor.scalar_type() == torch::kHalf) tensor = tensor.to(torch::kFloat32);
  tensor = tensor.contiguous();
  py::dtype dtype;
  switch (tensor.scalar_type()) {
    case torch::kFloat32: dtype = py::dtype::of<float>(); break;
    case torch::kFloat64: dtype = py::dtype::of<double>(); break;
    case torch::kInt32: dtype = py::dtype::of<int32_t>(); break;
    case torch::kInt64: dtype = py::dtype::of<int64_t>(); break;
    case torch::kInt16: dtype = py::dtype::of<int16_t>(); break;
    case torch::kInt8: dtype = py::dtype::of<int8_t>(); break;
    case torch::kUInt8: dtype = py::dtype::of<uint8_t>(); break;
    case torch::kBool: dtype = py::dtype::of<bool>(); break;
    default: fail("to_numpy: no numpy dtype for ", c10::toString(tensor.scalar_type()));
  }
  std::vector<py::ssize_t> shape(tensor.sizes().begin(), tensor.sizes().end());
  std::vector<py::ssize_t> strides;
  for (int64_t s : tensor.strides()) strides.push_back(static_cast<py::ssize_t>(s * tensor.element_size()));
  auto* owner = new torch::Tensor(tensor);
  py::capsule capsule(owner, [](void* p) { delete static_cast<torch::Tensor*>(p); });
  return py::array(dtype, shape, strides, tensor.data_ptr(), capsule);
}

std::string path_string(const py::handle& object, const std::string& what) {
  if (py::isinstance<py::str>(object)) return object.cast<std::string>();
  if (py::hasattr(object, "__fspath__")) {
    py::object p = object.attr("__fspath__")();
    if (py::isinstance<py::str>(p)) return p.cast<std::string>();
  }
  fail_arg(what, ": expected a path (str or os.PathLike), got ", py::str(py::type::of(object)).cast<std::string>());
}

}  // namespace videoprism::python
