// Standalone driver for the elementwise kernels in csrc/kernels/vec*.cpp: exactness checks,
// accuracy of the approximations against float64, and speed (GB/s) against a STREAM-triad-like
// loop and NumPy measured in the same run. Not part of the extension. Build (CI does this):
//
//   cmake -S . -B /tmp/tg-bench -DTAPEGRAD_BENCH_DRIVERS=ON
//         -Dpybind11_DIR=$(python -m pybind11 --cmakedir)
//   cmake --build /tmp/tg-bench
//
// Run: /tmp/tg-bench/vec_bench [check] [accuracy] [speed] [numpy] [--step N] [--portable] [--quick]
// (no mode: all of them). --step N sweeps every N-th float32 bit pattern in `accuracy`
// (default 17; 1 = all 2^32); --portable times the portable path; --quick shrinks everything.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "core/threads.h"
#include "kernels/vec.h"

using namespace tg;
using vec::Bin;
using vec::Un;

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

template <class T>
struct Buf {  // 64-byte aligned, uninitialised
  T* p = nullptr;
  size_t n = 0;
  explicit Buf(size_t count) : n(count) {
    size_t bytes = (count * sizeof(T) + 63) / 64 * 64 + 64;
    p = static_cast<T*>(std::aligned_alloc(64, bytes));
  }
  ~Buf() { std::free(p); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  T& operator[](size_t i) { return p[i]; }
};

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
bool same(float a, float b) {
  return bits_of(a) == bits_of(b) || (a != a && b != b);
}
bool same16(uint16_t a, uint16_t b) {
  auto nan = [](uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); };
  return a == b || (nan(a) && nan(b));
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* un_name(Un op) {
  static const char* names[] = {"neg", "abs", "exp", "log", "tanh", "relu", "sigmoid"};
  return names[int(op)];
}
const char* bin_name(Bin op) {
  static const char* names[] = {"add", "sub", "mul", "div"};
  return names[int(op)];
}

float ref_exact(Un op, float x) {  // the bit-exact ops
  switch (op) {
    case Un::neg:
      return -x;
    case Un::abs:
      return from_bits(bits_of(x) & 0x7fffffffu);
    case Un::relu:  // PyTorch's: negatives give +0; -0 and NaN stay
      return x < 0 ? 0.0f : x;
    default:
      return 0;
  }
}
float ref_bin(Bin op, float a, float b) {
  switch (op) {
    case Bin::add:
      return a + b;
    case Bin::sub:
      return a - b;
    case Bin::mul:
      return a * b;
    case Bin::div:
      return a / b;
  }
  return 0;
}
double ref_math(Un op, double x) {  // float64 oracle
  switch (op) {
    case Un::exp:
      return std::exp(x);
    case Un::log:
      return std::log(x);
    case Un::tanh:
      return std::tanh(x);
    case Un::sigmoid: {  // PyTorch's 1 / (1 + exp(-x)): 0 where float32's exp(-x) overflows
      const double e = std::exp(-x);
      return float(e) == HUGE_VALF ? 0.0 : 1.0 / (1.0 + e);
    }
    default:
      return 0;
  }
}

int g_fail = 0;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      if (g_fail < 30) {                                   \
        std::printf("  FAIL %s:%d: ", __FILE__, __LINE__); \
        std::printf(__VA_ARGS__);                          \
        std::printf("\n");                                 \
      }                                                    \
      ++g_fail;                                            \
    }                                                      \
  } while (0)

std::vector<float> test_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v = {0.0f,     -0.0f,   1.0f,   -1.0f,   INFINITY, -INFINITY, NAN,      -NAN,
                          1e-40f,   -1e-40f, 1e-45f, 3.4e38f, -3.4e38f, 65504.0f,  65520.0f, 6e-8f,
                          2.98e-8f, 0.5f,    88.72f, -87.5f,  -104.0f,  1e-30f};
  std::normal_distribution<float> nd(0.0f, 3.0f);
  while (v.size() < n) {
    uint32_t r = rng();
    switch (r % 4) {
      case 0:
        v.push_back(from_bits(rng()));  // anything, including NaN payloads and subnormals
        break;
      default:
        v.push_back(nd(rng));
    }
  }
  v.resize(n);
  return v;
}

std::vector<uint16_t> to16(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    h[i] = float_to_half(v[i]);
  return h;
}

// ---------------------------------------------------------------------------------------------
// check: exactness of the bit-exact ops, tails, aliasing, strides, threads, streaming stores,
// conversions and sums; both paths.

void check_paths() {
  const size_t N = 5000;
  std::vector<float> a = test_values(N, 1), b = test_values(N, 2);
  std::vector<uint16_t> a16 = to16(a), b16 = to16(b);
  std::vector<float> out(N + 64);
  std::vector<uint16_t> out16(N + 64);
  for (int sizes : {0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, int(N) - 3}) {
    for (int off : {0, 1, 3}) {
      int n = std::min<int>(sizes, int(N) - off);
      for (Un op : {Un::neg, Un::abs, Un::relu}) {
        vec::unary(op, DType::f32, a.data() + off, out.data(), n);
        for (int i = 0; i < n; ++i)
          CHECK(same(out[i], ref_exact(op, a[off + i])), "%s f32 x=%a got %a", un_name(op),
                a[off + i], out[i]);
        vec::unary(op, DType::f16, a16.data() + off, out16.data(), n);
        for (int i = 0; i < n; ++i)
          CHECK(same16(out16[i], float_to_half(ref_exact(op, half_to_float(a16[off + i])))),
                "%s f16", un_name(op));
      }
      for (Bin op : {Bin::add, Bin::sub, Bin::mul, Bin::div}) {
        for (int sa = 0; sa <= 1; ++sa)
          for (int sb = 0; sb <= 1; ++sb) {
            vec::binary(op, DType::f32, a.data() + off, sa, b.data() + off, sb, out.data(), n);
            for (int i = 0; i < n; ++i)
              CHECK(same(out[i], ref_bin(op, a[off + i * sa], b[off + i * sb])),
                    "%s f32 sa=%d sb=%d", bin_name(op), sa, sb);
            vec::binary(op, DType::f16, a16.data() + off, sa, b16.data() + off, sb, out16.data(),
                        n);
            for (int i = 0; i < n; ++i) {
              float r =
                  ref_bin(op, half_to_float(a16[off + i * sa]), half_to_float(b16[off + i * sb]));
              CHECK(same16(out16[i], float_to_half(r)), "%s f16 sa=%d sb=%d", bin_name(op), sa, sb);
            }
          }
        for (int rev = 0; rev <= 1; ++rev) {
          float s = b[off + 5];
          vec::scalar(op, DType::f32, a.data() + off, s, rev, out.data(), n);
          for (int i = 0; i < n; ++i)
            CHECK(same(out[i], rev ? ref_bin(op, s, a[off + i]) : ref_bin(op, a[off + i], s)),
                  "scalar %s f32", bin_name(op));
          vec::scalar(op, DType::f16, a16.data() + off, s, rev, out16.data(), n);
          for (int i = 0; i < n; ++i) {
            float x = half_to_float(a16[off + i]);
            CHECK(same16(out16[i], float_to_half(rev ? ref_bin(op, s, x) : ref_bin(op, x, s))),
                  "scalar %s f16", bin_name(op));
          }
        }
      }
    }
  }
  // aliasing: out == a, out == b, y == x; broadcast operand overwritten by the output
  for (Bin op : {Bin::add, Bin::div}) {
    std::vector<float> c = a, d = b;
    vec::binary(op, DType::f32, c.data(), 1, d.data(), 1, c.data(), N);
    for (size_t i = 0; i < N; ++i)
      CHECK(same(c[i], ref_bin(op, a[i], b[i])), "alias a");
    c = a;
    vec::binary(op, DType::f32, c.data(), 1, d.data(), 1, d.data(), N);
    for (size_t i = 0; i < N; ++i)
      CHECK(same(d[i], ref_bin(op, a[i], b[i])), "alias b");
    c = a;
    d = b;
    vec::binary(op, DType::f32, c.data(), 0, d.data(), 1, c.data(), N);  // c[0] is the scalar
    for (size_t i = 0; i < N; ++i)
      CHECK(same(c[i], ref_bin(op, a[0], b[i])), "alias bcast");
  }
  {
    std::vector<float> c = a;
    vec::unary(Un::tanh, DType::f32, c.data(), c.data(), N);
    std::vector<float> d(N);
    vec::unary(Un::tanh, DType::f32, a.data(), d.data(), N);
    for (size_t i = 0; i < N; ++i)
      CHECK(same(c[i], d[i]), "alias unary");
  }
}

void check_large() {
  // Threads and streaming stores (>= 16 MB of output), misaligned output, and sums.
  const size_t N = (size_t(5) << 20) + 37;
  Buf<float> a(N + 8), b(N + 8), y1(N + 8), y2(N + 8);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (size_t i = 0; i < N + 8; ++i)
    a[i] = nd(rng), b[i] = nd(rng);
  for (Un op : {Un::relu, Un::tanh, Un::exp}) {
    set_num_threads(1);
    vec::unary(op, DType::f32, a.p + 1, y1.p + 1, N);
    set_num_threads(2);
    vec::unary(op, DType::f32, a.p + 1, y2.p + 3, N);
    bool ok = true;
    for (size_t i = 0; i < N; ++i)
      ok &= same(y1[i + 1], y2[i + 3]);
    CHECK(ok, "threads/stream %s", un_name(op));
  }
  vec::binary(Bin::add, DType::f32, a.p, 1, b.p + 1, 1, y1.p + 1, N);
  {
    bool ok = true;
    for (size_t i = 0; i < N; ++i)
      ok &= same(y1[i + 1], a[i] + b[i + 1]);
    CHECK(ok, "large add");
  }
  std::vector<uint16_t> h(N), h2(N);
  vec::f32_to_f16(a.p, h.data(), N);
  vec::unary(Un::sigmoid, DType::f16, h.data(), h2.data(), N);
  {
    bool ok = true;
    for (size_t i = 0; i < N; i += 97)
      ok &= h[i] == float_to_half(a[i]);
    CHECK(ok, "large f32_to_f16");
  }
  // sums: same bits on both paths and thread counts; close to float64
  for (size_t n : {size_t(1), size_t(31), size_t(4096), size_t(4097), size_t(100000), N}) {
    double exact = 0;
    for (size_t i = 0; i < n; ++i)
      exact += a[i];
    bool simd = cpu::simd();
    float s[4];
    int k = 0;
    for (bool p : {true, false})
      for (int t : {1, 2}) {
        cpu::set_simd(p && simd);
        set_num_threads(t);
        s[k++] = vec::sum(DType::f32, a.p, int64_t(n));
      }
    cpu::set_simd(simd);
    CHECK(same(s[0], s[1]) && same(s[0], s[2]) && same(s[0], s[3]), "sum n=%zu paths differ", n);
    double absum = 0;
    for (size_t i = 0; i < n; ++i)
      absum += std::fabs(a[i]);
    CHECK(std::fabs(s[0] - exact) <= 1e-6 * absum + 1e-6, "sum n=%zu err %g", n, s[0] - exact);
    vec::f32_to_f16(a.p, h.data(), int64_t(n));
    double e16 = 0;
    for (size_t i = 0; i < n; ++i)
      e16 += half_to_float(h[i]);
    float s16 = vec::sum(DType::f16, h.data(), int64_t(n));
    CHECK(std::fabs(s16 - e16) <= 1e-6 * absum + 1e-6, "sum16 n=%zu", n);
  }
  set_num_threads(2);
}

void check_conversions(uint32_t step) {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i)
    all[i] = uint16_t(i);
  std::vector<float> f(65536);
  vec::f16_to_f32(all.data(), f.data(), 65536);
  for (int i = 0; i < 65536; ++i)
    CHECK(same(f[i], half_to_float(uint16_t(i))), "f16_to_f32");
  // f32 -> f16 over every step-th bit pattern (step 1: all of them), bit-exact incl. NaN payload
  std::atomic<int64_t> bad{0};
  const int64_t chunk = 1 << 16;
  int64_t total = (int64_t(1) << 32) / step + 1;
  parallel_for((total + chunk - 1) / chunk, 1, [&](int64_t cb, int64_t ce) {
    std::vector<float> x(chunk);
    std::vector<uint16_t> y(chunk);
    for (int64_t c = cb; c < ce; ++c) {
      int64_t m = 0;
      for (int64_t k = c * chunk; k < std::min(total, (c + 1) * chunk); ++k)
        x[m++] = from_bits(uint32_t(uint64_t(k) * step));
      vec::f32_to_f16(x.data(), y.data(), m);
      for (int64_t i = 0; i < m; ++i)
        if (y[i] != float_to_half(x[i])) ++bad;
    }
  });
  CHECK(bad == 0, "f32_to_f16: %" PRId64 " mismatches", bad.load());
}

void run_checks(uint32_t step) {
  bool simd = cpu::simd();
  for (bool p : {true, false}) {
    if (p && !simd) continue;
    cpu::set_simd(p);
    int before = g_fail;
    check_paths();
    check_large();
    check_conversions(p ? step : step * 7);
    std::printf("check (%s path): %s\n", p ? "avx2" : "portable",
                g_fail == before ? "ok" : "FAILED");
  }
  cpu::set_simd(simd);
}

// ---------------------------------------------------------------------------------------------
// accuracy: every step-th float32 bit pattern (both signs), f32 path vs float64; and every
// float16 input of the f16 path vs the correctly rounded f32 result rounded to f16.

double ulp32(double r) {
  double a = std::fabs(r);
  if (a < 0x1p-126) return 0x1p-149;
  if (a >= 0x1p127) return 0x1p104;
  int e;
  std::frexp(a, &e);
  return std::ldexp(1.0, e - 24);
}

struct Acc {
  double max_ulp = 0, max_abs = 0;
  float at_ulp = 0, at_abs = 0;
  int64_t n = 0, specials_bad = 0, over1 = 0, over2 = 0;
  float bad_at = 0;
  void merge(const Acc& o) {
    if (o.max_ulp > max_ulp) max_ulp = o.max_ulp, at_ulp = o.at_ulp;
    if (o.max_abs > max_abs) max_abs = o.max_abs, at_abs = o.at_abs;
    if (o.specials_bad && !specials_bad) bad_at = o.bad_at;
    n += o.n, specials_bad += o.specials_bad, over1 += o.over1, over2 += o.over2;
  }
  void add(float x, float y, double r) {
    ++n;
    float rf = float(r);  // float64 -> float32 rounding (to inf above FLT_MAX + ulp/2)
    if (r != r || std::isinf(rf) || std::isinf(y) || y != y) {
      if (!same(y, rf)) {
        if (!specials_bad) bad_at = x;
        ++specials_bad;
      }
      return;
    }
    double u = std::fabs(double(y) - r) / ulp32(r);
    double ab = std::fabs(double(y) - r);
    if (u > 1) ++over1;
    if (u > 2) ++over2;
    if (u > max_ulp) max_ulp = u, at_ulp = x;
    if (ab > max_abs) max_abs = ab, at_abs = x;
  }
};

Acc sweep(Un op, uint32_t step) {
  Acc total;
  std::mutex mu;
  const int64_t chunk = 1 << 16;
  int64_t count = (int64_t(1) << 32) / step + 1;
  parallel_for((count + chunk - 1) / chunk, 1, [&](int64_t cb, int64_t ce) {
    std::vector<float> x(chunk), y(chunk);
    Acc acc;
    for (int64_t c = cb; c < ce; ++c) {
      int64_t m = 0;
      for (int64_t k = c * chunk; k < std::min(count, (c + 1) * chunk); ++k)
        x[m++] = from_bits(uint32_t(uint64_t(k) * step));
      vec::unary(op, DType::f32, x.data(), y.data(), m);
      for (int64_t i = 0; i < m; ++i)
        acc.add(x[i], y[i], ref_math(op, x[i]));
    }
    std::lock_guard<std::mutex> lk(mu);
    total.merge(acc);
  });
  return total;
}

void special_cases() {
  struct Case {
    Un op;
    float x, want;
  };
  const float inf = INFINITY;
  Case cases[] = {{Un::exp, -inf, 0.0f},
                  {Un::exp, inf, inf},
                  {Un::exp, 88.7228394f, inf},
                  {Un::exp, 88.72283f, 3.4e38f},
                  {Un::exp, -200.0f, 0.0f},
                  {Un::exp, -103.0f, 1e-45f},
                  {Un::exp, 0.0f, 1.0f},
                  {Un::exp, -0.0f, 1.0f},
                  {Un::log, 0.0f, -inf},
                  {Un::log, -0.0f, -inf},
                  {Un::log, -1.0f, NAN},
                  {Un::log, -inf, NAN},
                  {Un::log, inf, inf},
                  {Un::log, 1.0f, 0.0f},
                  {Un::log, 2e-45f, -102.58578f},
                  {Un::log, 1e-45f, -103.27893f},
                  {Un::tanh, 0.0f, 0.0f},
                  {Un::tanh, -0.0f, -0.0f},
                  {Un::tanh, 20.0f, 1.0f},
                  {Un::tanh, -1e30f, -1.0f},
                  {Un::tanh, inf, 1.0f},
                  {Un::tanh, -inf, -1.0f},
                  {Un::tanh, 1e-40f, 1e-40f},
                  {Un::sigmoid, -inf, 0.0f},
                  {Un::sigmoid, inf, 1.0f},
                  {Un::sigmoid, -1e30f, 0.0f},
                  {Un::sigmoid, 0.0f, 0.5f},
                  {Un::sigmoid, -0.0f, 0.5f},
                  {Un::sigmoid, 100.0f, 1.0f}};
  int bad = 0;
  for (const Case& c : cases) {
    for (Un op : {c.op}) {
      float y;
      vec::unary(op, DType::f32, &c.x, &y, 1);
      // exact where the answer is 0, +-1, inf or NaN; else within 2 ulp of float64
      bool ok = same(y, c.want);
      if (!(c.want == 0 || std::fabs(c.want) == 1 || std::isinf(c.want) || c.want != c.want)) {
        double r = ref_math(op, c.x);
        ok = !std::isinf(y) && std::fabs(y - r) <= 2 * ulp32(r);
      }
      if (!ok) {
        std::printf("  special %s(%a) = %a, want %a\n", un_name(op), c.x, y, c.want);
        ++bad;
      }
    }
  }
  for (Un op : {Un::exp, Un::log, Un::tanh, Un::sigmoid}) {  // NaN in, NaN out
    float x[9] = {NAN, 1, NAN, 2, 3, 4, 5, 6, -NAN}, y[9];
    vec::unary(op, DType::f32, x, y, 9);
    if (!(y[0] != y[0] && y[2] != y[2] && y[8] != y[8])) {
      std::printf("  special %s(NaN) is not NaN\n", un_name(op));
      ++bad;
    }
  }
  g_fail += bad;
  std::printf("special cases (%s): %s\n", cpu::simd() ? "avx2" : "portable", bad ? "FAILED" : "ok");
}

void run_accuracy(uint32_t step, bool also_portable) {
  std::printf("\naccuracy vs float64, every %u-th float32 bit pattern (%" PRId64 " inputs)\n", step,
              (int64_t(1) << 32) / step + 1);
  bool simd = cpu::simd();
  for (bool p : {true, false}) {
    if ((p && !simd) || (!p && !also_portable)) continue;
    cpu::set_simd(p);
    special_cases();
    std::printf("%-8s %-9s %10s %14s %10s %14s %10s %10s %8s\n", "path", "op", "max ulp", "at x",
                "max abs", "at x", ">1 ulp", ">2 ulp", "special");
    for (Un op : {Un::exp, Un::log, Un::tanh, Un::sigmoid}) {
      Acc a = sweep(op, step);
      std::printf("%-8s %-9s %10.3f %14.7g %10.3g %14.7g %10" PRId64 " %10" PRId64 " %8" PRId64
                  "\n",
                  p ? "avx2" : "portable", un_name(op), a.max_ulp, a.at_ulp, a.max_abs, a.at_abs,
                  a.over1, a.over2, a.specials_bad);
      if (a.specials_bad) std::printf("  first special mismatch at x=%a\n", a.bad_at);
      if (p && (a.max_ulp > 2.5 || a.specials_bad)) ++g_fail;
    }
    // f16: all 65536 inputs, against float_to_half(correctly rounded f32 result)
    std::vector<uint16_t> x(65536), y(65536);
    for (int i = 0; i < 65536; ++i)
      x[i] = uint16_t(i);
    for (Un op : {Un::exp, Un::log, Un::tanh, Un::sigmoid}) {
      vec::unary(op, DType::f16, x.data(), y.data(), 65536);
      int mism = 0, maxd = 0;
      for (int i = 0; i < 65536; ++i) {
        uint16_t want = float_to_half(float(ref_math(op, half_to_float(x[i]))));
        if (same16(y[i], want)) continue;
        ++mism;
        int d = std::abs(int(y[i]) - int(want));
        if (((y[i] ^ want) & 0x8000) || (y[i] & 0x7c00) == 0x7c00) d = 1 << 20;
        maxd = std::max(maxd, d);
      }
      std::printf(
          "%-8s %-9s f16: all 65536 inputs, %d differ from the correctly rounded "
          "result, by at most %d f16 ulp\n",
          p ? "avx2" : "portable", un_name(op), mism, maxd);
      if (p && maxd > 1) ++g_fail;
    }
  }
  cpu::set_simd(simd);
}

// ---------------------------------------------------------------------------------------------
// speed

template <class F>
double best_time(F f, double budget) {  // best-of timing, at least 3 batches
  f();
  double one = 0;
  {
    double t0 = now();
    f();
    one = std::max(now() - t0, 1e-9);
  }
  int64_t per = std::max<int64_t>(1, int64_t(0.005 / one));
  double best = 1e30, start = now();
  int batches = 0;
  while (batches < 3 || now() - start < budget) {
    double t0 = now();
    for (int64_t k = 0; k < per; ++k)
      f();
    best = std::min(best, (now() - t0) / double(per));
    ++batches;
  }
  return best;
}

void run_speed(bool quick, bool portable) {
  bool simd = cpu::simd();
  if (portable) cpu::set_simd(false);
  const double budget = quick ? 0.03 : 0.25;
  const int64_t NMAX = 10000000;
  std::vector<int64_t> sizes = {1000, 100000, NMAX};
  Buf<float> fa(NMAX), fb(NMAX), fc(NMAX), pos(NMAX);
  Buf<uint16_t> ha(NMAX), hb(NMAX), hc(NMAX), hpos(NMAX);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::uniform_real_distribution<float> ud(-4.0f, 4.0f);
  for (int64_t i = 0; i < NMAX; ++i) {
    fa[i] = nd(rng);
    fb[i] = nd(rng);
    fc[i] = 0;
    pos[i] = std::exp(ud(rng));
  }
  vec::f32_to_f16(fa.p, ha.p, NMAX);
  vec::f32_to_f16(fb.p, hb.p, NMAX);
  vec::f32_to_f16(pos.p, hpos.p, NMAX);
  vec::f32_to_f16(fc.p, hc.p, NMAX);

  std::printf("\nspeed (%s path), GB/s = (bytes read + bytes written) / best time\n",
              cpu::simd() ? "avx2" : "portable");
  // reference: STREAM triad a = b + s*c, normal stores
  double triad[3] = {0, 0, 0};
  for (int t : {1, 2}) {
    set_num_threads(t);
    double s = 1.5;
    double sec = best_time(
        [&] {
          parallel_for(NMAX, 1 << 16, [&](int64_t b, int64_t e) {
            float* a = fc.p;
            const float* x = fa.p;
            const float* y = fb.p;
            const float sf = float(s);
            for (int64_t i = b; i < e; ++i)
              a[i] = x[i] + sf * y[i];
          });
        },
        budget);
    triad[t] = 12.0 * NMAX / sec / 1e9;
    std::printf("triad reference (1e7 f32, normal stores), %d thread%s: %.1f GB/s\n", t,
                t > 1 ? "s" : "", triad[t]);
  }
  struct Op {
    const char* name;
    int kind;  // 0 unary, 1 binary
    Un u;
    Bin b;
  };
  Op ops[] = {{"add", 1, Un::neg, Bin::add},        {"mul", 1, Un::neg, Bin::mul},
              {"relu", 0, Un::relu, Bin::add},      {"exp", 0, Un::exp, Bin::add},
              {"log", 0, Un::log, Bin::add},        {"tanh", 0, Un::tanh, Bin::add},
              {"sigmoid", 0, Un::sigmoid, Bin::add}};
  std::printf("%-8s %-4s %3s %10s %10s %10s   %s\n", "op", "dt", "thr", "n=1e3", "n=1e5", "n=1e7",
              "1e7 vs triad");
  for (const Op& op : ops)
    for (DType dt : {DType::f32, DType::f16})
      for (int t : {1, 2}) {
        set_num_threads(t);
        std::printf("%-8s %-4s %3d", op.name, dt == DType::f32 ? "f32" : "f16", t);
        double last = 0;
        for (int64_t n : sizes) {
          size_t isz = dt == DType::f32 ? 4 : 2;
          const void* x = dt == DType::f32 ? (const void*)fa.p : (const void*)ha.p;
          if (op.u == Un::log) x = dt == DType::f32 ? (const void*)pos.p : (const void*)hpos.p;
          const void* y = dt == DType::f32 ? (const void*)fb.p : (const void*)hb.p;
          void* out = dt == DType::f32 ? (void*)fc.p : (void*)hc.p;
          double sec;
          if (op.kind == 1)
            sec = best_time([&] { vec::binary(op.b, dt, x, 1, y, 1, out, n); }, budget);
          else
            sec = best_time([&] { vec::unary(op.u, dt, x, out, n); }, budget);
          last = double(n) * isz * (op.kind == 1 ? 3 : 2) / sec / 1e9;
          std::printf(" %10.1f", last);
        }
        std::printf("   %5.0f%%\n", 100.0 * last / triad[t]);
      }
  // sum
  for (DType dt : {DType::f32, DType::f16})
    for (int t : {1, 2}) {
      set_num_threads(t);
      std::printf("%-8s %-4s %3d", "sum", dt == DType::f32 ? "f32" : "f16", t);
      double last = 0;
      for (int64_t n : sizes) {
        const void* x = dt == DType::f32 ? (const void*)fa.p : (const void*)ha.p;
        volatile float sink = 0;
        double sec = best_time([&] { sink = vec::sum(dt, x, n); }, budget);
        (void)sink;
        last = double(n) * (dt == DType::f32 ? 4 : 2) / sec / 1e9;
        std::printf(" %10.1f", last);
      }
      std::printf("   %5.0f%%\n", 100.0 * last / triad[t]);
    }
  set_num_threads(2);
  cpu::set_simd(simd);
}

void run_numpy(bool quick) {
  // NumPy on the same machine, same sizes, float32 and float16, writing into preallocated out=.
  std::string py = std::string(R"PY(
import numpy as np, time, os
quick = )PY") + (quick ? "True" : "False") +
                   R"PY(
rng = np.random.default_rng(0)
print("numpy", np.__version__, "(out= preallocated; GB/s as above; f16 computed by NumPy's own f16 loops)")
print("%-8s %-4s %10s %10s %10s" % ("op", "dt", "n=1e3", "n=1e5", "n=1e7"))
def best(f, budget):
    f(); t0 = time.perf_counter(); f(); one = max(time.perf_counter() - t0, 1e-9)
    per = max(1, int(0.005 / one)); b = 1e30; st = time.perf_counter(); k = 0
    while k < 3 or time.perf_counter() - st < budget:
        t0 = time.perf_counter()
        for _ in range(per): f()
        b = min(b, (time.perf_counter() - t0) / per); k += 1
    return b
ops = [("add", np.add, 2), ("mul", np.multiply, 2), ("relu", None, 1), ("exp", np.exp, 1),
       ("log", np.log, 1), ("tanh", np.tanh, 1), ("sigmoid", None, 1)]
for name, fn, k in ops:
    for dt in (np.float32, np.float16):
        row = []
        for n in (1000, 100000, 10000000):
            a = rng.standard_normal(n).astype(dt); b = rng.standard_normal(n).astype(dt)
            if name == "log": a = np.exp(rng.uniform(-4, 4, n)).astype(dt)
            o = np.empty(n, dt)
            if name == "relu": f = lambda: np.maximum(a, 0, out=o)
            elif name == "sigmoid":
                def f():
                    np.negative(a, out=o); np.exp(o, out=o); o.__iadd__(1); np.reciprocal(o, out=o)
            elif k == 2: f = lambda: fn(a, b, out=o)
            else: f = lambda: fn(a, out=o)
            s = best(f, 0.03 if quick else 0.25)
            row.append(n * a.itemsize * (k + 1) / s / 1e9)
        print("%-8s %-4s %10.1f %10.1f %10.1f" % (name, np.dtype(dt).name[:1] + str(np.dtype(dt).itemsize * 8), *row))
)PY";
  std::string cmd = "OMP_NUM_THREADS=1 python3 - <<'EOF'\n" + py + "\nEOF\n";
  std::printf("\n");
  std::fflush(stdout);
  int rc = std::system(cmd.c_str());
  if (rc != 0) std::printf("(numpy comparison failed: %d)\n", rc);
}

}  // namespace

int main(int argc, char** argv) {
  bool do_check = false, do_acc = false, do_speed = false, do_numpy = false, quick = false,
       portable = false;
  uint32_t step = 17;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "check")
      do_check = true;
    else if (a == "accuracy")
      do_acc = true;
    else if (a == "speed")
      do_speed = true;
    else if (a == "numpy")
      do_numpy = true;
    else if (a == "--quick")
      quick = true;
    else if (a == "--portable")
      portable = true;
    else if (a == "--step" && i + 1 < argc)
      step = uint32_t(std::max(1, std::atoi(argv[++i])));
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (!do_check && !do_acc && !do_speed && !do_numpy)
    do_check = do_acc = do_speed = do_numpy = true;
  if (quick && step == 17) step = 1001;
  std::printf("tapegrad vec kernels: %s path (TAPEGRAD_NO_SIMD=1 forces portable), %d threads\n",
              cpu::simd() ? "avx2" : "portable", get_num_threads());
  if (do_check) run_checks(quick ? 4099 : 97);
  if (do_acc) run_accuracy(step, !quick);
  if (do_speed) run_speed(quick, portable);
  if (do_numpy) run_numpy(quick);
  if (g_fail) std::printf("\n%d FAILURES\n", g_fail);
  return g_fail ? 1 : 0;
}
