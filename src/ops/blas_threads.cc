#include "ops/blas_threads.h"

#include <dlfcn.h>

namespace videoprism::ops {
namespace {

using GetThreads = int (*)();
using SetThreads = void (*)(int);

GetThreads get_fn() {
  static const auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get;
}

SetThreads set_fn() {
  static const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  return set;
}

}  // namespace

int blas_num_threads() { return get_fn() != nullptr && set_fn() != nullptr ? get_fn()() : 0; }

void set_blas_num_threads(int n) {
  if (n >= 1 && set_fn() != nullptr && get_fn() != nullptr && get_fn()() != n) set_fn()(n);
}

SingleThreadedBlas::SingleThreadedBlas() : saved_(blas_num_threads()) {
  if (saved_ > 1) set_blas_num_threads(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if (saved_ > 1) set_blas_num_threads(saved_);
}

}  // namespace videoprism::ops
