// See pmath_f64.h. Every rounding sits where SLEEF's has it: no reordering, no contraction
// (CMakeLists.txt compiles this file with -ffp-contract=off). Compiled for AVX2 + FMA like every
// *_avx2.cpp file (simd_avx2.h explains the rules); nothing here runs unless the CPU has both
// (core/cpu.h), and everything but the entry points has internal linkage.
#include "kernels/pmath_f64.h"

#if TG_HAVE_AVX2
#include <immintrin.h>

namespace tg::pmath {

namespace {

#define TG_INLINE inline __attribute__((always_inline))

using D = __m256d;
using I = __m128i;  // the int32 lanes beside four doubles

TG_INLINE D c(double v) {
  return _mm256_set1_pd(v);
}
TG_INLINE D add(D a, D b) {
  return _mm256_add_pd(a, b);
}
TG_INLINE D sub(D a, D b) {
  return _mm256_sub_pd(a, b);
}
TG_INLINE D mul(D a, D b) {
  return _mm256_mul_pd(a, b);
}
TG_INLINE D fma(D a, D b, D s) {  // a*b + s
  return _mm256_fmadd_pd(a, b, s);
}
TG_INLINE D fms(D a, D b, D s) {  // a*b - s
  return _mm256_fmsub_pd(a, b, s);
}
TG_INLINE D fnma(D a, D b, D s) {  // s - a*b
  return _mm256_fnmadd_pd(a, b, s);
}
TG_INLINE D sel(D mask, D yes, D no) {
  return _mm256_blendv_pd(no, yes, mask);
}
template <int P>
TG_INLINE D cmp(D a, D b) {
  return _mm256_cmp_pd(a, b, P);
}
TG_INLINE D sign_of(D x) {
  return _mm256_and_pd(x, c(-0.0));
}
TG_INLINE D abs(D x) {
  return _mm256_andnot_pd(c(-0.0), x);
}
TG_INLINE D rint(D x) {
  return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
TG_INLINE D trunc(D x) {
  return _mm256_round_pd(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}
TG_INLINE D isinf(D x) {
  return cmp<_CMP_EQ_OQ>(abs(x), c(__builtin_inf()));
}
TG_INLINE D isnan(D x) {
  return cmp<_CMP_UNORD_Q>(x, x);
}

// The low 32 bits of each 64-bit lane, as int32 lanes.
TG_INLINE I low32(__m256i v) {
  return _mm256_castsi256_si128(
      _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}
// u32 lanes shifted into the top of 64-bit lanes by 32 + s (bits past 64 drop, as the 32-bit
// lane arithmetic of SLEEF's AVX2 code drops them).
TG_INLINE __m256i high(I v, int s) {
  return _mm256_sll_epi64(_mm256_cvtepu32_epi64(v), _mm_cvtsi32_si128(32 + s));
}
// 2^q through the exponent field (garbage outside [-1022, 1023]; the callers replace it).
TG_INLINE D pow2i(I q) {
  return _mm256_castsi256_pd(high(_mm_add_epi32(q, _mm_set1_epi32(0x3ff)), 20));
}
TG_INLINE D ldexp2(D d, I q) {
  I h = _mm_srai_epi32(q, 1);
  return mul(mul(d, pow2i(h)), pow2i(_mm_sub_epi32(q, h)));
}

constexpr double kRLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931;
constexpr double kL2U = .69314718055966295651160180568695068359375;
constexpr double kL2L = .28235290563031577122588448175013436025525412068e-12;
constexpr double kExpMax = 709.78271114955742909217217426;

// Estrin's scheme as SLEEF groups it: k[0] is the highest coefficient.
TG_INLINE D poly8(D x, D x2, D x4, const double* k) {
  D hi = fma(x2, fma(x, c(k[0]), c(k[1])), fma(x, c(k[2]), c(k[3])));
  D lo = fma(x2, fma(x, c(k[4]), c(k[5])), fma(x, c(k[6]), c(k[7])));
  return fma(x4, hi, lo);
}
TG_INLINE D poly10(D x, D x2, D x4, D x8, const double* k) {
  return fma(x8, fma(x, c(k[0]), c(k[1])), poly8(x, x2, x4, k + 2));
}
TG_INLINE D poly9(D x, D x2, D x4, D x8, const double* k) {
  return fma(x8, c(k[0]), poly8(x, x2, x4, k + 1));
}

// Double-double values hi + lo.
struct D2 {
  D x, y;
};
TG_INLINE D2 normalize(D2 t) {
  D s = add(t.x, t.y);
  return {s, add(sub(t.x, s), t.y)};
}
TG_INLINE D2 scale(D2 d, D s) {
  return {mul(d.x, s), mul(d.y, s)};
}
TG_INLINE D2 add_d_d2(D x, D2 y) {  // |x| >= |y|
  D s = add(x, y.x);
  return {s, add(add(sub(x, s), y.x), y.y)};
}
TG_INLINE D2 add_d2_d2(D2 x, D2 y) {  // |x| >= |y|
  D s = add(x.x, y.x);
  return {s, add(add(add(sub(x.x, s), y.x), x.y), y.y)};
}
TG_INLINE D2 add2_d_d(D x, D y) {
  D s = add(x, y);
  D v = sub(s, x);
  return {s, add(sub(x, sub(s, v)), sub(y, v))};
}
TG_INLINE D2 add2_d2_d(D2 x, D y) {
  D s = add(x.x, y);
  D v = sub(s, x.x);
  return {s, add(add(sub(x.x, sub(s, v)), sub(y, v)), x.y)};
}
TG_INLINE D2 mul_d2_d(D2 x, D y) {
  D s = mul(x.x, y);
  return {s, fma(x.y, y, fms(x.x, y, s))};
}
TG_INLINE D2 mul_d2_d2(D2 x, D2 y) {
  D s = mul(x.x, y.x);
  return {s, fma(x.x, y.y, fma(x.y, y.x, fms(x.x, y.x, s)))};
}
TG_INLINE D2 squ(D2 x) {
  D s = mul(x.x, x.x);
  return {s, fma(add(x.x, x.x), x.y, fms(x.x, x.x, s))};
}
TG_INLINE D2 div(D2 n, D2 d) {
  D t = _mm256_div_pd(c(1.0), d.x);
  D s = mul(n.x, t);
  D u = fms(t, n.x, s);
  D v = fnma(d.y, t, fnma(d.x, t, c(1.0)));
  return {s, fma(s, v, fma(n.y, t, u))};
}

// log|d| as a double-double (d > 0 finite; the caller replaces the other cases).
TG_INLINE D2 logk(D d) {
  D tiny = cmp<_CMP_LT_OQ>(d, c(2.2250738585072014e-308));
  d = sel(tiny, mul(d, c(18446744073709551616.0)), d);  // 2^64
  __m256i ebits = _mm256_srli_epi64(_mm256_castpd_si256(mul(d, c(1.0 / 0.75))), 52);
  I e = _mm_sub_epi32(_mm_and_si128(low32(ebits), _mm_set1_epi32(0x7ff)), _mm_set1_epi32(0x3ff));
  D m = _mm256_castsi256_pd(
      _mm256_add_epi64(_mm256_castpd_si256(d), high(_mm_sub_epi32(_mm_setzero_si128(), e), 20)));
  e = _mm_sub_epi32(e, _mm_and_si128(low32(_mm256_castpd_si256(tiny)), _mm_set1_epi32(64)));
  D2 x = div(add2_d_d(c(-1.0), m), add2_d_d(c(1.0), m));
  D2 x2 = squ(x);
  D x4 = mul(x2.x, x2.x), x8 = mul(x4, x4), x16 = mul(x8, x8);
  static constexpr double kC[9] = {
      0.116255524079935043668677, 0.103239680901072952701192, 0.117754809412463995466069,
      0.13332981086846273921509,  0.153846227114512262845736, 0.181818180850050775676507,
      0.222222222230083560345903, 0.285714285714249172087875, 0.400000000000000077715612};
  D t = poly9(x2.x, x4, x8, x16, kC);
  D2 cc = {c(0.666666666666666629659233), c(3.80554962542412056336616e-17)};
  D2 s = mul_d2_d({c(0.693147180559945286226764), c(2.319046813846299558417771e-17)},
                  _mm256_cvtepi32_pd(e));
  s = add_d2_d2(s, scale(x, c(2.0)));
  D2 xx = mul_d2_d2(x2, x);
  s = add_d2_d2(s, mul_d2_d2(xx, cc));
  xx = mul_d2_d2(x2, xx);
  return add_d2_d2(s, mul_d2_d(xx, t));
}

// exp of a double-double.
TG_INLINE D expk(D2 d) {
  D dq = rint(mul(add(d.x, d.y), c(kRLn2)));
  I q = _mm256_cvtpd_epi32(dq);
  D2 s = add2_d2_d(d, mul(dq, c(-kL2U)));
  s = add2_d2_d(s, mul(dq, c(-kL2L)));
  s = normalize(s);
  D s2 = mul(s.x, s.x), s4 = mul(s2, s2), s8 = mul(s4, s4);
  static constexpr double kC[10] = {2.51069683420950419527139e-08, 2.76286166770270649116855e-07,
                                    2.75572496725023574143864e-06, 2.48014973989819794114153e-05,
                                    0.000198412698809069797676111, 0.0013888888939977128960529,
                                    0.00833333333332371417601081,  0.0416666666665409524128449,
                                    0.166666666666666740681535,    0.500000000000000999200722};
  D u = poly10(s.x, s2, s4, s8, kC);
  D2 t = add_d_d2(c(1.0), s);
  t = add_d2_d2(t, mul_d2_d(squ(s), u));
  D r = ldexp2(add(t.x, t.y), q);
  return _mm256_andnot_pd(cmp<_CMP_LT_OQ>(d.x, c(-1000.0)), r);
}

TG_INLINE D exp(D d) {
  D u = rint(mul(d, c(kRLn2)));
  I q = _mm256_cvtpd_epi32(u);
  D s = fma(u, c(-kL2U), d);
  s = fma(u, c(-kL2L), s);
  D s2 = mul(s, s), s4 = mul(s2, s2), s8 = mul(s4, s4);
  static constexpr double kC[10] = {+0.2081276378237164457e-8, +0.2511210703042288022e-7,
                                    +0.2755762628169491192e-6, +0.2755723402025388239e-5,
                                    +0.2480158687479686264e-4, +0.1984126989855865850e-3,
                                    +0.1388888888914497797e-2, +0.8333333333314938210e-2,
                                    +0.4166666666666602598e-1, +0.1666666666666669072e+0};
  D p = poly10(s, s2, s4, s8, kC);
  p = fma(p, s, c(0.5));
  p = fma(p, s, c(1.0));
  p = fma(p, s, c(1.0));
  p = ldexp2(p, q);
  p = sel(cmp<_CMP_GT_OQ>(d, c(kExpMax)), c(__builtin_inf()), p);
  return _mm256_andnot_pd(cmp<_CMP_LT_OQ>(d, c(-1000.0)), p);
}

TG_INLINE D pow(D x, D y) {
  const D one = c(1.0), zero = c(0.0), inf = c(__builtin_inf());
  D yint = cmp<_CMP_EQ_OQ>(trunc(y), y);  // also +-inf
  D half = mul(y, c(0.5));
  D yodd = _mm256_and_pd(_mm256_and_pd(cmp<_CMP_LT_OQ>(abs(y), c(9007199254740992.0)), yint),
                         cmp<_CMP_NEQ_UQ>(trunc(half), half));
  D2 d = mul_d2_d(logk(abs(x)), y);
  D r = expk(d);
  r = sel(cmp<_CMP_GT_OQ>(d.x, c(kExpMax)), inf, r);
  r = mul(r, sel(cmp<_CMP_GT_OQ>(x, zero), one,
                 sel(yint, sel(yodd, c(-1.0), one), c(__builtin_nan("")))));
  D efx = _mm256_xor_pd(sub(abs(x), one), sign_of(y));
  D yinf = _mm256_andnot_pd(cmp<_CMP_LT_OQ>(efx, zero), sel(cmp<_CMP_EQ_OQ>(efx, zero), one, inf));
  r = sel(isinf(y), yinf, r);
  D xzero = cmp<_CMP_EQ_OQ>(x, zero);
  D ysign = _mm256_castsi256_pd(_mm256_cmpgt_epi64(_mm256_setzero_si256(), _mm256_castpd_si256(y)));
  D mag = sel(_mm256_xor_pd(ysign, xzero), zero, inf);
  D edge = _mm256_xor_pd(mag, sign_of(sel(yodd, x, one)));
  r = sel(_mm256_or_pd(isinf(x), xzero), edge, r);
  r = _mm256_or_pd(_mm256_or_pd(isnan(x), isnan(y)), r);
  return sel(_mm256_or_pd(cmp<_CMP_EQ_OQ>(y, zero), cmp<_CMP_EQ_OQ>(x, one)), one, r);
}

}  // namespace

void sigmoid_f64(double* y, int64_t n) {
  for (int64_t i = 0; i + 4 <= n; i += 4) {
    D v = _mm256_loadu_pd(y + i);
    D e = exp(sub(_mm256_setzero_pd(), v));
    _mm256_storeu_pd(y + i, _mm256_div_pd(c(1.0), add(e, c(1.0))));
  }
}

void exp_f64(double* y, int64_t n) {
  for (int64_t i = 0; i + 4 <= n; i += 4)
    _mm256_storeu_pd(y + i, exp(_mm256_loadu_pd(y + i)));
}

void pow_f64(double* y, double s, bool reversed, int64_t n) {
  const D k = c(s);
  for (int64_t i = 0; i + 4 <= n; i += 4) {
    D v = _mm256_loadu_pd(y + i);
    _mm256_storeu_pd(y + i, reversed ? pow(k, v) : pow(v, k));
  }
}

}  // namespace tg::pmath

#endif  // TG_HAVE_AVX2
