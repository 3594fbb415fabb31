// float32 exp and pow as PyTorch's AVX2 kernels evaluate them: its Vectorized<float>::exp and
// ::pow are SLEEF's expf8_u10 and powf8_u10, so these follow SLEEF's published algorithms
// operation for operation (same reductions, polynomials, double-float steps and special-value
// selections). Every rounding has to happen in the same place for the bits to agree: do not
// reorder, contract or "simplify" anything here. Include only from *_avx2.cpp files (see
// simd_avx2.h); everything has internal linkage.
#pragma once

#include <immintrin.h>

#include "kernels/simd_avx2.h"

namespace tg::vec::detail {

namespace {

namespace pm {

using F = __m256;
using I = __m256i;

TG_INLINE F c(float v) {
  return _mm256_set1_ps(v);
}
TG_INLINE I ci(int v) {
  return _mm256_set1_epi32(v);
}
TG_INLINE F add(F a, F b) {
  return _mm256_add_ps(a, b);
}
TG_INLINE F sub(F a, F b) {
  return _mm256_sub_ps(a, b);
}
TG_INLINE F mul(F a, F b) {
  return _mm256_mul_ps(a, b);
}
TG_INLINE F fma(F a, F b, F s) {  // a*b + s
  return _mm256_fmadd_ps(a, b, s);
}
TG_INLINE F fms(F a, F b, F s) {  // a*b - s
  return _mm256_fmsub_ps(a, b, s);
}
TG_INLINE F fnma(F a, F b, F s) {  // s - a*b
  return _mm256_fnmadd_ps(a, b, s);
}
TG_INLINE F sel(F mask, F yes, F no) {
  return _mm256_blendv_ps(no, yes, mask);
}
TG_INLINE F abs(F x) {
  return _mm256_andnot_ps(c(-0.0f), x);
}
TG_INLINE F mulsign(F x, F y) {  // x with its sign flipped where y is negative
  return _mm256_xor_ps(x, _mm256_and_ps(y, c(-0.0f)));
}
template <int P>
TG_INLINE F cmp(F a, F b) {
  return _mm256_cmp_ps(a, b, P);
}
TG_INLINE F isinf(F x) {
  return cmp<_CMP_EQ_OQ>(abs(x), c(__builtin_inff()));
}
TG_INLINE F isnan(F x) {
  return cmp<_CMP_UNORD_Q>(x, x);
}
TG_INLINE F bits(I i) {
  return _mm256_castsi256_ps(i);
}
TG_INLINE I ibits(F f) {
  return _mm256_castps_si256(f);
}
TG_INLINE F pow2i(I q) {  // 2^q for q in [-126, 127]
  return bits(_mm256_slli_epi32(_mm256_add_epi32(q, ci(0x7f)), 23));
}

// x * 2^q for any q, in steps that keep every intermediate exact until the last multiply.
TG_INLINE F ldexp(F x, I q) {
  I m = _mm256_srai_epi32(q, 31);
  m = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_srai_epi32(_mm256_add_epi32(m, q), 6), m), 4);
  q = _mm256_sub_epi32(q, _mm256_slli_epi32(m, 2));
  m = _mm256_add_epi32(m, ci(0x7f));
  m = _mm256_and_si256(_mm256_cmpgt_epi32(m, ci(0)), m);
  I n = _mm256_cmpgt_epi32(m, ci(0xff));
  m = _mm256_or_si256(_mm256_andnot_si256(n, m), _mm256_and_si256(n, ci(0xff)));
  F u = bits(_mm256_slli_epi32(m, 23));
  x = mul(mul(mul(mul(x, u), u), u), u);
  return mul(x, pow2i(q));
}

// x * 2^q as two exact scalings (q in about [-252, 254]).
TG_INLINE F ldexp2(F x, I q) {
  I h = _mm256_srai_epi32(q, 1);
  return mul(mul(x, pow2i(h)), pow2i(_mm256_sub_epi32(q, h)));
}

constexpr float kRLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
constexpr float kL2U = 0.693145751953125f;  // ln 2 = kL2U + kL2L, kL2U with 12 bits
constexpr float kL2L = 1.428606765330187045e-06f;

// exp(x), within 1 ulp.
TG_INLINE F exp(F d) {
  I q = _mm256_cvtps_epi32(mul(d, c(kRLn2)));
  F qf = _mm256_cvtepi32_ps(q);
  F s = fma(qf, c(-kL2U), d);
  s = fma(qf, c(-kL2L), s);
  F u = c(0.000198527617612853646278381f);
  u = fma(u, s, c(0.00139304355252534151077271f));
  u = fma(u, s, c(0.00833336077630519866943359f));
  u = fma(u, s, c(0.0416664853692054748535156f));
  u = fma(u, s, c(0.166666671633720397949219f));
  u = fma(u, s, c(0.5f));
  u = add(c(1.0f), fma(mul(s, s), u, s));
  u = ldexp2(u, q);
  u = _mm256_andnot_ps(cmp<_CMP_LT_OQ>(d, c(-104.0f)), u);
  return sel(cmp<_CMP_LT_OQ>(c(100.0f), d), c(__builtin_inff()), u);
}

// ---------------------------------------------------------------------------------------------
// Double-float arithmetic: a value is hi + lo, |lo| <= ulp(hi)/2.

struct F2 {
  F x, y;
};

TG_INLINE F2 df(F x, F y) {
  return {x, y};
}
TG_INLINE F2 normalize(F2 t) {
  F s = add(t.x, t.y);
  return {s, add(sub(t.x, s), t.y)};
}
TG_INLINE F2 scale(F2 d, F s) {
  return {mul(d.x, s), mul(d.y, s)};
}
// Sums that assume |x| >= |y| (the "add" forms) or not (the "add2" forms).
TG_INLINE F2 add_f_f2(F x, F2 y) {
  F r = add(x, y.x);
  return {r, add(add(sub(x, r), y.x), y.y)};
}
TG_INLINE F2 add_f2_f2(F2 x, F2 y) {
  F r = add(x.x, y.x);
  return {r, add(add(add(sub(x.x, r), y.x), x.y), y.y)};
}
TG_INLINE F2 add2_f_f(F x, F y) {
  F r = add(x, y);
  F v = sub(r, x);
  return {r, add(sub(x, sub(r, v)), sub(y, v))};
}
TG_INLINE F2 add2_f2_f(F2 x, F y) {
  F r = add(x.x, y);
  F v = sub(r, x.x);
  F lo = add(sub(x.x, sub(r, v)), sub(y, v));
  return {r, add(lo, x.y)};
}
TG_INLINE F2 add2_f2_f2(F2 x, F2 y) {
  F r = add(x.x, y.x);
  F v = sub(r, x.x);
  F lo = add(sub(x.x, sub(r, v)), sub(y.x, v));
  return {r, add(lo, add(x.y, y.y))};
}
TG_INLINE F2 mul_f2_f(F2 x, F y) {
  F r = mul(x.x, y);
  return {r, fma(x.y, y, fms(x.x, y, r))};
}
TG_INLINE F2 mul_f2_f2(F2 x, F2 y) {
  F r = mul(x.x, y.x);
  return {r, fma(x.x, y.y, fma(x.y, y.x, fms(x.x, y.x, r)))};
}
TG_INLINE F2 squ(F2 x) {
  F r = mul(x.x, x.x);
  return {r, fma(add(x.x, x.x), x.y, fms(x.x, x.x, r))};
}
TG_INLINE F2 div(F2 n, F2 d) {
  F t = _mm256_div_ps(c(1.0f), d.x);
  F q = mul(n.x, t);
  F u = fms(t, n.x, q);
  F lo = fnma(d.y, t, fnma(d.x, t, c(1.0f)));
  return {q, fma(q, lo, fma(n.y, t, u))};
}

// log|d| as a double-float (d > 0; zero, inf and NaN give garbage the caller replaces).
TG_INLINE F2 logk(F d) {
  F tiny = cmp<_CMP_LT_OQ>(d, c(1.17549435e-38f));
  d = sel(tiny, mul(d, c(1.8446744073709552e19f)), d);  // 2^64
  I e = _mm256_sub_epi32(
      _mm256_and_si256(_mm256_srli_epi32(ibits(mul(d, c(1.0f / 0.75f))), 23), ci(0xff)), ci(0x7f));
  F m = bits(_mm256_add_epi32(ibits(d), _mm256_slli_epi32(_mm256_sub_epi32(ci(0), e), 23)));
  e = _mm256_blendv_epi8(e, _mm256_sub_epi32(e, ci(64)), ibits(tiny));
  F2 x = div(add2_f_f(c(-1.0f), m), add2_f_f(c(1.0f), m));
  F2 x2 = squ(x);
  F t = c(0.240320354700088500976562f);
  t = fma(t, x2.x, c(0.285112679004669189453125f));
  t = fma(t, x2.x, c(0.400007992982864379882812f));
  F2 cc = df(c(0.66666662693023681640625f), c(3.69183861259614332084311e-09f));
  F2 s = mul_f2_f(df(c(0.69314718246459960938f), c(-1.904654323148236017e-09f)),
                  _mm256_cvtepi32_ps(e));
  s = add_f2_f2(s, scale(x, c(2.0f)));
  return add_f2_f2(s, mul_f2_f2(mul_f2_f2(x2, x), add2_f2_f2(mul_f2_f(x2, t), cc)));
}

// exp of a double-float.
TG_INLINE F expk(F2 d) {
  F u = mul(add(d.x, d.y), c(kRLn2));
  I q = _mm256_cvtps_epi32(u);
  F qf = _mm256_cvtepi32_ps(q);
  F2 s = add2_f2_f(d, mul(qf, c(-kL2U)));
  s = add2_f2_f(s, mul(qf, c(-kL2L)));
  s = normalize(s);
  u = c(0.00136324646882712841033936f);
  u = fma(u, s.x, c(0.00836596917361021041870117f));
  u = fma(u, s.x, c(0.0416710823774337768554688f));
  u = fma(u, s.x, c(0.166665524244308471679688f));
  u = fma(u, s.x, c(0.499999850988388061523438f));
  F2 t = add_f2_f2(s, mul_f2_f(squ(s), u));
  t = add_f_f2(c(1.0f), t);
  u = ldexp(add(t.x, t.y), q);
  return _mm256_andnot_ps(cmp<_CMP_LT_OQ>(d.x, c(-104.0f)), u);
}

// x ** y, within 1 ulp, with C99's special cases.
TG_INLINE F pow(F x, F y) {
  const F one = c(1.0f), zero = c(0.0f), inf = c(__builtin_inff());
  F ay = abs(y);
  F yint =
      _mm256_or_ps(cmp<_CMP_EQ_OQ>(_mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), y),
                   cmp<_CMP_GT_OQ>(ay, c(16777216.0f)));
  I lowbit = _mm256_and_si256(_mm256_cvttps_epi32(y), ci(1));
  F yodd = _mm256_and_ps(_mm256_and_ps(bits(_mm256_cmpeq_epi32(lowbit, ci(1))), yint),
                         cmp<_CMP_LT_OQ>(ay, c(16777216.0f)));
  F r = expk(mul_f2_f(logk(abs(x)), y));
  r = sel(isnan(r), inf, r);
  r = mul(r, sel(cmp<_CMP_GT_OQ>(x, zero), one,
                 sel(yint, sel(yodd, c(-1.0f), one), c(__builtin_nanf("")))));
  F efx = mulsign(sub(abs(x), one), y);
  F yinf = _mm256_andnot_ps(cmp<_CMP_LT_OQ>(efx, zero), sel(cmp<_CMP_EQ_OQ>(efx, zero), one, inf));
  r = sel(isinf(y), yinf, r);
  F xzero = cmp<_CMP_EQ_OQ>(x, zero);
  F ysign = bits(_mm256_srai_epi32(ibits(y), 31));
  F edge = mulsign(sel(_mm256_xor_ps(ysign, xzero), zero, inf), sel(yodd, x, one));
  r = sel(_mm256_or_ps(isinf(x), xzero), edge, r);
  r = _mm256_or_ps(_mm256_or_ps(isnan(x), isnan(y)), r);
  return sel(_mm256_or_ps(cmp<_CMP_EQ_OQ>(y, zero), cmp<_CMP_EQ_OQ>(x, one)), one, r);
}

}  // namespace pm

}  // namespace

}  // namespace tg::vec::detail
