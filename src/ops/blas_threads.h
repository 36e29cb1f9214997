// OpenBLAS's own thread pool: libtorch's float32 GEMMs run in OpenBLAS on
// Debian, and OpenBLAS keeps a pool of its own beside libtorch's OpenMP one.
// Found at run time (dlsym), so nothing links OpenBLAS directly; with another
// BLAS these do nothing.
#pragma once

namespace videoprism::ops {

// OpenBLAS's thread count, 0 when OpenBLAS is not loaded.
int blas_num_threads();
// Sets it (n >= 1); no effect without OpenBLAS.
void set_blas_num_threads(int n);

// For a region that calls BLAS from several threads at once (one small GEMM
// per thread): OpenBLAS runs single-threaded inside, in the calling thread,
// instead of handing each call to its pool. Restores the count on exit. The
// count is process-wide: a GEMM another thread starts meanwhile also runs on
// one thread (slower, never wrong).
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_ = 0;
};

}  // namespace videoprism::ops
