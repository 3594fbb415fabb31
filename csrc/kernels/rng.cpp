// PyTorch-compatible random numbers (see rng.h and docs/random.md).
//
// Everything here was checked against PyTorch 2.13 (CPU, AVX2 kernels) bit for bit; the NumPy
// fallback (python/tapegrad/_random_engine.py) does the same steps and is tested against this.
#include "kernels/rng.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

#include "core/cpu.h"
#include "kernels/optim.h"  // fma_arrays_avx2: four or eight lanes per instruction

namespace tg {
namespace rng {

namespace {

constexpr int kMtM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpper = 0x80000000U;
constexpr uint32_t kLower = 0x7fffffffU;
constexpr double kPi = 3.14159265358979323846;

// Byte offsets of PyTorch's CPUGeneratorImplState (a THGeneratorState followed by the float
// normal cache).
constexpr size_t kOffSeed = 0, kOffLeft = 8, kOffSeeded = 12, kOffNext = 16, kOffMt = 24,
                 kOffNormalY = 5024, kOffNormalValid = 5040, kOffNextFloat = 5048,
                 kOffNextFloatValid = 5052;

template <class T>
void put(uint8_t* p, size_t off, T v) {
  std::memcpy(p + off, &v, sizeof v);
}

template <class T>
T get(const uint8_t* p, size_t off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

// 24 random bits scaled to [0, 1): PyTorch's uniform_real_distribution<float>(0, 1).
inline float unit_float(uint32_t r) {
  return static_cast<float>(r & 0xFFFFFFu) * (1.0f / 16777216.0f);
}

// 53 random bits scaled to [0, 1): uniform_real_distribution<double>(0, 1).
inline double unit_double(uint64_t r) {
  return static_cast<double>(r & ((uint64_t{1} << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// ---- the single-precision log and sin/cos of PyTorch's AVX2 normal fill ----
//
// PyTorch's AVX2 kernels evaluate these with Cephes-style polynomials (ATen's avx_mathfun.h),
// and the compiler fuses each multiply feeding an add into one FMA. The scalar functions below
// follow the same arithmetic step by step, with every fused step written as std::fma, so their
// results are the same floats. Every multiply left unfused feeds a multiply, a square root or a
// conversion, never an add, so contracting (or not) cannot change what this file computes.

constexpr float kLogP[9] = {7.0376836292E-2f,  -1.1514610310E-1f, 1.1676998740E-1f,
                            -1.2420140846E-1f, 1.4249322787E-1f,  -1.6668057665E-1f,
                            2.0000714765E-1f,  -2.4999993993E-1f, 3.3333331174E-1f};
constexpr float kLogQ1 = -2.12194440e-4f;
constexpr float kLogQ2 = 0.693359375f;
constexpr float kSqrtHalf = 0.707106781186547524f;

// Natural log for x > 0 (NaN for x <= 0), as the AVX2 kernel computes it.
float cephes_logf(float x) {
  if (!(x > 0.0f)) return std::nanf("");
  x = std::max(x, 1.17549435e-38f);  // flush subnormals to the smallest normal
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 0x7f) + 1.0f;
  bits = (bits & ~0x7f800000u) | 0x3f000000u;  // mantissa with exponent of 0.5: m in [0.5, 1)
  float m;
  std::memcpy(&m, &bits, 4);
  const bool small = m < kSqrtHalf;
  const float extra = small ? m : 0.0f;
  m = m - 1.0f;
  if (small) e = e - 1.0f;
  m = m + extra;
  const float z = m * m;
  float y = kLogP[0];
  for (int k = 1; k < 9; ++k)
    y = std::fma(y, m, kLogP[k]);
  y = y * m;
  y = std::fma(y, z, e * kLogQ1);
  y = y - z * 0.5f;
  m = m + y;
  return std::fma(e, kLogQ2, m);
}

constexpr float kFourOverPi = 1.27323954473516f;
constexpr float kDp1 = -0.78515625f, kDp2 = -2.4187564849853515625e-4f,
                kDp3 = -3.77489497744594108e-8f;
constexpr float kSin0 = -1.9515295891E-4f, kSin1 = 8.3321608736E-3f, kSin2 = -1.6666654611E-1f;
constexpr float kCos0 = 2.443315711809948E-005f, kCos1 = -1.388731625493765E-003f,
                kCos2 = 4.166664568298827E-002f;

// sin and cos of x (accurate for |x| < 8192), octant reduction then two polynomials.
void cephes_sincosf(float x, float* s, float* c) {
  bool sin_negative = std::signbit(x);
  x = std::fabs(x);
  int32_t j = static_cast<int32_t>(x * kFourOverPi);  // truncation, like cvttps
  j = (j + 1) & ~1;
  const float y = static_cast<float>(j);
  const bool swap_sin = (j & 4) != 0;
  const bool first_poly_is_cos = (j & 2) == 0;
  const bool cos_negative = ((~(j - 2)) & 4) != 0;
  sin_negative = sin_negative != swap_sin;
  x = std::fma(y, kDp1, x);  // extended-precision reduction by multiples of pi/4
  x = std::fma(y, kDp2, x);
  x = std::fma(y, kDp3, x);
  const float z = x * x;
  float pc = std::fma(kCos0, z, kCos1);
  pc = std::fma(pc, z, kCos2);
  pc = pc * z;
  pc = std::fma(pc, z, -(z * 0.5f));
  pc = pc + 1.0f;
  float ps = std::fma(kSin0, z, kSin1);
  ps = std::fma(ps, z, kSin2);
  ps = ps * z;
  ps = std::fma(ps, x, x);
  // The kernel selects with bit masks and adds a +0.0 to each result; keep that for signed zeros.
  float sv, cv;
  if (first_poly_is_cos) {
    sv = 0.0f + ps;
    cv = pc + 0.0f;
  } else {
    sv = pc + 0.0f;
    cv = 0.0f + ps;
  }
  *s = sin_negative ? -sv : sv;
  *c = cos_negative ? -cv : cv;
}

}  // namespace

namespace {

inline void fill16_body(float* data, float mean, float std) {
  const float two_pi = static_cast<float>(2.0 * kPi);
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - data[j];  // [0, 1) -> (0, 1] for the log
    const float u2 = data[j + 8];
    const float radius = std::sqrt(-2.0f * cephes_logf(u1));
    const float theta = two_pi * u2;
    float s, c;
    cephes_sincosf(theta, &s, &c);
    const float n1 = radius * c;
    const float n2 = radius * s;
    data[j] = std::fma(n1, std, mean);
    data[j + 8] = std::fma(n2, std, mean);
  }
}

// Same arithmetic with the hardware FMA instruction instead of a libm call (std::fma rounds once
// either way, so the results are identical; this only makes it ~5x faster).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("fma"))) void fill16_fma(float* data, float mean, float std) {
  fill16_body(data, mean, std);
}
__attribute__((target("fma"))) void uniform_fma(float* out, int64_t n, const uint32_t* r,
                                                float range, float from) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(unit_float(r[i]), range, from);
}
const bool kHaveFma = cpu::has_avx2();  // AVX2 machines have FMA (core/cpu.h)
#else
const bool kHaveFma = false;
void fill16_fma(float* data, float mean, float std) {
  fill16_body(data, mean, std);
}
void uniform_fma(float* out, int64_t n, const uint32_t* r, float range, float from) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(unit_float(r[i]), range, from);
}
#endif

}  // namespace

namespace {

// PyTorch's generic NormalFill16 for float, which its `default` capability build runs: the C
// library's logf/cosf/sinf, theta formed in double, an explicit fma at the end. tapegrad's
// portable path (TAPEGRAD_NO_SIMD=1) follows it.
void normal_fill16_generic(float* data, float mean, float std) {
  for (int j = 0; j < 8; ++j) {
    const float u1 = 1.0f - data[j];
    const float u2 = data[j + 8];
    const float radius = std::sqrt(-2.0f * std::log(u1));
    const float theta = static_cast<float>(2.0 * kPi * static_cast<double>(u2));
    data[j] = std::fma(radius * std::cos(theta), std, mean);
    data[j + 8] = std::fma(radius * std::sin(theta), std, mean);
  }
}

// Without FMA contraction (PyTorch's `default` build): x * range rounds before the addition.
void uniform_plain(float* out, int64_t n, const uint32_t* r, float range, float from) {
  for (int64_t i = 0; i < n; ++i) {
    const volatile float scaled = unit_float(r[i]) * range;
    out[i] = scaled + from;
  }
}

}  // namespace

void normal_fill16(float* data, float mean, float std) {
  if (!cpu::simd()) {
    normal_fill16_generic(data, mean, std);
    return;
  }
  if (kHaveFma)
    fill16_fma(data, mean, std);
  else
    fill16_body(data, mean, std);
}

namespace {

template <class T>
void fma_loop(const T* a, const T* b, const T* c, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(a[i], b[i], c[i]);
}

// The same loop compiled for FMA: one instruction per element instead of a libm call.
#if defined(__x86_64__) && defined(__GNUC__)
template <class T>
__attribute__((target("fma"))) void fma_loop_hw(const T* a, const T* b, const T* c, T* out,
                                                int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(a[i], b[i], c[i]);
}
#else
template <class T>
void fma_loop_hw(const T* a, const T* b, const T* c, T* out, int64_t n) {
  fma_loop(a, b, c, out, n);
}
#endif

}  // namespace

namespace {
template <class T>
void fma_array_t(const T* a, const T* b, const T* c, T* out, int64_t n) {
#if TG_HAVE_AVX2
  if (cpu::simd()) return detail::fma_arrays_avx2(a, b, c, out, n);
#endif
  if (kHaveFma)
    fma_loop_hw(a, b, c, out, n);
  else
    fma_loop(a, b, c, out, n);
}
}  // namespace

void fma_array(const float* a, const float* b, const float* c, float* out, int64_t n) {
  fma_array_t(a, b, c, out, n);
}

void fma_array(const double* a, const double* b, const double* c, double* out, int64_t n) {
  fma_array_t(a, b, c, out, n);
}

uint64_t nondeterministic_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

// ---------------------------------------------------------------- the engine

void Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  mt_[0] = static_cast<uint32_t>(seed);
  for (int i = 1; i < kMtN; ++i)
    mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  left_ = 1;
  next_ = 0;
  has_next_double_ = false;
  next_double_ = 0.0;
  has_next_float_ = false;
  next_float_ = 0.0f;
}

void Generator::twist() {
  for (int i = 0; i < kMtN; ++i) {
    const uint32_t y = (mt_[i] & kUpper) | (mt_[(i + 1) % kMtN] & kLower);
    mt_[i] = mt_[(i + kMtM) % kMtN] ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
  }
  left_ = kMtN;
  next_ = 0;
}

uint32_t Generator::random() {
  if (--left_ == 0) twist();
  uint32_t y = mt_[next_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= y >> 18;
  return y;
}

uint64_t Generator::random64() {
  const uint64_t hi = random();
  const uint64_t lo = random();
  return (hi << 32) | lo;
}

void Generator::uniform(float* out, int64_t n, double from, double to) {
  const float f = static_cast<float>(from);
  const float range = static_cast<float>(to) - f;
  uint32_t r[256];
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t k = std::min<int64_t>(256, n - i);
    for (int64_t j = 0; j < k; ++j)
      r[j] = random();
    if (cpu::simd())
      uniform_fma(out + i, k, r, range, f);
    else
      uniform_plain(out + i, k, r, range, f);
  }
}

void Generator::uniform(double* out, int64_t n, double from, double to) {
  const double range = to - from;
  if (cpu::simd()) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = std::fma(unit_double(random64()), range, from);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const volatile double scaled = unit_double(random64()) * range;
    out[i] = scaled + from;
  }
}

namespace {

// normal_distribution's `z * std + mean`: fused by PyTorch's AVX2 build, rounded twice by its
// `default` build (tapegrad's portable path).
double scale_shift(double z, double std, double mean) {
  if (cpu::simd()) return std::fma(z, std, mean);
  const volatile double scaled = z * std;
  return scaled + mean;
}

}  // namespace

double Generator::normal_double() {
  if (has_next_double_) {
    has_next_double_ = false;
    return next_double_;
  }
  const double u1 = unit_double(random64());
  const double u2 = unit_double(random64());
  const double r = std::sqrt(-2.0 * std::log1p(-u2));
  const double theta = 2.0 * kPi * u1;
  next_double_ = r * std::sin(theta);
  has_next_double_ = true;
  return r * std::cos(theta);
}

void Generator::normal(float* out, int64_t n, double mean, double std, bool half_blocks) {
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(scale_shift(normal_double(), std, mean));
    return;
  }
  const float m = static_cast<float>(mean), s = static_cast<float>(std);
  if (!half_blocks) {
    // float32: all uniforms first, then blocks of 16; a ragged end redoes the last 16 values
    // with fresh uniforms.
    for (int64_t i = 0; i < n; ++i)
      out[i] = unit_float(random());
    for (int64_t i = 0; i + 16 <= n; i += 16)
      normal_fill16(out + i, m, s);
    if (n % 16 != 0) {
      float* tail = out + n - 16;
      for (int i = 0; i < 16; ++i)
        tail[i] = unit_float(random());
      normal_fill16(tail, m, s);
    }
    return;
  }
  // float16 outputs: PyTorch draws and transforms one block of 16 at a time in a float buffer.
  float buf[16];
  auto block = [&](float* dst) {
    for (int i = 0; i < 16; ++i)
      buf[i] = unit_float(random());
    normal_fill16(buf, m, s);
    std::memcpy(dst, buf, sizeof buf);
  };
  for (int64_t i = 0; i + 16 <= n; i += 16)
    block(out + i);
  if (n % 16 != 0) block(out + n - 16);
}

namespace {

// PyTorch's generic normal_fill_16 for double: libm's log, cos and sin (not the Cephes
// polynomials of the float kernel), the final scale-and-shift fused.
void normal_fill16_double(double* data, double mean, double std) {
  const double two_pi = 2.0 * kPi;
  for (int j = 0; j < 8; ++j) {
    const double u1 = 1.0 - data[j];
    const double u2 = data[j + 8];
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double theta = two_pi * u2;
    data[j] = std::fma(radius * std::cos(theta), std, mean);
    data[j + 8] = std::fma(radius * std::sin(theta), std, mean);
  }
}

}  // namespace

void Generator::normal(double* out, int64_t n, double mean, double std) {
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i)
      out[i] = scale_shift(normal_double(), std, mean);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    out[i] = unit_double(random64());
  for (int64_t i = 0; i + 16 <= n; i += 16)
    normal_fill16_double(out + i, mean, std);
  if (n % 16 != 0) {  // as for float: the last 16 values again, from fresh uniforms
    double* tail = out + n - 16;
    for (int i = 0; i < 16; ++i)
      tail[i] = unit_double(random64());
    normal_fill16_double(tail, mean, std);
  }
}

void Generator::randint(int64_t* out, int64_t n, int64_t low, int64_t high) {
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const uint64_t base = static_cast<uint64_t>(low);
  const bool wide = range >= (uint64_t{1} << 28);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t v = wide ? random64() : random();
    out[i] = static_cast<int64_t>(v % range + base);
  }
}

void Generator::randperm(int64_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = i;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const int64_t z = static_cast<int64_t>(random() % static_cast<uint64_t>(n - i));
    std::swap(out[i], out[z + i]);
  }
}

void Generator::get_state(uint8_t* p) const {
  std::memset(p, 0, kStateBytes);
  put<uint64_t>(p, kOffSeed, seed_);
  put<int32_t>(p, kOffLeft, left_);
  put<int32_t>(p, kOffSeeded, 1);
  put<uint64_t>(p, kOffNext, next_);
  for (int i = 0; i < kMtN; ++i)
    put<uint64_t>(p, kOffMt + 8 * static_cast<size_t>(i), mt_[i]);
  if (has_next_double_) {  // where PyTorch keeps its cached double normal sample
    put<double>(p, kOffNormalY, next_double_);
    put<int32_t>(p, kOffNormalValid, 1);
  }
  put<float>(p, kOffNextFloat, next_float_);
  put<uint8_t>(p, kOffNextFloatValid, has_next_float_ ? 1 : 0);
}

void Generator::set_state(const uint8_t* p, size_t nbytes) {
  if (nbytes != kStateBytes)
    throw std::invalid_argument(
        "Expected a CPUGeneratorImplState of size " + std::to_string(kStateBytes) +
        " but found the input RNG state size to be " + std::to_string(nbytes));
  const int32_t left = get<int32_t>(p, kOffLeft);
  const int32_t seeded = get<int32_t>(p, kOffSeeded);
  const uint64_t next = get<uint64_t>(p, kOffNext);
  if (seeded != 1 || left <= 0 || left > kMtN || next > static_cast<uint64_t>(kMtN))
    throw std::invalid_argument("Invalid mt19937 state");
  seed_ = get<uint64_t>(p, kOffSeed);
  left_ = left;
  next_ = next;
  for (int i = 0; i < kMtN; ++i)
    mt_[i] = static_cast<uint32_t>(get<uint64_t>(p, kOffMt + 8 * static_cast<size_t>(i)));
  has_next_double_ = get<int32_t>(p, kOffNormalValid) != 0;
  next_double_ = has_next_double_ ? get<double>(p, kOffNormalY) : 0.0;
  has_next_float_ = get<uint8_t>(p, kOffNextFloatValid) != 0;
  next_float_ = has_next_float_ ? get<float>(p, kOffNextFloat) : 0.0f;
}

}  // namespace rng
}  // namespace tg
