// AVX2 + FMA + F16C GEMM kernels: packing (with float16 -> float32 widening by F16C) and the
// 6x16 register-tiled micro-kernel. This file is compiled with -mavx2 -mfma -mf16c, so it must
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
  } else if (rs == 1 && mr == MR) {
    for (; k < kc; ++k) {
      const T* src = a + k * cs;
      float* d = dst + k * MR;
      for (int i = 0; i < MR; ++i)
        d[i] = load1(src + i);
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

template <class T>
void pack_a_t(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, float* dst) {
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
    // Rows of B are contiguous: walk groups of kGroup panels row by row, so that reads run
    // along rows (walking down one 64-byte-wide panel strides by rs and misses the TLB when rs
    // is large) while only kGroup write streams are open at once.
    constexpr int64_t kGroup = 4;
    const int64_t full = nc / NR * NR;
    for (int64_t j0 = 0; j0 < full; j0 += kGroup * NR) {
      const int64_t j1 = min64(full, j0 + kGroup * NR);
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = b + k * rs;
        float* d = dst + k * NR;
        for (int64_t j = j0; j < j1; j += NR) {
          _mm256_store_ps(d + j * kc, load8(src + j));
          _mm256_store_ps(d + j * kc + 8, load8(src + j + 8));
        }
      }
    }
    if (full < nc) pack_b_panel(kc, nc - full, b + full, rs, cs, dst + full * kc);
    return;
  }
  for (int64_t j = 0; j < nc; j += NR)
    pack_b_panel(kc, min64(NR, nc - j), b + j * cs, rs, cs, dst + j * kc);
}

// The 6x16 micro-kernel: 12 ymm accumulators; per k, two B vectors and six A broadcasts.
inline void kernel_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                        bool first) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < MR; ++i)
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  for (int i = 0; i < MR; ++i)
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 15), _MM_HINT_T0);

#define TG_GEMM_STEP(K)                                \
  {                                                    \
    __m256 b0 = _mm256_load_ps(b + (K) * NR);          \
    __m256 b1 = _mm256_load_ps(b + (K) * NR + 8);      \
    __m256 av = _mm256_broadcast_ss(a + (K) * MR + 0); \
    c00 = _mm256_fmadd_ps(av, b0, c00);                \
    c01 = _mm256_fmadd_ps(av, b1, c01);                \
    av = _mm256_broadcast_ss(a + (K) * MR + 1);        \
    c10 = _mm256_fmadd_ps(av, b0, c10);                \
    c11 = _mm256_fmadd_ps(av, b1, c11);                \
    av = _mm256_broadcast_ss(a + (K) * MR + 2);        \
    c20 = _mm256_fmadd_ps(av, b0, c20);                \
    c21 = _mm256_fmadd_ps(av, b1, c21);                \
    av = _mm256_broadcast_ss(a + (K) * MR + 3);        \
    c30 = _mm256_fmadd_ps(av, b0, c30);                \
    c31 = _mm256_fmadd_ps(av, b1, c31);                \
    av = _mm256_broadcast_ss(a + (K) * MR + 4);        \
    c40 = _mm256_fmadd_ps(av, b0, c40);                \
    c41 = _mm256_fmadd_ps(av, b1, c41);                \
    av = _mm256_broadcast_ss(a + (K) * MR + 5);        \
    c50 = _mm256_fmadd_ps(av, b0, c50);                \
    c51 = _mm256_fmadd_ps(av, b1, c51);                \
  }

  // The k loop, unrolled by 4, is written in assembly: GCC's register allocation of the
  // intrinsics version spills accumulators. The 12 accumulators stay in compiler-chosen registers
  // (ymm0-11, as ymm12-15 are clobbered).
  int64_t k = 0;
  if (kc >= 4) {
    int64_t iters = kc / 4;
    k = iters * 4;
    __asm__ volatile(
        ".p2align 5\n\t"
        "1:\n\t"
        "prefetcht0 384(%[a])\n\t"
        "vmovaps 0(%[b]), %%ymm12\n\t"
        "vmovaps 32(%[b]), %%ymm13\n\t"
        "vbroadcastss 0(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
        "vbroadcastss 4(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
        "vbroadcastss 8(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
        "vbroadcastss 12(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
        "vbroadcastss 16(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
        "vbroadcastss 20(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
        "vmovaps 64(%[b]), %%ymm12\n\t"
        "vmovaps 96(%[b]), %%ymm13\n\t"
        "vbroadcastss 24(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
        "vbroadcastss 28(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
        "vbroadcastss 32(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
        "vbroadcastss 36(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
        "vbroadcastss 40(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
        "vbroadcastss 44(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
        "vmovaps 128(%[b]), %%ymm12\n\t"
        "vmovaps 160(%[b]), %%ymm13\n\t"
        "vbroadcastss 48(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
        "vbroadcastss 52(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
        "vbroadcastss 56(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
        "vbroadcastss 60(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
        "vbroadcastss 64(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
        "vbroadcastss 68(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
        "vmovaps 192(%[b]), %%ymm12\n\t"
        "vmovaps 224(%[b]), %%ymm13\n\t"
        "vbroadcastss 72(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c00]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c01]\n\t"
        "vbroadcastss 76(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c10]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c11]\n\t"
        "vbroadcastss 80(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c20]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c21]\n\t"
        "vbroadcastss 84(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c30]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c31]\n\t"
        "vbroadcastss 88(%[a]), %%ymm14\n\t"
        "vfmadd231ps %%ymm12, %%ymm14, %[c40]\n\t"
        "vfmadd231ps %%ymm13, %%ymm14, %[c41]\n\t"
        "vbroadcastss 92(%[a]), %%ymm15\n\t"
        "vfmadd231ps %%ymm12, %%ymm15, %[c50]\n\t"
        "vfmadd231ps %%ymm13, %%ymm15, %[c51]\n\t"
        "addq $96, %[a]\n\t"
        "addq $256, %[b]\n\t"
        "decq %[n]\n\t"
        "jnz 1b\n\t"
        : [a] "+r"(a), [b] "+r"(b), [n] "+r"(iters), [c00] "+x"(c00), [c01] "+x"(c01),
          [c10] "+x"(c10), [c11] "+x"(c11), [c20] "+x"(c20), [c21] "+x"(c21), [c30] "+x"(c30),
          [c31] "+x"(c31), [c40] "+x"(c40), [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51)
        :
        : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
  }
  for (; k < kc; ++k) {
    TG_GEMM_STEP(0)
    a += MR;
    b += NR;
  }
#undef TG_GEMM_STEP

  if (first) {
    _mm256_storeu_ps(c + 0 * ldc, c00);
    _mm256_storeu_ps(c + 0 * ldc + 8, c01);
    _mm256_storeu_ps(c + 1 * ldc, c10);
    _mm256_storeu_ps(c + 1 * ldc + 8, c11);
    _mm256_storeu_ps(c + 2 * ldc, c20);
    _mm256_storeu_ps(c + 2 * ldc + 8, c21);
    _mm256_storeu_ps(c + 3 * ldc, c30);
    _mm256_storeu_ps(c + 3 * ldc + 8, c31);
    _mm256_storeu_ps(c + 4 * ldc, c40);
    _mm256_storeu_ps(c + 4 * ldc + 8, c41);
    _mm256_storeu_ps(c + 5 * ldc, c50);
    _mm256_storeu_ps(c + 5 * ldc + 8, c51);
  } else {
#define TG_GEMM_ADD(P, V) _mm256_storeu_ps((P), _mm256_add_ps(_mm256_loadu_ps(P), (V)))
    TG_GEMM_ADD(c + 0 * ldc, c00);
    TG_GEMM_ADD(c + 0 * ldc + 8, c01);
    TG_GEMM_ADD(c + 1 * ldc, c10);
    TG_GEMM_ADD(c + 1 * ldc + 8, c11);
    TG_GEMM_ADD(c + 2 * ldc, c20);
    TG_GEMM_ADD(c + 2 * ldc + 8, c21);
    TG_GEMM_ADD(c + 3 * ldc, c30);
    TG_GEMM_ADD(c + 3 * ldc + 8, c31);
    TG_GEMM_ADD(c + 4 * ldc, c40);
    TG_GEMM_ADD(c + 4 * ldc + 8, c41);
    TG_GEMM_ADD(c + 5 * ldc, c50);
    TG_GEMM_ADD(c + 5 * ldc + 8, c51);
#undef TG_GEMM_ADD
  }
}

// Edge micro-kernel for R < MR rows of A (full NR columns), in intrinsics: with at most 10
// accumulators GCC keeps everything in registers.
template <int R>
void kernel_r16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool first) {
  __m256 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r)
    acc0[r] = acc1[r] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b + k * NR), b1 = _mm256_load_ps(b + k * NR + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + k * MR + r);
      acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    if (first) {
      _mm256_storeu_ps(cr, acc0[r]);
      _mm256_storeu_ps(cr + 8, acc1[r]);
    } else {
      _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc0[r]));
      _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc1[r]));
    }
  }
}

// Any tile: full tiles of a row-major C go straight to C, the rest through a buffer.
inline void tile(int64_t mr, int64_t nr, int64_t kc, const float* a, const float* b, float* c,
                 int64_t rsc, int64_t csc, bool first) {
  if (csc == 1 && nr == NR) {
    switch (mr) {
      case 6:
        return kernel_6x16(kc, a, b, c, rsc, first);
      case 5:
        return kernel_r16<5>(kc, a, b, c, rsc, first);
      case 4:
        return kernel_r16<4>(kc, a, b, c, rsc, first);
      case 3:
        return kernel_r16<3>(kc, a, b, c, rsc, first);
      case 2:
        return kernel_r16<2>(kc, a, b, c, rsc, first);
      default:
        return kernel_r16<1>(kc, a, b, c, rsc, first);
    }
  }
  alignas(32) float tmp[MR * NR];
  kernel_6x16(kc, a, b, tmp, NR, true);
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t q = 0; q < nr; ++q) {
      float& dst = c[r * rsc + q * csc];
      dst = first ? tmp[r * NR + q] : dst + tmp[r * NR + q];
    }
}

}  // namespace

void widen_avx2(const uint16_t* src, int64_t n, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, load8(src + i));
  for (; i < n; ++i)
    dst[i] = _cvtsh_ss(src[i]);
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

void macro_avx2(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                int64_t rsc, int64_t csc, bool first) {
  for (int64_t j = 0; j < nc; j += NR) {
    const int64_t nr = min64(NR, nc - j);
    for (int64_t i = 0; i < mc; i += MR)
      tile(min64(MR, mc - i), nr, kc, ap + i * kc, bp + j * kc, c + i * rsc + j * csc, rsc, csc,
           first);
  }
}

}  // namespace gemm_detail
}  // namespace tg
