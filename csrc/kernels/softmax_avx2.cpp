// SLEEF's exp and log as PyTorch's Vectorized<float>/<double> evaluate them, over arrays, for
// the softmax kernels (softmax.h). logf follows SLEEF's logf8_u10 operation for operation.
#include <cmath>

#include "kernels/pmath_avx2.h"
#include "kernels/pmath_f64.h"
#include "kernels/softmax.h"

namespace tg::vec::detail {
namespace {
namespace pm {

TG_INLINE F2 add_f2_f(F2 x, F y) {  // |x| >= |y|
  F r = add(x.x, y);
  return {r, add(add(sub(x.x, r), y), x.y)};
}

TG_INLINE F logf(F d) {
  F tiny = cmp<_CMP_LT_OQ>(d, c(1.17549435e-38f));
  F dd = sel(tiny, mul(d, c(1.8446744073709552e19f)), d);  // 2^64
  I e = _mm256_sub_epi32(
      _mm256_and_si256(_mm256_srli_epi32(ibits(mul(dd, c(1.0f / 0.75f))), 23), ci(0xff)), ci(0x7f));
  F m = bits(_mm256_add_epi32(ibits(dd), _mm256_slli_epi32(_mm256_sub_epi32(ci(0), e), 23)));
  e = _mm256_blendv_epi8(e, _mm256_sub_epi32(e, ci(64)), ibits(tiny));
  F2 s = mul_f2_f(df(c(0.69314718246459960938f), c(-1.904654323148236017e-09f)),
                  _mm256_cvtepi32_ps(e));
  F2 x = div(add2_f_f(c(-1.0f), m), add2_f_f(c(1.0f), m));
  F x2 = mul(x.x, x.x);
  F t = c(0.3027294874f);
  t = fma(t, x2, c(0.3996108174f));
  t = fma(t, x2, c(0.6666694880f));
  s = add_f2_f2(s, scale(x, c(2.0f)));
  s = add_f2_f(s, mul(mul(x2, x.x), t));
  F r = add(s.x, s.y);
  r = sel(cmp<_CMP_EQ_OQ>(d, c(__builtin_inff())), c(__builtin_inff()), r);
  r = sel(_mm256_or_ps(cmp<_CMP_LT_OQ>(d, c(0.0f)), isnan(d)), c(__builtin_nanf("")), r);
  return sel(cmp<_CMP_EQ_OQ>(d, c(0.0f)), c(-__builtin_inff()), r);
}

}  // namespace pm

// SLEEF's logd4_u10 (double-double steps as logf's above, in four double lanes).
namespace pd {
using D = __m256d;
struct D2 {
  D x, y;
};
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
TG_INLINE D fma(D a, D b, D s) {
  return _mm256_fmadd_pd(a, b, s);
}
TG_INLINE D2 add2_d_d(D x, D y) {
  D r = add(x, y), v = sub(r, x);
  return {r, add(sub(x, sub(r, v)), sub(y, v))};
}
TG_INLINE D2 div(D2 n, D2 d) {
  D t = _mm256_div_pd(c(1.0), d.x);
  D q = mul(n.x, t);
  D u = _mm256_fmsub_pd(t, n.x, q);
  D lo = _mm256_fnmadd_pd(d.y, t, _mm256_fnmadd_pd(d.x, t, c(1.0)));
  return {q, fma(q, lo, fma(n.y, t, u))};
}

TG_INLINE D log(D d) {
  D tiny = _mm256_cmp_pd(d, c(2.2250738585072014e-308), _CMP_LT_OQ);
  D dd = _mm256_blendv_pd(d, mul(d, c(18446744073709551616.0)), tiny);  // 2^64
  __m256i top = _mm256_srli_epi64(_mm256_castpd_si256(mul(dd, c(1.0 / 0.75))), 52);
  __m256i e =
      _mm256_sub_epi64(_mm256_and_si256(top, _mm256_set1_epi64x(0x7ff)), _mm256_set1_epi64x(0x3ff));
  D m = _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(dd), _mm256_slli_epi64(e, 52)));
  e = _mm256_sub_epi64(e, _mm256_and_si256(_mm256_castpd_si256(tiny), _mm256_set1_epi64x(64)));
  D2 x = div(add2_d_d(c(-1.0), m), add2_d_d(c(1.0), m));
  D x2 = mul(x.x, x.x), x4 = mul(x2, x2), x8 = mul(x4, x4);
  D p3 = fma(x4, c(0.1532076988502701353),
             fma(x2, c(0.1525629051003428716), c(0.1818605932937785996)));
  D p4 = fma(x4, fma(x2, c(0.2222214519839380009), c(0.2857142932794299317)),
             fma(x2, c(0.3999999999635251990), c(0.6666666666667333541)));
  D t = fma(x8, p3, p4);
  alignas(32) int64_t ei[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(ei), e);
  D ef = _mm256_set_pd(double(ei[3]), double(ei[2]), double(ei[1]), double(ei[0]));
  const D l2u = c(0.693147180559945286226764), l2l = c(2.319046813846299558417771e-17);
  D2 s = {mul(l2u, ef), fma(l2l, ef, _mm256_fmsub_pd(l2u, ef, mul(l2u, ef)))};
  D sx = mul(x.x, c(2.0)), sy = mul(x.y, c(2.0));
  D r = add(s.x, sx);
  s = {r, add(add(add(sub(s.x, r), sx), s.y), sy)};
  D y = mul(mul(x2, x.x), t);
  r = add(s.x, y);
  r = add(r, add(add(sub(s.x, r), y), s.y));
  r = _mm256_blendv_pd(r, c(__builtin_inf()), _mm256_cmp_pd(d, c(__builtin_inf()), _CMP_EQ_OQ));
  D bad = _mm256_or_pd(_mm256_cmp_pd(d, c(0.0), _CMP_LT_OQ), _mm256_cmp_pd(d, d, _CMP_UNORD_Q));
  r = _mm256_blendv_pd(r, c(__builtin_nan("")), bad);
  return _mm256_blendv_pd(r, c(-__builtin_inf()), _mm256_cmp_pd(d, c(0.0), _CMP_EQ_OQ));
}
}  // namespace pd

template <class Fn>
void each8(const float* x, float* y, int64_t n, Fn fn) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));
  if (i < n) {  // PyTorch's partial vector: zero-padded, computed whole, stored in part
    float buf[8] = {};
    for (int64_t k = i; k < n; ++k)
      buf[k - i] = x[k];
    _mm256_storeu_ps(buf, fn(_mm256_loadu_ps(buf)));
    for (int64_t k = i; k < n; ++k)
      y[k] = buf[k - i];
  }
}

}  // namespace
}  // namespace tg::vec::detail

namespace tg::smx::detail {

void exp_f32_avx2(const float* x, float* y, int64_t n) {
  vec::detail::each8(x, y, n, [](__m256 v) { return vec::detail::pm::exp(v); });
}

void log_f32_avx2(const float* x, float* y, int64_t n) {
  vec::detail::each8(x, y, n, [](__m256 v) { return vec::detail::pm::logf(v); });
}

void exp_f64_avx2(const double* x, double* y, int64_t n) {
  const int64_t whole = n / 4 * 4;
  if (y != x)
    for (int64_t i = 0; i < whole; ++i)
      y[i] = x[i];
  pmath::exp_f64(y, whole);
  if (whole < n) {
    double buf[4] = {};
    for (int64_t k = whole; k < n; ++k)
      buf[k - whole] = x[k];
    pmath::exp_f64(buf, 4);
    for (int64_t k = whole; k < n; ++k)
      y[k] = buf[k - whole];
  }
}

void log_f64_avx2(const double* x, double* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(y + i, vec::detail::pd::log(_mm256_loadu_pd(x + i)));
  if (i < n) {
    double buf[4] = {1.0, 1.0, 1.0, 1.0};
    for (int64_t k = i; k < n; ++k)
      buf[k - i] = x[k];
    _mm256_storeu_pd(buf, vec::detail::pd::log(_mm256_loadu_pd(buf)));
    for (int64_t k = i; k < n; ++k)
      y[k] = buf[k - i];
  }
}

void fma_f32_avx2(const float* a, const float* b, float bs, const float* c, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 bv = b ? _mm256_loadu_ps(b + i) : _mm256_set1_ps(bs);
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(_mm256_loadu_ps(a + i), bv, _mm256_loadu_ps(c + i)));
  }
  for (; i < n; ++i)
    out[i] = std::fma(a[i], b ? b[i] : bs, c[i]);
}

void fma_f64_avx2(const double* a, const double* b, double bs, const double* c, double* out,
                  int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d bv = b ? _mm256_loadu_pd(b + i) : _mm256_set1_pd(bs);
    _mm256_storeu_pd(out + i, _mm256_fmadd_pd(_mm256_loadu_pd(a + i), bv, _mm256_loadu_pd(c + i)));
  }
  for (; i < n; ++i)
    out[i] = std::fma(a[i], b ? b[i] : bs, c[i]);
}

}  // namespace tg::smx::detail
