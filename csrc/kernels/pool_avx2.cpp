// Max pooling's most common case, 2x2 windows at stride 2 inside the image, 8 windows of a row at
// once (kernels.h: max_2x2_avx2). Each lane scans its window as the portable code does:
// (0,0), (0,1), (1,0), (1,1), taking an element when it is larger than the maximum so far or NaN.
// Compiled with -mavx2 -mfma -mf16c: helpers stay in an anonymous namespace, no std:: templates.
#include <immintrin.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace tg {
namespace {

// The even and odd elements of 16 consecutive floats (a: the first 8, b: the next 8).
inline void split(__m256 a, __m256 b, __m256* even, __m256* odd) {
  *even = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  *odd = _mm256_castpd_ps(
      _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

struct Scan {
  __m256 m = _mm256_set1_ps(-__builtin_inff());
  __m256i at;
  void take(__m256 v, __m256i where) {
    const __m256 t =
        _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    m = _mm256_blendv_ps(m, v, t);
    at = _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(where), t));
  }
};

inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline void store8(float* p, __m256 v) {
  _mm256_storeu_ps(p, v);
}
inline void store8(uint16_t* p, __m256 v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

// 8 windows of output row oh from column ow: r0 and r1 hold their two input rows (16 elements
// each, from the windows' first column); n of the 8 are stored.
template <class T>
void group(const T* r0, const T* r1, int64_t W, int64_t at0, int n, T* out, int64_t* idx) {
  const __m256i first = _mm256_add_epi32(_mm256_set1_epi32(int32_t(at0)),
                                         _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14));
  __m256 e0, o0, e1, o1;
  split(load8(r0), load8(r0 + 8), &e0, &o0);
  split(load8(r1), load8(r1 + 8), &e1, &o1);
  Scan s;
  s.at = first;
  s.take(e0, first);
  s.take(o0, _mm256_add_epi32(first, _mm256_set1_epi32(1)));
  s.take(e1, _mm256_add_epi32(first, _mm256_set1_epi32(int32_t(W))));
  s.take(o1, _mm256_add_epi32(first, _mm256_set1_epi32(int32_t(W + 1))));
  T vals[8];
  alignas(32) int64_t at[8];
  T* vo = n == 8 ? out : vals;
  int64_t* io = n == 8 ? idx : at;
  if (out) store8(vo, s.m);
  if (idx) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(io),
                        _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s.at)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(io + 4),
                        _mm256_cvtepi32_epi64(_mm256_extracti128_si256(s.at, 1)));
  }
  for (int l = 0; n < 8 && l < n; ++l) {
    if (out) out[l] = vals[l];
    if (idx) idx[l] = at[l];
  }
}

template <class T>
void rows(const T* x, int64_t W, int64_t OW, int64_t oh0, int64_t oh1, int64_t avail, T* out,
          int64_t* idx) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const T* r0 = x + 2 * oh * W;
    int64_t ow = 0;
    for (; ow + 8 <= OW; ow += 8)
      group(r0 + 2 * ow, r0 + W + 2 * ow, W, 2 * oh * W + 2 * ow, 8, out ? out + oh * OW + ow : out,
            idx ? idx + oh * OW + ow : idx);
    if (ow == OW) continue;
    const int n = int(OW - ow);
    if (2 * oh * W + W + 2 * ow + 16 <= avail) {  // read in place: the extra lanes are dropped
      group(r0 + 2 * ow, r0 + W + 2 * ow, W, 2 * oh * W + 2 * ow, n, out ? out + oh * OW + ow : out,
            idx ? idx + oh * OW + ow : idx);
      continue;
    }
    // The tensor's last windows: their inputs copied beside zeros (scalar stores that the vector
    // loads then wait on, so only where reading in place could pass the end).
    T t0[16] = {}, t1[16] = {};
    for (int j = 0; j < 2 * n; ++j) {
      t0[j] = r0[2 * ow + j];
      t1[j] = r0[W + 2 * ow + j];
    }
    group(t0, t1, W, 2 * oh * W + 2 * ow, n, out ? out + oh * OW + ow : out,
          idx ? idx + oh * OW + ow : idx);
  }
}

}  // namespace

void max_2x2_avx2(const float* x, int64_t W, int64_t OW, int64_t oh0, int64_t oh1, int64_t avail,
                  float* out, int64_t* idx) {
  rows(x, W, OW, oh0, oh1, avail, out, idx);
}
void max_2x2_avx2(const uint16_t* x, int64_t W, int64_t OW, int64_t oh0, int64_t oh1, int64_t avail,
                  uint16_t* out, int64_t* idx) {
  rows(x, W, OW, oh0, oh1, avail, out, idx);
}

}  // namespace tg
