// Library errors -> Python exceptions carrying the same one-line message:
// FileNotFound -> FileNotFoundError, InvalidArgument -> ValueError, any other
// videoprism::Error or libtorch error -> RuntimeError.
#include <c10/util/Exception.h>

#include "bindings.h"
#include "videoprism/core/error.h"

namespace videoprism::python {

void bind_errors(py::module_& m) {
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const c10::Error& e) {
      // libtorch's message without its C++ backtrace.
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
}

}  // namespace videoprism::python
