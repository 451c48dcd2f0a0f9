#!/usr/bin/env bash
# Builds native/build/libcpt_torch.so against libtorch (Debian's libtorch-dev, or the one a PyTorch
# wheel carries: pass its CMake prefix in CMAKE_PREFIX_PATH). Without libtorch or cmake it says how to
# get them and skips (the torch engine's tests then skip too), except under CPT_CI=1, where it fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
missing() {
  if [ "${CPT_CI:-}" = 1 ]; then echo "native: $1 (CPT_CI=1: failing)" >&2; exit 2; fi
  echo "native: $1; the torch engine is not built" >&2
  exit 0
}
if ! command -v cmake >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1; then
  missing "cmake or g++ is missing: apt-get install cmake g++"
fi
if [ -z "${CMAKE_PREFIX_PATH:-}" ] && [ ! -f /usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake ] \
    && [ ! -f /usr/lib/aarch64-linux-gnu/cmake/Torch/TorchConfig.cmake ]; then
  missing "libtorch is not installed: apt-get install libtorch-dev libgloo-dev libopenblas0-pthread (or set CMAKE_PREFIX_PATH to a libtorch, e.g. python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
fi
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$here/build" -j "$(nproc)"
echo "native: built $here/build/libcpt_torch.so" >&2
