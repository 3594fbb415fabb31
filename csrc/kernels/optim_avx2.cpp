// The fused multiply-adds of the optimizer kernels (optim.cpp) with FMA instructions, as
// PyTorch's AVX2 kernels compute them. Compiled with -mavx2 -mfma (CMakeLists.txt) and called
// only where cpu::simd(); helpers have internal linkage (see vec_avx2.cpp).
#include "kernels/optim.h"

#if TG_HAVE_AVX2
#include <immintrin.h>

namespace tg::detail {

void fma_scalar_avx2(float s, const float* x, const float* y, float* out, int64_t n) {
  const __m256 vs = _mm256_set1_ps(s);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(vs, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i)
    out[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(s), _mm_set_ss(x[i]), _mm_set_ss(y[i])));
}

void fma_scalar_avx2(double s, const double* x, const double* y, double* out, int64_t n) {
  const __m256d vs = _mm256_set1_pd(s);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(out + i, _mm256_fmadd_pd(vs, _mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i)));
  for (; i < n; ++i)
    out[i] = _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(s), _mm_set_sd(x[i]), _mm_set_sd(y[i])));
}

void fma_arrays_avx2(const float* x, const float* y, const float* z, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i),
                                              _mm256_loadu_ps(z + i)));
  for (; i < n; ++i)
    out[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x[i]), _mm_set_ss(y[i]), _mm_set_ss(z[i])));
}

void fma_arrays_avx2(const double* x, const double* y, const double* z, double* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd(out + i, _mm256_fmadd_pd(_mm256_loadu_pd(x + i), _mm256_loadu_pd(y + i),
                                              _mm256_loadu_pd(z + i)));
  for (; i < n; ++i)
    out[i] = _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(x[i]), _mm_set_sd(y[i]), _mm_set_sd(z[i])));
}

}  // namespace tg::detail
#endif
