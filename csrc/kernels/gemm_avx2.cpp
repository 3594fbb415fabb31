// AVX2 + FMA GEMM kernels: the 6x16 register-tiled micro-kernel, its edge variants and the
// macro-kernel over packed blocks (the packing is in gemm_pack_avx2.cpp). This file is compiled
// with -mavx2 -mfma -mf16c, so it must not instantiate inline functions or templates with
// external linkage (std:: helpers, half.h's converters): the linker could pick this file's AVX2
// copy for the portable callers too. All helpers live in an anonymous namespace.
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm.h"
#include "kernels/gemm16.h"

namespace tg {
namespace gemm_detail {
namespace {

constexpr int MR = kMR;
constexpr int NR = kNR;

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
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

float fma_loop_avx2(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(float(i));
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  for (int64_t k = 0; k < iters; ++k)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], m, a);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
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

namespace tg {
namespace gemm_detail {

namespace {

// A kSR x kSC chain tile in ten registers (row-major in memory: two vectors per row). Named
// members, not an array: GCC keeps an array's elements in memory across the loop.
struct ChainTile {
  __m256 c0, c1, c2, c3, c4, c5, c6, c7, c8, c9;
  void zero() { c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = _mm256_setzero_ps(); }
  void load(const float* p) {
    c0 = _mm256_loadu_ps(p), c1 = _mm256_loadu_ps(p + 8), c2 = _mm256_loadu_ps(p + 16);
    c3 = _mm256_loadu_ps(p + 24), c4 = _mm256_loadu_ps(p + 32), c5 = _mm256_loadu_ps(p + 40);
    c6 = _mm256_loadu_ps(p + 48), c7 = _mm256_loadu_ps(p + 56), c8 = _mm256_loadu_ps(p + 64);
    c9 = _mm256_loadu_ps(p + 72);
  }
  void add(const float* p) {  // c = p + c, lane by lane (addition commutes exactly)
    c0 = _mm256_add_ps(_mm256_loadu_ps(p), c0), c1 = _mm256_add_ps(_mm256_loadu_ps(p + 8), c1);
    c2 = _mm256_add_ps(_mm256_loadu_ps(p + 16), c2);
    c3 = _mm256_add_ps(_mm256_loadu_ps(p + 24), c3);
    c4 = _mm256_add_ps(_mm256_loadu_ps(p + 32), c4);
    c5 = _mm256_add_ps(_mm256_loadu_ps(p + 40), c5);
    c6 = _mm256_add_ps(_mm256_loadu_ps(p + 48), c6);
    c7 = _mm256_add_ps(_mm256_loadu_ps(p + 56), c7);
    c8 = _mm256_add_ps(_mm256_loadu_ps(p + 64), c8);
    c9 = _mm256_add_ps(_mm256_loadu_ps(p + 72), c9);
  }
  void store(float* p) const {
    _mm256_storeu_ps(p, c0), _mm256_storeu_ps(p + 8, c1), _mm256_storeu_ps(p + 16, c2);
    _mm256_storeu_ps(p + 24, c3), _mm256_storeu_ps(p + 32, c4), _mm256_storeu_ps(p + 40, c5);
    _mm256_storeu_ps(p + 48, c6), _mm256_storeu_ps(p + 56, c7), _mm256_storeu_ps(p + 64, c8);
    _mm256_storeu_ps(p + 72, c9);
  }
  // One fused multiply-add per step is exact-equivalent to PyTorch's multiply then add: the
  // product of two float16 values is exact in float32.
  void run(int64_t n, const float* a, const float* b) {
    __m256 r0 = c0, r1 = c1, r2 = c2, r3 = c3, r4 = c4, r5 = c5, r6 = c6, r7 = c7, r8 = c8, r9 = c9;
    for (int64_t k = 0; k < n; ++k, a += kSR, b += kSC) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      __m256 av = _mm256_broadcast_ss(a);
      r0 = _mm256_fmadd_ps(av, b0, r0), r1 = _mm256_fmadd_ps(av, b1, r1);
      av = _mm256_broadcast_ss(a + 1);
      r2 = _mm256_fmadd_ps(av, b0, r2), r3 = _mm256_fmadd_ps(av, b1, r3);
      av = _mm256_broadcast_ss(a + 2);
      r4 = _mm256_fmadd_ps(av, b0, r4), r5 = _mm256_fmadd_ps(av, b1, r5);
      av = _mm256_broadcast_ss(a + 3);
      r6 = _mm256_fmadd_ps(av, b0, r6), r7 = _mm256_fmadd_ps(av, b1, r7);
      av = _mm256_broadcast_ss(a + 4);
      r8 = _mm256_fmadd_ps(av, b0, r8), r9 = _mm256_fmadd_ps(av, b1, r9);
    }
    c0 = r0, c1 = r1, c2 = r2, c3 = r3, c4 = r4, c5 = r5, c6 = r6, c7 = r7, c8 = r8, c9 = r9;
  }
};

}  // namespace

void chain_avx2(int64_t n, const float* a, const float* b, float* acc, bool fresh, bool add) {
  static_assert(kSR == 5 && kSC == 16, "ChainTile holds a 5 x 16 tile");
  ChainTile t;
  if (fresh || add)
    t.zero();
  else
    t.load(acc);
  t.run(n, a, b);
  if (add) t.add(acc);
  t.store(acc);
}

// Each finished subtree waits on `stack` until its right sibling is done; leaf i closes as many
// subtrees as i has trailing one bits.
void chain_tree_avx2(int leaves, const int32_t* chain_of_leaf, const int64_t* seg, const float* a,
                     const float* b, float* stack, float* out) {
  int top = 0;
  for (int i = 0; i < leaves; ++i) {
    const int64_t s0 = seg[chain_of_leaf[i]], n = seg[chain_of_leaf[i] + 1] - s0;
    ChainTile t;
    t.zero();
    t.run(n, a + s0 * kSR, b + s0 * kSC);
    for (int m = i; m & 1; m >>= 1)
      t.add(stack + --top * kSR * kSC);
    t.store(i == leaves - 1 ? out : stack + top++ * kSR * kSC);
  }
}

}  // namespace gemm_detail
}  // namespace tg
