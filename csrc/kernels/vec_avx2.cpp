// AVX2 + FMA + F16C elementwise kernels, chosen at run time by vec.cpp (see vec.h for the
// contract). CMakeLists.txt compiles *_avx2.cpp with -mavx2 -mfma -mf16c and nothing else, so
// nothing here may run before the CPU check: no namespace-scope objects with dynamic
// initialisation, and every helper has internal linkage (an inline function with external
// linkage compiled here could be the copy the linker keeps for portable callers too). The
// K-vector machinery shared by such files is in simd_avx2.h, which also checks the flags.
//
// The polynomial coefficients were fitted in float64 by benchmarks/vec_fit.py (Lawson's
// iteratively reweighted least squares, i.e. minimax in relative error) and rounded to float32;
// benchmarks/vec_bench.cpp measures the resulting errors against float64 on every float32.
#include "kernels/vec.h"

#if TG_HAVE_AVX2
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/pmath_avx2.h"  // PyTorch's (SLEEF's) exp and pow
#include "kernels/simd_avx2.h"   // V<K>, the F32/F16 layouts and the map1/map2 loops

namespace tg::vec::detail {

namespace {

// ---------------------------------------------------------------------------------------------
// Math.

template <int K>
TG_INLINE V<K> neg_v(V<K> x) {
  return x ^ sign_bit<K>();
}
template <int K>
TG_INLINE V<K> abs_v(V<K> x) {
  return andnot(sign_bit<K>(), x);
}
// PyTorch's relu: x < 0 gives +0; everything else (including -0 and NaN) keeps x.
template <int K>
TG_INLINE V<K> relu_v(V<K> x) {
  return x & cmp<_CMP_NLT_UQ>(x, splat<K>(0.0f));
}

constexpr float kMagic = 0x1.8p23f;      // t = y + kMagic rounds y to the integer in t's low bits
constexpr float kLn2Hi = 0x1.62e43p-1f;  // float(ln 2): n*kLn2Hi - y is exact for |n| < 2^7
constexpr float kLn2Lo = -1.904654323e-09f;  // ln 2 - kLn2Hi

// 2^n for t = kMagic + n, n in [-126, 127] (plus c added to n).
template <int K>
TG_INLINE V<K> pow2_of(V<K> t, int c = 0) {
  const int bias = 127 + c - 0x4b400000;  // 0x4b400000 = bits of kMagic
  V<K> r;
  TG_EACH r.v[k] = _mm256_castsi256_ps(_mm256_slli_epi32(
      _mm256_add_epi32(_mm256_castps_si256(t.v[k]), _mm256_set1_epi32(bias)), 23));
  return r;
}

// exp: x = n ln2 + r, |r| <= ln2/2, e^x = 2^n p(r), p(r) = 1 + r + r^2 (c2 + ... + c6 r^4)
// (relative error of p 3.1e-9; the reduction is exact up to the n*kLn2Lo term). Returns p and
// t = kMagic + n.
template <int K>
TG_INLINE V<K> exp_poly(V<K> x, V<K>& t) {
  const V<K> magic = splat<K>(kMagic);
  t = fma(x, splat<K>(1.44269504088896341f), magic);
  V<K> nf = t - magic;
  V<K> r = fnma(nf, splat<K>(kLn2Hi), x);
  r = fnma(nf, splat<K>(kLn2Lo), r);
  V<K> p = splat<K>(1.381419017e-03f);
  p = fma(p, r, splat<K>(8.368914016e-03f));
  p = fma(p, r, splat<K>(4.166840762e-02f));
  p = fma(p, r, splat<K>(1.666651964e-01f));
  p = fma(p, r, splat<K>(4.999999404e-01f));
  p = fma(p, r, splat<K>(1.0f));
  return fma(p, r, splat<K>(1.0f));
}

// Any input: clamps to [-104, 89] (a NaN passes through min/max as their second operand) and
// scales by 2^n in two exact steps, so overflow gives inf and underflow rounds once into the
// subnormals. When every lane is in [-87, 88] one step suffices.
template <int K>
TG_INLINE V<K> exp_v(V<K> x) {
  V<K> t;
  if (all(cmp<_CMP_GE_OQ>(x, splat<K>(-87.0f)) & cmp<_CMP_LE_OQ>(x, splat<K>(88.0f)))) {
    V<K> p = exp_poly(x, t);
    return p * pow2_of(t);
  }
  x = max(splat<K>(-104.0f), min(splat<K>(89.0f), x));
  V<K> p = exp_poly(x, t);
  V<K> s1, s2;
  TG_EACH {
    __m256i n = _mm256_sub_epi32(_mm256_castps_si256(t.v[k]), _mm256_set1_epi32(0x4b400000));
    __m256i n1 = _mm256_srai_epi32(n, 1);
    __m256i n2 = _mm256_sub_epi32(n, n1);
    s1.v[k] =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    s2.v[k] =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
  }
  return (p * s1) * s2;
}

// log: x = 2^e m with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact),
// log x = e ln2 + f - f^2/2 + f^3 P(f), P of degree 7 (relative error of the sum 5.8e-9).
// x must be positive and normal; eadd is added to e (subnormal inputs are pre-scaled by 2^23).
template <int K>
TG_INLINE V<K> log_core(V<K> x, V<K> eadd) {
  V<K> e, m;
  TG_EACH {
    __m256i ix = _mm256_sub_epi32(_mm256_castps_si256(x.v[k]), _mm256_set1_epi32(0x3f3504f3));
    e.v[k] = _mm256_cvtepi32_ps(_mm256_srai_epi32(ix, 23));
    m.v[k] = _mm256_castsi256_ps(_mm256_add_epi32(
        _mm256_and_si256(ix, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f3504f3)));
  }
  e = e + eadd;
  V<K> f = m - splat<K>(1.0f);
  V<K> z = f * f;
  V<K> p = splat<K>(-7.634496689e-02f);
  p = fma(p, f, splat<K>(1.276157647e-01f));
  p = fma(p, f, splat<K>(-1.316018254e-01f));
  p = fma(p, f, splat<K>(1.420175731e-01f));
  p = fma(p, f, splat<K>(-1.662335694e-01f));
  p = fma(p, f, splat<K>(2.000122666e-01f));
  p = fma(p, f, splat<K>(-2.500081956e-01f));
  p = fma(p, f, splat<K>(3.333333135e-01f));
  V<K> y = (f * z) * p;
  y = fma(e, splat<K>(-2.12194440e-4f), y);  // ln2 - 0.693359375
  y = fma(z, splat<K>(-0.5f), y);
  V<K> r = f + y;
  return fma(e, splat<K>(0.693359375f), r);  // 9 significant bits: e*0.693359375 is exact
}

template <int K>
TG_INLINE V<K> log_v(V<K> x) {
  const V<K> lo = splat<K>(0x1p-126f), hi = splat<K>(0x1.fffffep127f), zero = splat<K>(0.0f);
  if (all(cmp<_CMP_GE_OQ>(x, lo) & cmp<_CMP_LE_OQ>(x, hi))) return log_core(x, zero);
  V<K> sub = cmp<_CMP_LT_OQ>(x, lo);  // subnormal, zero or negative
  V<K> r = log_core(blend(x, x * splat<K>(0x1p23f), sub), sub & splat<K>(-23.0f));
  r = blend(r, splat<K>(-__builtin_inff()), cmp<_CMP_EQ_OQ>(x, zero));
  r = blend(r, splat<K>(__builtin_nanf("")), cmp<_CMP_LT_OQ>(x, zero));
  return blend(r, x, cmp<_CMP_NLE_UQ>(x, hi));  // +inf and NaN pass through
}

// tanh(x) = sign(x) E/(E+2), E = expm1(2 min(|x|, 9.1)) (tanh rounds to 1 beyond 9.01).
// expm1(2a) = 2^n (1 + m) - 1 = 2^n m + (2^n - 1) with 2a = n ln2 + r, m = expm1(r) =
// r + r^2 Q(r), Q of degree 5 (relative error 2.4e-10); 2^n - 1 is exact and the last fma rounds
// once, so E is accurate relative to itself also for small x (where n = 0 and r = 2|x|).
// Max error 2.5 ulp (rounding of E+2 and of the division), absolute error < 1e-7.
template <int K>
TG_INLINE V<K> tanh_v(V<K> x) {
  const V<K> magic = splat<K>(kMagic), one = splat<K>(1.0f);
  V<K> sign = x & sign_bit<K>();
  V<K> a = min(splat<K>(9.1f), abs_v(x));  // NaN stays NaN
  V<K> t = fma(a, splat<K>(2.88539008177792681f), magic);
  V<K> nf = t - magic;
  V<K> r = fnma(nf, splat<K>(kLn2Hi), a + a);
  r = fnma(nf, splat<K>(kLn2Lo), r);
  V<K> q = splat<K>(1.984590053e-04f);
  q = fma(q, r, splat<K>(1.394091523e-03f));
  q = fma(q, r, splat<K>(8.333389647e-03f));
  q = fma(q, r, splat<K>(4.166635871e-02f));
  q = fma(q, r, splat<K>(1.666666567e-01f));
  q = fma(q, r, splat<K>(0.5f));
  V<K> m = fma(q, r * r, r);
  V<K> s = pow2_of(t);
  V<K> e = fma(s, m, s - one);
  return (e / (e + splat<K>(2.0f))) | sign;
}

// PyTorch's sigmoid: 1 / (exp(0 - x) + 1) with SLEEF's exp (float16 widens to float32 first).
template <int K>
TG_INLINE V<K> sigmoid_v(V<K> x) {
  V<K> r;
  TG_EACH r.v[k] = _mm256_div_ps(
      _mm256_set1_ps(1.0f),
      _mm256_add_ps(pm::exp(_mm256_sub_ps(_mm256_setzero_ps(), x.v[k])), _mm256_set1_ps(1.0f)));
  return r;
}

template <int K>
TG_INLINE V<K> sleef_exp_v(V<K> x) {
  V<K> r;
  TG_EACH r.v[k] = pm::exp(x.v[k]);
  return r;
}

// Lambdas must be inlined into the loops: V<4> passed by value would go through memory.
#define TG_UNARY(fn) [](auto v) __attribute__((always_inline)) { return fn(v); }
#define TG_BINARY(expr) [](auto u, auto v) __attribute__((always_inline)) { return expr; }

template <class L>
bool unary_t(Un op, const typename L::T* x, typename L::T* y, int64_t n, bool nt) {
  switch (op) {
    case Un::neg:
      map1<L, L>(x, y, n, nt, TG_UNARY(neg_v));
      return true;
    case Un::abs:
      map1<L, L>(x, y, n, nt, TG_UNARY(abs_v));
      return true;
    case Un::exp:  // float32's is MKL's in PyTorch (vec.h); float16's is SLEEF's
      if constexpr (std::is_same<L, F16>::value)
        map1<L, L>(x, y, n, nt, TG_UNARY(sleef_exp_v));
      else
        map1<L, L>(x, y, n, nt, TG_UNARY(exp_v));
      return true;
    case Un::log:
      map1<L, L>(x, y, n, nt, TG_UNARY(log_v));
      return true;
    case Un::tanh:
      map1<L, L>(x, y, n, nt, TG_UNARY(tanh_v));
      return true;
    case Un::relu:
      map1<L, L>(x, y, n, nt, TG_UNARY(relu_v));
      return true;
    case Un::sigmoid:
      map1<L, L>(x, y, n, nt, TG_UNARY(sigmoid_v));
      return true;
    default:  // no AVX2 kernel for this op: the caller runs the portable loop
      return false;
  }
}

template <class L>
void binary_t(Bin op, const typename L::T* a, const typename L::T* b, typename L::T* y, int64_t n,
              bool nt) {
  switch (op) {
    case Bin::add:
      return map2<L>(a, b, y, n, nt, TG_BINARY(u + v));
    case Bin::sub:
      return map2<L>(a, b, y, n, nt, TG_BINARY(u - v));
    case Bin::mul:
      return map2<L>(a, b, y, n, nt, TG_BINARY(u * v));
    case Bin::div:
      return map2<L>(a, b, y, n, nt, TG_BINARY(u / v));
  }
}

template <class L>
void scalar_t(Bin op, const typename L::T* x, float s, bool reversed, typename L::T* y, int64_t n,
              bool nt) {
  // c is splatted inside the callable (the compiler hoists it): V<K> depends on K.
  auto c = [s](auto v)
               __attribute__((always_inline)) { return splat<sizeof(v) / sizeof(__m256)>(s); };
  if (reversed) {
    switch (op) {
      case Bin::add:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return c(v) + v; });
      case Bin::sub:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return c(v) - v; });
      case Bin::mul:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return c(v) * v; });
      case Bin::div:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return c(v) / v; });
    }
  } else {
    switch (op) {
      case Bin::add:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return v + c(v); });
      case Bin::sub:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return v - c(v); });
      case Bin::mul:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return v * c(v); });
      case Bin::div:
        return map1<L, L>(x, y, n, nt,
                          [c](auto v) __attribute__((always_inline)) { return v / c(v); });
    }
  }
}

template <int K>
TG_INLINE V<K> pow_v(V<K> x, float e) {
  V<K> r;
  TG_EACH r.v[k] = pm::pow(x.v[k], _mm256_set1_ps(e));
  return r;
}
template <int K>
TG_INLINE V<K> rpow_v(float b, V<K> x) {
  V<K> r;
  TG_EACH r.v[k] = pm::pow(_mm256_set1_ps(b), x.v[k]);
  return r;
}

template <class L>
void pow_t(const typename L::T* x, float s, bool reversed, typename L::T* y, int64_t n, bool nt) {
  if (reversed)
    map1<L, L>(x, y, n, nt, [s](auto v) __attribute__((always_inline)) { return rpow_v(s, v); });
  else
    map1<L, L>(x, y, n, nt, [s](auto v) __attribute__((always_inline)) { return pow_v(v, s); });
}

}  // namespace

bool unary_f32_avx2(Un op, const float* x, float* y, int64_t n, bool nt) {
  return unary_t<F32>(op, x, y, n, nt);
}
bool unary_f16_avx2(Un op, const uint16_t* x, uint16_t* y, int64_t n, bool nt) {
  return unary_t<F16>(op, x, y, n, nt);
}
void binary_f32_avx2(Bin op, const float* a, const float* b, float* out, int64_t n, bool nt) {
  binary_t<F32>(op, a, b, out, n, nt);
}
void binary_f16_avx2(Bin op, const uint16_t* a, const uint16_t* b, uint16_t* out, int64_t n,
                     bool nt) {
  binary_t<F16>(op, a, b, out, n, nt);
}
void scalar_f32_avx2(Bin op, const float* x, float s, bool reversed, float* out, int64_t n,
                     bool nt) {
  scalar_t<F32>(op, x, s, reversed, out, n, nt);
}
void scalar_f16_avx2(Bin op, const uint16_t* x, float s, bool reversed, uint16_t* out, int64_t n,
                     bool nt) {
  scalar_t<F16>(op, x, s, reversed, out, n, nt);
}
void pow_f32_avx2(const float* x, float s, bool reversed, float* y, int64_t n, bool nt) {
  pow_t<F32>(x, s, reversed, y, n, nt);
}
void pow_f16_avx2(const uint16_t* x, float s, bool reversed, uint16_t* y, int64_t n, bool nt) {
  pow_t<F16>(x, s, reversed, y, n, nt);
}
void f16_to_f32_avx2(const uint16_t* x, float* y, int64_t n, bool nt) {
  map1<F16, F32>(x, y, n, nt, [](auto v) __attribute__((always_inline)) { return v; });
}
void f32_to_f16_avx2(const float* x, uint16_t* y, int64_t n, bool nt) {
  map1<F32, F16>(x, y, n, nt, [](auto v) __attribute__((always_inline)) { return v; });
}

}  // namespace tg::vec::detail

#endif  // TG_HAVE_AVX2
