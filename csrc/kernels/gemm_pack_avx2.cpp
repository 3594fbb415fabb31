// AVX2 + F16C GEMM packing: copies blocks of A and B, read through strides, into the
// micro-panel layouts of gemm.h (with float16 -> float32 widening by F16C); the micro-kernels
// that read them are in gemm_avx2.cpp. This file is compiled with -mavx2 -mfma -mf16c, so it must
// not instantiate inline functions or templates with external linkage (std:: helpers, half.h's
// converters): the linker could pick this file's AVX2 copy for the portable callers too. All
// helpers live in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace tg {
namespace gemm_detail {
namespace {

constexpr int MR = kMR;
constexpr int NR = kNR;

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float load1(const float* p) {
  return *p;
}
inline float load1(const uint16_t* p) {
  return _cvtsh_ss(*p);
}

// In-register 8x8 transpose: afterwards r[k] holds what was column k.
inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One A micro-panel: mr (<= MR) rows x kc, element (i, k) at a[i*rs + k*cs].
template <class T>
void pack_a_panel(int64_t mr, int64_t kc, const T* a, int64_t rs, int64_t cs, float* dst) {
  int64_t k = 0;
  if (cs == 1 && mr == MR) {
    // Rows are contiguous in k: load 8 k's from each row, transpose, and store each k's MR values
    // 8 wide; the 2 extra floats of each store are overwritten by the next one (and the last
    // spills into the caller's slack or the next panel, which is packed afterwards).
    for (; k + 8 <= kc; k += 8) {
      __m256 r[8];
      for (int i = 0; i < MR; ++i)
        r[i] = load8(a + i * rs + k);
      r[6] = _mm256_setzero_ps();
      r[7] = _mm256_setzero_ps();
      transpose8(r);
      for (int t = 0; t < 8; ++t)
        _mm256_storeu_ps(dst + (k + t) * MR, r[t]);
    }
  }
  for (; k < kc; ++k) {
    float* d = dst + k * MR;
    int64_t i = 0;
    for (; i < mr; ++i)
      d[i] = load1(a + i * rs + k * cs);
    for (; i < MR; ++i)
      d[i] = 0.0f;
  }
}

// MR consecutive values of A's column k, stored as one k-row of a micro-panel (unaligned 8-byte
// loads and stores through the epi64 forms, which declare them unaligned).
inline void copy6(const float* src, float* d) {
  _mm_storeu_ps(d, _mm_loadu_ps(src));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 4),
                   _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + 4)));
}
inline void copy6(const uint16_t* src, float* d) {
  _mm_storeu_ps(d, _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src))));
  int32_t two;
  __builtin_memcpy(&two, src + 4, 4);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 4),
                   _mm_castps_si128(_mm_cvtph_ps(_mm_cvtsi32_si128(two))));
}

// The full W-wide panels (x < full) of a block whose values for one k are contiguous, at
// src + k * ks: G panels at a time, k outermost, so each k's reads run along one row while only
// G write streams are open. copy(s, d) moves one panel's W values for one k.
template <int W, int G, class T, class Copy>
void pack_groups(int64_t full, int64_t kc, const T* src, int64_t ks, float* dst, Copy copy) {
  for (int64_t x0 = 0; x0 < full; x0 += G * W) {
    const int64_t x1 = min64(full, x0 + G * W);
    for (int64_t k = 0; k < kc; ++k) {
      const T* s = src + k * ks;
      float* d = dst + k * W;
      for (int64_t x = x0; x < x1; x += W)
        copy(s + x, d + x * kc);
    }
  }
}

// A with contiguous columns (A^T stored row-major, rs == 1), eight micro-panels at a time: each
// k reads 48 consecutive values (whole cache lines) once. Panel by panel instead, the next panels
// re-read each line after it had left L1: 0.42 ns a float against 0.09 for a 1024 x 256 A^T.
template <class T>
void pack_a_cols(int64_t mc, int64_t kc, const T* a, int64_t cs, float* dst) {
  const int64_t full = mc / MR * MR;
  pack_groups<MR, 8>(full, kc, a, cs, dst, [](const T* s, float* d) { copy6(s, d); });
  if (full < mc) pack_a_panel(mc - full, kc, a + full, int64_t(1), cs, dst + full * kc);
}

template <class T>
void pack_a_t(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, float* dst) {
  if (rs == 1 && cs != 1) return pack_a_cols(mc, kc, a, cs, dst);
  for (int64_t i = 0; i < mc; i += MR)
    pack_a_panel(min64(MR, mc - i), kc, a + i * rs, rs, cs, dst + i * kc);
}

// One B micro-panel: kc x nr (<= NR) columns, element (k, j) at b[k*rs + j*cs].
template <class T>
void pack_b_panel(int64_t kc, int64_t nr, const T* b, int64_t rs, int64_t cs, float* dst) {
  int64_t k = 0;
  if (nr == NR && cs == 1) {
    for (; k < kc; ++k) {
      const T* src = b + k * rs;
      // The next panel's part of this row (gemm.cpp packs B panel by panel, between kernels).
      _mm_prefetch(reinterpret_cast<const char*>(src + NR), _MM_HINT_T0);
      _mm256_store_ps(dst + k * NR, load8(src));
      _mm256_store_ps(dst + k * NR + 8, load8(src + 8));
    }
  } else if (nr == NR && rs == 1) {
    // Columns are contiguous in k: transpose 8x8 tiles.
    for (; k + 8 <= kc; k += 8) {
      for (int h = 0; h < 2; ++h) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j)
          r[j] = load8(b + (h * 8 + j) * cs + k);
        transpose8(r);
        for (int t = 0; t < 8; ++t)
          _mm256_store_ps(dst + (k + t) * NR + h * 8, r[t]);
      }
    }
  }
  for (; k < kc; ++k) {
    float* d = dst + k * NR;
    int64_t j = 0;
    for (; j < nr; ++j)
      d[j] = load1(b + k * rs + j * cs);
    for (; j < NR; ++j)
      d[j] = 0.0f;
  }
}

template <class T>
void pack_b_t(int64_t kc, int64_t nc, const T* b, int64_t rs, int64_t cs, float* dst) {
  if (cs == 1) {
    // Rows of B are contiguous: four panels at a time, row by row (walking down one 64-byte-wide
    // panel strides by rs and misses the TLB when rs is large).
    const int64_t full = nc / NR * NR;
    pack_groups<NR, 4>(full, kc, b, rs, dst, [](const T* s, float* d) {
      _mm256_store_ps(d, load8(s));
      _mm256_store_ps(d + 8, load8(s + 8));
    });
    if (full < nc) pack_b_panel(kc, nc - full, b + full, rs, cs, dst + full * kc);
    return;
  }
  for (int64_t j = 0; j < nc; j += NR)
    pack_b_panel(kc, min64(NR, nc - j), b + j * cs, rs, cs, dst + j * kc);
}

// pack_perm_avx2's body. k outermost, so each destination row (one cache line for W = 16) is
// written whole before the next.
template <typename T>
void pack_perm_t(const T* src, int64_t xs, int64_t n, int64_t K, const int32_t* inv, float* dst,
                 int W) {
  const int64_t k8 = K & ~int64_t(7);
  for (int64_t k = 0; k < k8; k += 8)
    for (int xg = 0; xg < W; xg += 8) {
      const int w = W - xg < 8 ? W - xg : 8;
      __m256 r[8];
      for (int i = 0; i < 8; ++i)
        r[i] = xg + i < n ? load8(src + (xg + i) * xs + k) : _mm256_setzero_ps();
      transpose8(r);
      for (int i = 0; i < 8; ++i) {
        float* d = dst + int64_t(inv[k + i]) * W + xg;
        if (w == 8) {
          _mm256_storeu_ps(d, r[i]);
        } else {
          alignas(32) float t[8];
          _mm256_store_ps(t, r[i]);
          for (int j = 0; j < w; ++j)
            d[j] = t[j];
        }
      }
    }
  for (int64_t k = k8; k < K; ++k)
    for (int64_t x = 0; x < W; ++x)
      dst[int64_t(inv[k]) * W + x] = x < n ? load1(src + x * xs + k) : 0.0f;
}

}  // namespace

void widen_avx2(const uint16_t* src, int64_t n, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, load8(src + i));
  for (; i < n; ++i)
    dst[i] = _cvtsh_ss(src[i]);
}

void pack_perm_avx2(const void* src, DType dt, int64_t xs, int64_t n, int64_t K, const int32_t* inv,
                    float* dst, int W) {
  if (dt == DType::f16)
    pack_perm_t(static_cast<const uint16_t*>(src), xs, n, K, inv, dst, W);
  else
    pack_perm_t(static_cast<const float*>(src), xs, n, K, inv, dst, W);
}

void pack_a_avx2(int64_t mc, int64_t kc, const void* a, DType dt, int64_t rs, int64_t cs,
                 float* dst) {
  if (dt == DType::f16)
    pack_a_t(mc, kc, static_cast<const uint16_t*>(a), rs, cs, dst);
  else
    pack_a_t(mc, kc, static_cast<const float*>(a), rs, cs, dst);
}

void pack_b_avx2(int64_t kc, int64_t nc, const void* b, DType dt, int64_t rs, int64_t cs,
                 float* dst) {
  if (dt == DType::f16)
    pack_b_t(kc, nc, static_cast<const uint16_t*>(b), rs, cs, dst);
  else
    pack_b_t(kc, nc, static_cast<const float*>(b), rs, cs, dst);
}

}  // namespace gemm_detail
}  // namespace tg
