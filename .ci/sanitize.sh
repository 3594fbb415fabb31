#!/usr/bin/env bash
# The whole test suite against an AddressSanitizer + UBSan build of tapegrad._core.
#
# Builds the extension with -DTAPEGRAD_SANITIZE=ON (CMakeLists.txt) in a scratch directory, puts it
# in a scratch copy of the Python package (the in-place build under python/ is left alone), and
# runs `pytest tests` with gcc's libasan preloaded into the (uninstrumented) Python interpreter.
# Any ASan or UBSan report aborts the process (halt_on_error=1), so the script fails on the first
# report; it also fails on any ordinary test failure.
#
# Usage: .ci/sanitize.sh [extra pytest args]      (env: SANITIZE_DIR to reuse a build directory,
#                                                  JOBS for the build's parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

work=${SANITIZE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/tapegrad-sanitize.XXXXXX")}
build=$work/build
pkg=$work/pkg
py=$(command -v python3 || command -v python)
jobs=${JOBS:-$(nproc)}

CXX=${CXX:-g++}
export CXX
libasan=$("$CXX" -print-file-name=libasan.so)
if [ ! -e "$libasan" ]; then
  echo "sanitize.sh: libasan.so not found ($CXX -print-file-name=libasan.so gave '$libasan')" >&2
  exit 1
fi

echo "== building tapegrad._core with ASan + UBSan in $build"
t0=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEGRAD_SANITIZE=ON \
  -DPython_EXECUTABLE="$py" -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build" -j "$jobs"
t1=$(date +%s)
echo "== built in $((t1 - t0)) s"

rm -rf "$pkg"
mkdir -p "$pkg"
cp -r "$root/python/tapegrad" "$pkg/tapegrad"
find "$pkg" -name '_core*.so' -delete
find "$pkg" -name '__pycache__' -prune -exec rm -rf {} +
cp "$build"/_core*.so "$pkg/tapegrad/"

# Sanity: the copy we test is the sanitized one (it needs libasan, so it cannot load without it).
# (grep reads all of ldd's output: `grep -q` stops early, and under pipefail ldd's SIGPIPE fails.)
ldd "$pkg"/tapegrad/_core*.so | grep libasan >/dev/null || {
  echo "sanitize.sh: the built extension does not link libasan" >&2
  exit 1
}

# detect_leaks=0: CPython and NumPy keep allocations alive until exit on purpose.
# Python itself is not instrumented, so libasan must be preloaded (and first in the link order);
# libstdc++ is preloaded too, or ASan's __cxa_throw interceptor finds no real __cxa_throw (the C
# interpreter does not link libstdc++) and the first C++ exception aborts with a CHECK failure.
libstdcxx=$("$CXX" -print-file-name=libstdc++.so)
export LD_PRELOAD="$libasan $libstdcxx"
# quarantine_size_mb=16 (default 256): freed memory ASan holds back to catch use-after-free; kept
# small so that the suite's RSS-growth tests measure tapegrad, not the quarantine filling up.
# allocator_may_return_null=1: an impossible allocation fails as in a normal build (MemoryError)
# instead of aborting.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1:quarantine_size_mb=16:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}"
export TAPEGRAD_SANITIZED=1  # tests that measure RSS or timing widen their bounds under ASan
cd "$root"
"$py" -c "import tapegrad._core as c, sys; print('== testing', c.__file__); sys.exit(0 if c.__file__.startswith('$pkg') else 1)"
"$py" -m pytest tests -q -p no:cacheprovider "$@"
t2=$(date +%s)
echo "== sanitizer run passed: build $((t1 - t0)) s, tests $((t2 - t1)) s"
