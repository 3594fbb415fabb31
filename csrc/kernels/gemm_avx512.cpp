// AVX-512F float32 GEMM macro-kernel over the packed blocks of gemm.h: two adjacent B
// micro-panels (32 columns) per zmm micro-tile. Every element of C gets the AVX2 kernel's
// operations in the AVX2 kernel's order (a fused multiply-add per k from zero, then stored or
// added to C), so the bits do not depend on which kernel ran. Compiled with -mavx512f; the same
// rules as the *_avx2.cpp files apply (anonymous namespace for every helper).
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace tg {
namespace gemm_detail {
namespace {

constexpr int MR = kMR;
constexpr int NR = kNR;
static_assert(MR == 6 && NR == 16, "kernel_6x32 is written for 6-row A and 16-column B panels");

// 12 zmm accumulators: rows 0-5 of A against B panels p0 (columns 0-15) and p1 (16-31).
void kernel_6x32(int64_t kc, const float* a, const float* p0, const float* p1, float* c,
                 int64_t ldc, bool first) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 31), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(p0 + k * NR), b1 = _mm512_loadu_ps(p1 + k * NR);
    const float* ak = a + k * MR;
    __m512 av = _mm512_set1_ps(ak[0]);
    c00 = _mm512_fmadd_ps(av, b0, c00);
    c01 = _mm512_fmadd_ps(av, b1, c01);
    av = _mm512_set1_ps(ak[1]);
    c10 = _mm512_fmadd_ps(av, b0, c10);
    c11 = _mm512_fmadd_ps(av, b1, c11);
    av = _mm512_set1_ps(ak[2]);
    c20 = _mm512_fmadd_ps(av, b0, c20);
    c21 = _mm512_fmadd_ps(av, b1, c21);
    av = _mm512_set1_ps(ak[3]);
    c30 = _mm512_fmadd_ps(av, b0, c30);
    c31 = _mm512_fmadd_ps(av, b1, c31);
    av = _mm512_set1_ps(ak[4]);
    c40 = _mm512_fmadd_ps(av, b0, c40);
    c41 = _mm512_fmadd_ps(av, b1, c41);
    av = _mm512_set1_ps(ak[5]);
    c50 = _mm512_fmadd_ps(av, b0, c50);
    c51 = _mm512_fmadd_ps(av, b1, c51);
  }
  const __m512 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                             {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < MR; ++r)
    for (int h = 0; h < 2; ++h) {
      float* p = c + r * ldc + 16 * h;
      _mm512_storeu_ps(p, first ? acc[r][h] : _mm512_add_ps(_mm512_loadu_ps(p), acc[r][h]));
    }
}

}  // namespace

void macro_avx512(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                  int64_t rsc, int64_t csc, bool first) {
  if (csc != 1) return macro_avx2(mc, nc, kc, ap, bp, c, rsc, csc, first);
  const int64_t pairs = nc / (2 * NR) * (2 * NR), full = mc / MR * MR;
  for (int64_t j = 0; j < pairs; j += 2 * NR) {
    const float* p0 = bp + j * kc;
    for (int64_t i = 0; i < full; i += MR)
      kernel_6x32(kc, ap + i * kc, p0, p0 + NR * kc, c + i * rsc + j, rsc, first);
    if (full < mc)  // the last rows, fewer than MR
      macro_avx2(mc - full, 2 * NR, kc, ap + full * kc, p0, c + full * rsc + j, rsc, 1, first);
  }
  if (pairs < nc)  // the last panel, or part of one
    macro_avx2(mc, nc - pairs, kc, ap, bp + pairs * kc, c + pairs, rsc, 1, first);
}

float fma_loop_avx512(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_ps(float(i));
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  for (int64_t k = 0; k < iters; ++k)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], m, a);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

}  // namespace gemm_detail
}  // namespace tg
