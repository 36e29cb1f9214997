#!/usr/bin/env bash
# Runs on the GPU machine (as root; no network, no apt): builds the
# VIDEOPRISM_MINIMAL + VIDEOPRISM_CUDA CLI into build-cuda/ against the pip
# PyTorch's libtorch, nvcc and the Debian packages that
# scripts/device/fetch-deps.sh put in .device/ (run that here first and carry
# .device/ along). Prints a probe of the machine first and the time of each
# phase. Writes build-cuda/env.sh: `source` it before running build-cuda/videoprism.
#   JOBS (default: nproc)        parallel compile jobs
#   PYTHON (default: python3)    the Python that has torch
#   TORCH_PREFIX                 libtorch's CMake prefix (default: from $PYTHON's torch)
#   CUDA_ARCHS (default: 90)     CMAKE_CUDA_ARCHITECTURES
#   VP_CUDA (default: ON)        VIDEOPRISM_CUDA (OFF: a CPU build, e.g. to try this script on CPU)
#   VP_DEPS (default: /opt/vpdeps), BUILD_DIR (default: build-cuda)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEV=$ROOT/.device
DEPS=${VP_DEPS:-/opt/vpdeps}  # .device/debs, extracted
DEPS_RT=$DEPS-runtime         # .device/debs-runtime, extracted only if needed
BUILD=$(realpath -m "${BUILD_DIR:-build-cuda}")
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-python3}
ARCH=$(uname -m)-linux-gnu

T0=$(date +%s.%N)
T_PHASE=$T0
phase() {  # phase NAME: the time since the start and since the previous phase, then NAME
  local now; now=$(date +%s.%N)
  awk -v now="$now" -v t0="$T0" -v tp="$T_PHASE" -v name="$1" \
    'BEGIN { printf "[%7.1fs total, %6.1fs previous phase] == %s ==\n", now - t0, now - tp, name }'
  T_PHASE=$now
}

[ -d /usr/local/cuda/bin ] && export PATH=/usr/local/cuda/bin:$PATH
export CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
# Torch's CMake config computes its own -gencode flags; without this it runs a
# detection program on the GPU.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}

phase "probe"
nvidia-smi -L || echo "nvidia-smi: failed"
nvcc --version | tail -n 2 || echo "nvcc: not found"
"$PYTHON" - <<'PY' || echo "torch: import failed"
import torch
print("torch", torch.__version__, "| cuda", torch.version.cuda,
      "| cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI,
      "| cudnn", torch.backends.cudnn.version(),
      "| gpu", torch.cuda.is_available() and torch.cuda.get_device_name(0))
print("cmake prefix", torch.utils.cmake_prefix_path)
PY
g++ --version | head -n 1 || echo "g++: not found"
cmake --version | head -n 1 || echo "cmake: not found"
echo "ninja $(ninja --version 2>/dev/null || echo 'not found')"
echo "dpkg-deb: $(command -v dpkg-deb || echo 'not found')  pkg-config: $(command -v pkg-config || echo 'not found')"
ldconfig -p | grep -E '(libzip|libgnutls|libnettle|libzstd|liblzma|libbz2|libssl|libcrypto|libz)\.so\.[0-9]' || true
ls /usr/local/cuda/lib64 2>/dev/null | grep -E '^lib(cudart|cublas|cublasLt|nvrtc|cufft|curand|cusparse|cusolver)\.so$' | tr '\n' ' ' || true
echo
if command -v pkg-config >/dev/null; then
  for m in libzip libavformat sqlite3 sentencepiece; do
    pkg-config --exists $m && echo "pkg-config $m: yes" || echo "pkg-config $m: no"
  done
fi

phase "extract .device/debs into $DEPS"
extract() {  # extract DEB DIR: dpkg -x, or ar + tar where dpkg-deb is missing
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$1" "$2"
  else
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && ar x "$1" && tar -xf data.tar.* -C "$2")
    rm -rf "$tmp"
  fi
}
rm -rf "$DEPS"; mkdir -p "$DEPS"
for deb in "$DEV"/debs/*.deb; do extract "$deb" "$DEPS"; done
# The .pc files say prefix=/usr (nlohmann_json.pc: -I/usr/include): point them at the extracted tree.
find "$DEPS" -name '*.pc' -exec sed -i -e "s|^prefix=.*|prefix=$DEPS/usr|" -e "s|-I/usr/include|-I$DEPS/usr/include|g" {} +
export PKG_CONFIG_PATH=$DEPS/usr/lib/$ARCH/pkgconfig:$DEPS/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
LIBPATH=$DEPS/usr/lib/$ARCH
# libzip4's own dependencies: from the image if it has them, else the fallback.
missing=()
known=$'\n'$(ldconfig -p | awk 'NR > 1 {print $1}')$'\n'
for lib in $(objdump -p "$LIBPATH/libzip.so.4" | awk '/NEEDED/ {print $2}'); do
  [[ $known == *$'\n'$lib$'\n'* ]] || missing+=("$lib")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "libzip.so.4 needs ${missing[*]}, not on this machine: using .device/debs-runtime"
  rm -rf "$DEPS_RT"; mkdir -p "$DEPS_RT"
  for deb in "$DEV"/debs-runtime/*.deb; do extract "$deb" "$DEPS_RT"; done
  # Only the missing libraries go on the path, not the whole fallback.
  mkdir -p "$DEPS_RT/needed"
  for lib in "${missing[@]}"; do
    found=$(find "$DEPS_RT" -name "$lib" -not -path "$DEPS_RT/needed/*" | head -n 1)
    [ -n "$found" ] || { echo "build.sh: $lib is not in .device/debs-runtime either" >&2; exit 1; }
    ln -sf "$found" "$DEPS_RT/needed/$lib"
  done
  LIBPATH=$LIBPATH:$DEPS_RT/needed
fi
export LD_LIBRARY_PATH=$LIBPATH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
PKG_CONFIG_ARGS=()
if ! command -v pkg-config >/dev/null; then
  PKG_CONFIG_ARGS=(-DPKG_CONFIG_EXECUTABLE="$DEPS/usr/bin/pkg-config")
  export PATH=$PATH:$DEPS/usr/bin
fi
echo "libzip: $(pkg-config --modversion libzip) $(pkg-config --cflags --libs libzip)"

TORCH_PREFIX=${TORCH_PREFIX:-$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')}
mkdir -p "$BUILD"
cat > "$BUILD/env.sh" <<EOF
# Sourced before running $BUILD/videoprism (written by scripts/device/build.sh).
export LD_LIBRARY_PATH=$LIBPATH\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export PATH=/usr/local/cuda/bin:\$PATH
EOF

phase "configure ($BUILD)"
cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DVIDEOPRISM_MINIMAL=ON -DVIDEOPRISM_CUDA="${VP_CUDA:-ON}" \
  -DVIDEOPRISM_TESTS=OFF -DVIDEOPRISM_BENCH=OFF -DVIDEOPRISM_PCH=ON -DUSE_SYSTEM_NVTX=ON \
  -DVP_SHARED_DIR="$DEV/shared" \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" \
  -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
  -DCMAKE_PREFIX_PATH="$TORCH_PREFIX;$DEPS/usr" \
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  "${PKG_CONFIG_ARGS[@]}"

phase "build (-j$JOBS)"
cmake --build "$BUILD" -j "$JOBS"

phase "smoke test"
"$BUILD/videoprism" --version
"$BUILD/videoprism" info "$DEV/shared/golden/encoder_tiny/params.npz" --no-arrays
phase "done: source $BUILD/env.sh; $BUILD/videoprism"
