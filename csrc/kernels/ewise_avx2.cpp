// AVX2 vector code of kernels/ewise_vec.h: PyTorch's Vectorized<float> formulas, operation for
// operation (no contraction: CMakeLists.txt compiles this file with -ffp-contract=off).
#include "kernels/ewise_vec.h"

#if TG_HAVE_AVX2
#include <immintrin.h>

#include "kernels/pmath_avx2.h"
#include "kernels/simd_avx2.h"

namespace tg::vec::detail {

namespace {

TG_INLINE __m256 one() {
  return _mm256_set1_ps(1.0f);
}
TG_INLINE __m256 neg(__m256 x) {
  return _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));
}
TG_INLINE __m256 silu8(__m256 x) {
  return _mm256_div_ps(x, _mm256_add_ps(one(), pm::exp(neg(x))));
}
// PyTorch's AVX2 build contracts 1 + x * (1 - s) into one fused multiply-add.
TG_INLINE __m256 silu_grad8(__m256 g, __m256 x) {
  const __m256 s = _mm256_div_ps(one(), _mm256_add_ps(one(), pm::exp(neg(x))));
  return _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_fmadd_ps(x, _mm256_sub_ps(one(), s), one()));
}

template <class L, class Fn>
void each8(const void* a, const void* b, void* y, int64_t n, Fn fn) {
  using T = typename L::T;
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  T* py = static_cast<T*>(y);
  for (int64_t i = 0; i < n; i += 8)
    L::store1(py + i, fn(L::load1(pa + i), pb ? L::load1(pb + i) : _mm256_setzero_ps()));
}

template <class Fn>
void by_dtype(DType dt, const void* a, const void* b, void* y, int64_t n, Fn fn) {
  if (dt == DType::f32)
    each8<F32>(a, b, y, n, fn);
  else
    each8<F16>(a, b, y, n, fn);
}

}  // namespace

void silu_avx2(DType dt, const void* x, void* y, int64_t n) {
  by_dtype(dt, x, nullptr, y, n, [](__m256 v, __m256) { return silu8(v); });
}
void silu_grad_avx2(DType dt, const void* g, const void* x, void* gx, int64_t n) {
  by_dtype(dt, g, x, gx, n, [](__m256 gv, __m256 xv) { return silu_grad8(gv, xv); });
}
void pow2_avx2(DType dt, const void* x, const void* e, void* y, int64_t n) {
  by_dtype(dt, x, e, y, n, [](__m256 xv, __m256 ev) { return pm::pow(xv, ev); });
}

}  // namespace tg::vec::detail

#endif  // TG_HAVE_AVX2
