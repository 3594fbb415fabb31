// Standalone test and benchmark driver for csrc/kernels/gemm.cpp (not part of the extension).
//
// Build (from the repository root; CI does this):
//   cmake -S . -B /tmp/tg-bench -DTAPEGRAD_BENCH_DRIVERS=ON
//         -Dpybind11_DIR=$(python -m pybind11 --cmakedir)
//   cmake --build /tmp/tg-bench
// Run:
//   /tmp/tg-bench/gemm_bench test            # correctness against a double-precision reference
//   TAPEGRAD_NO_SIMD=1 /tmp/tg-bench/gemm_bench test   # the same on the portable kernels
//   /tmp/tg-bench/gemm_bench bench [threads [seconds [name-filter]]]  # GFLOP/s, best of repeats
//   /tmp/tg-bench/gemm_bench numpy-script    # prints a Python script timing NumPy on the same
//   shapes
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/threads.h"
#include "kernels/gemm.h"

using tg::DType;
using tg::MatRef;

namespace {

// A matrix operand stored in f32 or f16, row-major either as [rows, cols] or (trans) as the
// transpose [cols, rows] read through swapped strides, with an optional padded leading dimension.
struct Operand {
  int64_t rows, cols;
  bool trans;
  DType dt;
  int64_t ld;
  std::vector<float> f;     // f32 storage
  std::vector<uint16_t> h;  // f16 storage
  std::vector<double> val;  // exact values (after rounding to dt), row-major [rows, cols]

  Operand(int64_t r, int64_t c, bool t, DType d, int64_t pad, std::mt19937& rng)
      : rows(r), cols(c), trans(t), dt(d) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    const int64_t outer = t ? c : r, inner = t ? r : c;
    ld = inner + pad;
    const size_t n = size_t(std::max<int64_t>(outer * ld, 1));
    if (d == DType::f32)
      f.assign(n, 0.0f);
    else
      h.assign(n, 0);
    val.assign(size_t(r * c), 0.0);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const float x = u(rng);
        const size_t at = size_t(t ? j * ld + i : i * ld + j);
        double v;
        if (d == DType::f32) {
          f[at] = x;
          v = x;
        } else {
          h[at] = tg::float_to_half(x);
          v = tg::half_to_float(h[at]);
        }
        val[size_t(i * c + j)] = v;
      }
  }
  MatRef ref() const {
    const void* p = dt == DType::f32 ? static_cast<const void*>(f.data()) : h.data();
    return trans ? MatRef{p, dt, 1, ld} : MatRef{p, dt, ld, 1};
  }
};

int g_fail = 0, g_pass = 0;

void check(int64_t M, int64_t N, int64_t K, bool ta, bool tb, DType da, DType db, bool acc,
           int64_t pad, std::mt19937& rng) {
  Operand A(M, K, ta, da, pad, rng), B(K, N, tb, db, pad, rng);
  const int64_t ldc = N + pad;
  std::vector<float> C(size_t(std::max<int64_t>(M * ldc, 1)));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& x : C)
    x = u(rng);
  std::vector<float> C0 = C;
  tg::gemm(M, N, K, A.ref(), B.ref(), C.data(), ldc, acc);
  double worst = 0.0;
  bool ok = true;
  for (int64_t i = 0; i < M && ok; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = size_t(i * ldc + j);
      if (j >= N) {  // padding must be untouched
        if (std::memcmp(&C[at], &C0[at], sizeof(float)) != 0) ok = false;
        continue;
      }
      double ref = acc ? double(C0[at]) : 0.0, mag = std::fabs(ref);
      for (int64_t k = 0; k < K; ++k) {
        const double t = A.val[size_t(i * K + k)] * B.val[size_t(k * N + j)];
        ref += t;
        mag += std::fabs(t);
      }
      // float32 rounding of a K-term dot product: relative to the sum of magnitudes.
      const double tol = 1.3e-6 * std::sqrt(double(K) + 1.0) * (mag + 1e-30) + 1e-30;
      const double err = std::fabs(double(C[at]) - ref);
      worst = std::max(worst, err / tol);
      if (!(err <= tol)) ok = false;
    }
  if (ok) {
    ++g_pass;
  } else {
    ++g_fail;
    std::printf("FAIL M=%lld N=%lld K=%lld ta=%d tb=%d A=%s B=%s acc=%d pad=%lld (worst %.3g)\n",
                (long long)M, (long long)N, (long long)K, ta, tb, tg::dtype_name(da),
                tg::dtype_name(db), acc, (long long)pad, worst);
  }
}

int run_tests() {
  std::mt19937 rng(1234);
  const int64_t small[] = {0, 1, 2, 3, 5, 6, 7, 8, 13, 15, 16, 17, 31, 33};
  const DType dts[] = {DType::f32, DType::f16};
  // Every small shape, layout, dtype and accumulate flag (direct and packed paths).
  for (int64_t M : small)
    for (int64_t N : small)
      for (int64_t K : {0, 1, 5, 8, 13, 17, 64})
        for (int v = 0; v < 32; ++v) {
          const bool ta = v & 1, tb = v & 2, acc = v & 4;
          const DType da = dts[(v >> 3) & 1], db = dts[(v >> 4) & 1];
          check(M, N, K, ta, tb, da, db, acc, (M + N + K) % 3, rng);
        }
  // Larger shapes crossing the block sizes (KC = 256, MC = 144, NC = 4080) and thread splits.
  struct S {
    int64_t M, N, K;
  };
  const S big[] = {{7, 13, 5},     {1, 1000, 300},  {1000, 1, 300},  {300, 700, 1},
                   {145, 33, 257}, {150, 250, 600}, {64, 784, 256},  {784, 256, 64},
                   {64, 10, 256},  {256, 10, 64},   {97, 4100, 40},  {290, 290, 513},
                   {1, 1, 5000},   {5000, 3, 2},    {200, 4097, 17}, {513, 129, 1031}};
  for (int threads : {1, 2}) {
    tg::set_num_threads(threads);
    for (const S& s : big)
      for (int v = 0; v < 32; v += 1) {
        const bool ta = v & 1, tb = v & 2, acc = v & 4;
        const DType da = dts[(v >> 3) & 1], db = dts[(v >> 4) & 1];
        check(s.M, s.N, s.K, ta, tb, da, db, acc, v % 3, rng);
      }
  }
  // Every float16 value, widened exactly (direct path: 4096 at a time; packed: all at once).
  {
    std::vector<uint16_t> h(65536);
    for (int i = 0; i < 65536; ++i)
      h[size_t(i)] = uint16_t(i);
    const float one = 1.0f;
    std::vector<float> C(65536);
    int bad = 0;
    for (int chunk : {4096, 65536}) {
      for (int i0 = 0; i0 < 65536; i0 += chunk)
        tg::gemm(chunk, 1, 1, MatRef{h.data() + i0, DType::f16, 1, 1},
                 MatRef{&one, DType::f32, 1, 1}, C.data() + i0, 1, false);
      for (int i = 0; i < 65536; ++i) {
        const float want = tg::half_to_float(uint16_t(i)), got = C[size_t(i)];
        if (std::isnan(want) ? !std::isnan(got) : want != got) ++bad;  // -0 may become +0
      }
    }
    if (bad) {
      ++g_fail;
      std::printf("FAIL float16 widening: %d of 65536 values wrong\n", bad);
    } else {
      ++g_pass;
    }
  }
  std::printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
struct Shape {
  const char* name;
  int64_t M, N, K;
  bool ta, tb;
};
const Shape kShapes[] = {
    {"sq64", 64, 64, 64, false, false},
    {"sq128", 128, 128, 128, false, false},
    {"sq256", 256, 256, 256, false, false},
    {"sq512", 512, 512, 512, false, false},
    {"sq1024", 1024, 1024, 1024, false, false},
    {"sq2048", 2048, 2048, 2048, false, false},
    {"64x784@784x256", 64, 256, 784, false, false},
    {"64x784@(256x784)T", 64, 256, 784, false, true},
    {"dX 64x256@(784x256)T", 64, 784, 256, false, true},
    {"dW (64x784)T@64x256", 784, 256, 64, true, false},
    {"64x256@256x10", 64, 10, 256, false, false},
    {"dX 64x10@(256x10)T", 64, 256, 10, false, true},
    {"dW (64x256)T@64x10", 256, 10, 64, true, false},
    {"256x784@784x1024", 256, 1024, 784, false, false},
    {"dX 256x1024@(784x1024)T", 256, 784, 1024, false, true},
    {"dW (256x784)T@256x1024", 784, 1024, 256, true, false},
    {"256x1024@1024x1024", 256, 1024, 1024, false, false},
    {"dX 256x1024@(1024x1024)T", 256, 1024, 1024, false, true},
    {"dW (256x1024)T@256x1024", 1024, 1024, 256, true, false},
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double bench_one(const Shape& s, DType dt, double min_time, int min_reps) {
  std::mt19937 rng(7);
  Operand A(s.M, s.K, s.ta, dt, 0, rng), B(s.K, s.N, s.tb, dt, 0, rng);
  std::vector<float> C(size_t(s.M * s.N));
  tg::gemm(s.M, s.N, s.K, A.ref(), B.ref(), C.data(), s.N, false);  // warm up
  double best = 1e30, start = now();
  int reps = 0;
  while (reps < min_reps || now() - start < min_time) {
    // Time batches long enough for the clock (>= ~1 ms) and take the best batch.
    const double flop = 2.0 * double(s.M) * double(s.N) * double(s.K);
    const int inner = std::max(1, int(2e6 / flop));
    const double t0 = now();
    for (int r = 0; r < inner; ++r)
      tg::gemm(s.M, s.N, s.K, A.ref(), B.ref(), C.data(), s.N, false);
    best = std::min(best, (now() - t0) / inner);
    ++reps;
  }
  return 2.0 * double(s.M) * double(s.N) * double(s.K) / best * 1e-9;
}

int run_bench(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  if (argc > 2) threads = {std::atoi(argv[2])};
  const double min_time = argc > 3 ? std::atof(argv[3]) : 0.5;
  const std::string filter = argc > 4 ? argv[4] : "";
  std::printf("%-28s %3s %10s %10s\n", "shape", "T", "f32 GF/s", "f16 GF/s");
  for (int t : threads) {
    tg::set_num_threads(t);
    for (const Shape& s : kShapes) {
      if (!filter.empty() && std::string(s.name).find(filter) == std::string::npos) continue;
      const double g32 = bench_one(s, DType::f32, min_time, 5);
      const double g16 = bench_one(s, DType::f16, min_time, 5);
      std::printf("%-28s %3d %10.1f %10.1f\n", s.name, t, g32, g16);
      std::fflush(stdout);
    }
  }
  return 0;
}

// Per-call time of tiny products (the training steps of tiny models), best of repeats.
int run_tiny() {
  const Shape shapes[] = {
      {"50x1@1x1", 50, 1, 1, false, false},       {"1x50@50x1", 1, 1, 50, false, false},
      {"(50x1)T@50x1", 1, 1, 50, true, false},    {"64x10@(1x10)T", 64, 1, 10, false, true},
      {"64x1@1x10", 64, 10, 1, false, false},     {"(64x1)T@64x10", 1, 10, 64, true, false},
      {"64x10@10x10", 64, 10, 10, false, false},  {"64x16@16x16", 64, 16, 16, false, false},
      {"32x32@32x32", 32, 32, 32, false, false},  {"64x32@32x32", 64, 32, 32, false, false},
      {"64x64@64x64", 64, 64, 64, false, false},  {"1x784@784x256", 1, 256, 784, false, false},
      {"784x1@1x256", 784, 256, 1, false, false}, {"256x256@256x1", 256, 1, 256, false, false},
  };
  tg::set_num_threads(1);
  std::printf("%-20s %12s %12s\n", "shape", "f32 ns/call", "f16 ns/call");
  for (const Shape& s : shapes) {
    double ns[2];
    for (int d = 0; d < 2; ++d) {
      std::mt19937 rng(7);
      const DType dt = d ? DType::f16 : DType::f32;
      Operand A(s.M, s.K, s.ta, dt, 0, rng), B(s.K, s.N, s.tb, dt, 0, rng);
      std::vector<float> C(size_t(s.M * s.N));
      const MatRef a = A.ref(), b = B.ref();
      double best = 1e30;
      for (int r = 0; r < 200; ++r) {
        const int inner = 100;
        const double t0 = now();
        for (int i = 0; i < inner; ++i)
          tg::gemm(s.M, s.N, s.K, a, b, C.data(), s.N, false);
        best = std::min(best, (now() - t0) / inner);
      }
      ns[d] = best * 1e9;
    }
    std::printf("%-20s %12.0f %12.0f\n", s.name, ns[0], ns[1]);
  }
  return 0;
}

// A Python script timing NumPy (float32) on the same shapes and layouts, best of repeats.
int print_numpy_script() {
  std::printf(
      "import sys, time, numpy as np\n"
      "mt = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5\n"
      "T = sys.argv[2] if len(sys.argv) > 2 else '?'\n"
      "shapes = [\n");
  for (const Shape& s : kShapes)
    std::printf("  (%s, %lld, %lld, %lld, %d, %d),\n", ("'" + std::string(s.name) + "'").c_str(),
                (long long)s.M, (long long)s.N, (long long)s.K, s.ta, s.tb);
  std::printf(
      "]\n"
      "rng = np.random.default_rng(0)\n"
      "for name, M, N, K, ta, tb in shapes:\n"
      "    a = rng.standard_normal((K, M) if ta else (M, K), dtype=np.float32)\n"
      "    b = rng.standard_normal((N, K) if tb else (K, N), dtype=np.float32)\n"
      "    a = a.T if ta else a\n"
      "    b = b.T if tb else b\n"
      "    c = np.empty((M, N), np.float32)\n"
      "    np.matmul(a, b, out=c)\n"
      "    inner = max(1, int(2e6 / (2 * M * N * K)))\n"
      "    best, t_end, reps = 1e30, time.perf_counter() + mt, 0\n"
      "    while reps < 5 or time.perf_counter() < t_end:\n"
      "        t0 = time.perf_counter()\n"
      "        for _ in range(inner): np.matmul(a, b, out=c)\n"
      "        best = min(best, (time.perf_counter() - t0) / inner); reps += 1\n"
      "    print('%%-28s %%3s %%10.1f' %% (name, T, 2 * M * N * K / best * 1e-9), flush=True)\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "test";
  if (mode == "test") return run_tests();
  if (mode == "bench") return run_bench(argc, argv);
  if (mode == "tiny") return run_tiny();
  if (mode == "numpy-script") return print_numpy_script();
  std::fprintf(stderr,
               "usage: %s test | bench [threads [seconds [filter]]] | tiny | numpy-script\n",
               argv[0]);
  return 2;
}
