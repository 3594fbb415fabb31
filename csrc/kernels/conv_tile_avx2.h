// The AVX2 direct convolution tiles' register block, shared by the float32 (conv_avx2.cpp) and
// float16 (conv_f16_avx2.cpp) kernels: twelve accumulators in named variables (an array of them
// is kept in memory by the compiler, one store per FMA), two 8-lane vectors per row of the tile.
// Include only from files compiled with -mavx2 -mfma (conv_f16_avx512.cpp uses lanes_sum too).
#pragma once
#include <immintrin.h>

namespace {
// The sum of v's 8 lanes in ATen's order for its 8-lane folds: ((l0 + l4) + (l2 + l6)) +
// ((l1 + l5) + (l3 + l7)). Internal linkage: an AVX2 copy must never serve portable code.
inline float lanes_sum(__m256 v) {
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 q = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}
}  // namespace

#define TG_ACC_DECL                                            \
  __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(); \
  __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(); \
  __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(); \
  __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps(); \
  __m256 a40 = _mm256_setzero_ps(), a41 = _mm256_setzero_ps(); \
  __m256 a50 = _mm256_setzero_ps(), a51 = _mm256_setzero_ps()

// By channel: the inputs r[0], ..., r[N - 1] (N <= 6 positions) broadcast, each times the two
// weight vectors w0 and w1, added to rows 0..N-1 of the accumulators.
#define TG_CHANNEL_FMAS(N, r, w0, w1)      \
  do {                                     \
    __m256 xb_ = _mm256_broadcast_ss(r);   \
    a00 = _mm256_fmadd_ps(xb_, w0, a00);   \
    a01 = _mm256_fmadd_ps(xb_, w1, a01);   \
    if (N > 1) {                           \
      xb_ = _mm256_broadcast_ss((r) + 1);  \
      a10 = _mm256_fmadd_ps(xb_, w0, a10); \
      a11 = _mm256_fmadd_ps(xb_, w1, a11); \
    }                                      \
    if (N > 2) {                           \
      xb_ = _mm256_broadcast_ss((r) + 2);  \
      a20 = _mm256_fmadd_ps(xb_, w0, a20); \
      a21 = _mm256_fmadd_ps(xb_, w1, a21); \
    }                                      \
    if (N > 3) {                           \
      xb_ = _mm256_broadcast_ss((r) + 3);  \
      a30 = _mm256_fmadd_ps(xb_, w0, a30); \
      a31 = _mm256_fmadd_ps(xb_, w1, a31); \
    }                                      \
    if (N > 4) {                           \
      xb_ = _mm256_broadcast_ss((r) + 4);  \
      a40 = _mm256_fmadd_ps(xb_, w0, a40); \
      a41 = _mm256_fmadd_ps(xb_, w1, a41); \
    }                                      \
    if (N > 5) {                           \
      xb_ = _mm256_broadcast_ss((r) + 5);  \
      a50 = _mm256_fmadd_ps(xb_, w0, a50); \
      a51 = _mm256_fmadd_ps(xb_, w1, a51); \
    }                                      \
  } while (0)

// By position: the input vectors x0 and x1 (16 positions) times the weights wr[0..5] broadcast,
// added to the six rows of the accumulators.
#define TG_POSITION_FMAS(wr, x0, x1)      \
  do {                                    \
    __m256 wv_ = _mm256_broadcast_ss(wr); \
    a00 = _mm256_fmadd_ps(wv_, x0, a00);  \
    a01 = _mm256_fmadd_ps(wv_, x1, a01);  \
    wv_ = _mm256_broadcast_ss((wr) + 1);  \
    a10 = _mm256_fmadd_ps(wv_, x0, a10);  \
    a11 = _mm256_fmadd_ps(wv_, x1, a11);  \
    wv_ = _mm256_broadcast_ss((wr) + 2);  \
    a20 = _mm256_fmadd_ps(wv_, x0, a20);  \
    a21 = _mm256_fmadd_ps(wv_, x1, a21);  \
    wv_ = _mm256_broadcast_ss((wr) + 3);  \
    a30 = _mm256_fmadd_ps(wv_, x0, a30);  \
    a31 = _mm256_fmadd_ps(wv_, x1, a31);  \
    wv_ = _mm256_broadcast_ss((wr) + 4);  \
    a40 = _mm256_fmadd_ps(wv_, x0, a40);  \
    a41 = _mm256_fmadd_ps(wv_, x1, a41);  \
    wv_ = _mm256_broadcast_ss((wr) + 5);  \
    a50 = _mm256_fmadd_ps(wv_, x0, a50);  \
    a51 = _mm256_fmadd_ps(wv_, x1, a51);  \
  } while (0)
