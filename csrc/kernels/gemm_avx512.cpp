// AVX-512F float32 GEMM macro-kernel over the packed blocks of gemm.h: two adjacent B
// micro-panels (32 columns) per zmm micro-tile; and gemm16's float16 chains, two adjacent
// kSC-column panels at once. Every element of C gets the AVX2 kernel's
// operations in the AVX2 kernel's order (a fused multiply-add per k from zero, then stored or
// added to C), so the bits do not depend on which kernel ran. Compiled with -mavx512f; the same
// rules as the *_avx2.cpp files apply (anonymous namespace for every helper).
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm.h"
#include "kernels/gemm16.h"

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

// kernel_6x32 for the last R < MR rows: 2R accumulators, which GCC keeps in registers.
template <int R>
void kernel_r32(int64_t kc, const float* a, const float* p0, const float* p1, float* c, int64_t ldc,
                bool first) {
  __m512 acc0[R], acc1[R];
  for (int r = 0; r < R; ++r)
    acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(p0 + k * NR), b1 = _mm512_loadu_ps(p1 + k * NR);
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[k * MR + r]);
      acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    _mm512_storeu_ps(cr, first ? acc0[r] : _mm512_add_ps(_mm512_loadu_ps(cr), acc0[r]));
    _mm512_storeu_ps(cr + 16, first ? acc1[r] : _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc1[r]));
  }
}

void kernel_rows32(int64_t rows, int64_t kc, const float* a, const float* p0, const float* p1,
                   float* c, int64_t ldc, bool first) {
  switch (rows) {
    case 5:
      return kernel_r32<5>(kc, a, p0, p1, c, ldc, first);
    case 4:
      return kernel_r32<4>(kc, a, p0, p1, c, ldc, first);
    case 3:
      return kernel_r32<3>(kc, a, p0, p1, c, ldc, first);
    case 2:
      return kernel_r32<2>(kc, a, p0, p1, c, ldc, first);
    default:
      return kernel_r32<1>(kc, a, p0, p1, c, ldc, first);
  }
}

// A chain tile over two adjacent B panels: kSR rows x 2 kSC columns in ten zmm registers. In
// memory, panel 0's kSR x kSC tile (row-major), then panel 1's.
struct ChainTile2 {
  __m512 c0, c1, c2, c3, c4, c5, c6, c7, c8, c9;  // row r: c(2r) for panel 0, c(2r+1) panel 1
  void zero() { c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = _mm512_setzero_ps(); }
  static const float* at(const float* p, int r, int panel) { return p + panel * kT + r * kSC; }
  static float* at(float* p, int r, int panel) { return p + panel * kT + r * kSC; }
  void load(const float* p) {
    c0 = _mm512_loadu_ps(at(p, 0, 0)), c1 = _mm512_loadu_ps(at(p, 0, 1));
    c2 = _mm512_loadu_ps(at(p, 1, 0)), c3 = _mm512_loadu_ps(at(p, 1, 1));
    c4 = _mm512_loadu_ps(at(p, 2, 0)), c5 = _mm512_loadu_ps(at(p, 2, 1));
    c6 = _mm512_loadu_ps(at(p, 3, 0)), c7 = _mm512_loadu_ps(at(p, 3, 1));
    c8 = _mm512_loadu_ps(at(p, 4, 0)), c9 = _mm512_loadu_ps(at(p, 4, 1));
  }
  void add(const float* p) {  // c = p + c, lane by lane (addition commutes exactly)
    c0 = _mm512_add_ps(_mm512_loadu_ps(at(p, 0, 0)), c0);
    c1 = _mm512_add_ps(_mm512_loadu_ps(at(p, 0, 1)), c1);
    c2 = _mm512_add_ps(_mm512_loadu_ps(at(p, 1, 0)), c2);
    c3 = _mm512_add_ps(_mm512_loadu_ps(at(p, 1, 1)), c3);
    c4 = _mm512_add_ps(_mm512_loadu_ps(at(p, 2, 0)), c4);
    c5 = _mm512_add_ps(_mm512_loadu_ps(at(p, 2, 1)), c5);
    c6 = _mm512_add_ps(_mm512_loadu_ps(at(p, 3, 0)), c6);
    c7 = _mm512_add_ps(_mm512_loadu_ps(at(p, 3, 1)), c7);
    c8 = _mm512_add_ps(_mm512_loadu_ps(at(p, 4, 0)), c8);
    c9 = _mm512_add_ps(_mm512_loadu_ps(at(p, 4, 1)), c9);
  }
  void store(float* p) const {
    _mm512_storeu_ps(at(p, 0, 0), c0), _mm512_storeu_ps(at(p, 0, 1), c1);
    _mm512_storeu_ps(at(p, 1, 0), c2), _mm512_storeu_ps(at(p, 1, 1), c3);
    _mm512_storeu_ps(at(p, 2, 0), c4), _mm512_storeu_ps(at(p, 2, 1), c5);
    _mm512_storeu_ps(at(p, 3, 0), c6), _mm512_storeu_ps(at(p, 3, 1), c7);
    _mm512_storeu_ps(at(p, 4, 0), c8), _mm512_storeu_ps(at(p, 4, 1), c9);
  }
  // b: panel 0 at step 0; panel 1 is bstride floats further. A float16 product is exact in
  // float32, so the fused multiply-add rounds once, as PyTorch's multiply-then-add does.
  void run(int64_t n, const float* a, const float* b, int64_t bstride) {
    __m512 r0 = c0, r1 = c1, r2 = c2, r3 = c3, r4 = c4, r5 = c5, r6 = c6, r7 = c7, r8 = c8, r9 = c9;
    for (int64_t k = 0; k < n; ++k, a += kSR, b += kSC) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + bstride);
      __m512 av = _mm512_set1_ps(a[0]);
      r0 = _mm512_fmadd_ps(av, b0, r0), r1 = _mm512_fmadd_ps(av, b1, r1);
      av = _mm512_set1_ps(a[1]);
      r2 = _mm512_fmadd_ps(av, b0, r2), r3 = _mm512_fmadd_ps(av, b1, r3);
      av = _mm512_set1_ps(a[2]);
      r4 = _mm512_fmadd_ps(av, b0, r4), r5 = _mm512_fmadd_ps(av, b1, r5);
      av = _mm512_set1_ps(a[3]);
      r6 = _mm512_fmadd_ps(av, b0, r6), r7 = _mm512_fmadd_ps(av, b1, r7);
      av = _mm512_set1_ps(a[4]);
      r8 = _mm512_fmadd_ps(av, b0, r8), r9 = _mm512_fmadd_ps(av, b1, r9);
    }
    c0 = r0, c1 = r1, c2 = r2, c3 = r3, c4 = r4, c5 = r5, c6 = r6, c7 = r7, c8 = r8, c9 = r9;
  }
  static constexpr int kT = kSR * kSC;
};
static_assert(kSR == 5 && kSC == 16, "ChainTile2 holds 5 rows of two 16-column panels");

// chain_tree2_avx512's tile for two A panels as well (rows i0..i0+2 kSR): 20 zmm accumulators,
// twice the multiply-adds per B load and per chain's fixed cost. In memory: four kSR x kSC
// tiles, (A panel 0, B panel 0), (0, 1), (1, 0), (1, 1).
struct ChainTile4 {
  __m512 c000, c001, c010, c011, c020, c021, c030, c031, c040, c041, c100, c101, c110, c111, c120,
      c121, c130, c131, c140, c141;
  void zero() {
    c000 = c001 = c010 = c011 = c020 = c021 = c030 = c031 = c040 = c041 = c100 = c101 = c110 =
        c111 = c120 = c121 = c130 = c131 = c140 = c141 = _mm512_setzero_ps();
  }
  void add(const float* p) {  // c = p + c, lane by lane (addition commutes exactly)
    c000 = _mm512_add_ps(_mm512_loadu_ps(p + 0), c000);
    c001 = _mm512_add_ps(_mm512_loadu_ps(p + 80), c001);
    c010 = _mm512_add_ps(_mm512_loadu_ps(p + 16), c010);
    c011 = _mm512_add_ps(_mm512_loadu_ps(p + 96), c011);
    c020 = _mm512_add_ps(_mm512_loadu_ps(p + 32), c020);
    c021 = _mm512_add_ps(_mm512_loadu_ps(p + 112), c021);
    c030 = _mm512_add_ps(_mm512_loadu_ps(p + 48), c030);
    c031 = _mm512_add_ps(_mm512_loadu_ps(p + 128), c031);
    c040 = _mm512_add_ps(_mm512_loadu_ps(p + 64), c040);
    c041 = _mm512_add_ps(_mm512_loadu_ps(p + 144), c041);
    c100 = _mm512_add_ps(_mm512_loadu_ps(p + 160), c100);
    c101 = _mm512_add_ps(_mm512_loadu_ps(p + 240), c101);
    c110 = _mm512_add_ps(_mm512_loadu_ps(p + 176), c110);
    c111 = _mm512_add_ps(_mm512_loadu_ps(p + 256), c111);
    c120 = _mm512_add_ps(_mm512_loadu_ps(p + 192), c120);
    c121 = _mm512_add_ps(_mm512_loadu_ps(p + 272), c121);
    c130 = _mm512_add_ps(_mm512_loadu_ps(p + 208), c130);
    c131 = _mm512_add_ps(_mm512_loadu_ps(p + 288), c131);
    c140 = _mm512_add_ps(_mm512_loadu_ps(p + 224), c140);
    c141 = _mm512_add_ps(_mm512_loadu_ps(p + 304), c141);
  }
  void store(float* p) const {
    _mm512_storeu_ps(p + 0, c000);
    _mm512_storeu_ps(p + 80, c001);
    _mm512_storeu_ps(p + 16, c010);
    _mm512_storeu_ps(p + 96, c011);
    _mm512_storeu_ps(p + 32, c020);
    _mm512_storeu_ps(p + 112, c021);
    _mm512_storeu_ps(p + 48, c030);
    _mm512_storeu_ps(p + 128, c031);
    _mm512_storeu_ps(p + 64, c040);
    _mm512_storeu_ps(p + 144, c041);
    _mm512_storeu_ps(p + 160, c100);
    _mm512_storeu_ps(p + 240, c101);
    _mm512_storeu_ps(p + 176, c110);
    _mm512_storeu_ps(p + 256, c111);
    _mm512_storeu_ps(p + 192, c120);
    _mm512_storeu_ps(p + 272, c121);
    _mm512_storeu_ps(p + 208, c130);
    _mm512_storeu_ps(p + 288, c131);
    _mm512_storeu_ps(p + 224, c140);
    _mm512_storeu_ps(p + 304, c141);
  }
  // a: A panel 0 at step 0, panel 1 astride floats further; b likewise with bstride.
  void run(int64_t n, const float* a, int64_t astride, const float* b, int64_t bstride) {
    __m512 r000 = c000, r001 = c001, r010 = c010, r011 = c011, r020 = c020, r021 = c021,
           r030 = c030, r031 = c031, r040 = c040, r041 = c041, r100 = c100, r101 = c101,
           r110 = c110, r111 = c111, r120 = c120, r121 = c121, r130 = c130, r131 = c131,
           r140 = c140, r141 = c141;
    const float* a1 = a + astride;
    for (int64_t k = 0; k < n; ++k, a += kSR, a1 += kSR, b += kSC) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + bstride);
      {
        const __m512 av = _mm512_set1_ps(a[0]);
        r000 = _mm512_fmadd_ps(av, b0, r000);
        r001 = _mm512_fmadd_ps(av, b1, r001);
      }
      {
        const __m512 av = _mm512_set1_ps(a[1]);
        r010 = _mm512_fmadd_ps(av, b0, r010);
        r011 = _mm512_fmadd_ps(av, b1, r011);
      }
      {
        const __m512 av = _mm512_set1_ps(a[2]);
        r020 = _mm512_fmadd_ps(av, b0, r020);
        r021 = _mm512_fmadd_ps(av, b1, r021);
      }
      {
        const __m512 av = _mm512_set1_ps(a[3]);
        r030 = _mm512_fmadd_ps(av, b0, r030);
        r031 = _mm512_fmadd_ps(av, b1, r031);
      }
      {
        const __m512 av = _mm512_set1_ps(a[4]);
        r040 = _mm512_fmadd_ps(av, b0, r040);
        r041 = _mm512_fmadd_ps(av, b1, r041);
      }
      {
        const __m512 av = _mm512_set1_ps(a1[0]);
        r100 = _mm512_fmadd_ps(av, b0, r100);
        r101 = _mm512_fmadd_ps(av, b1, r101);
      }
      {
        const __m512 av = _mm512_set1_ps(a1[1]);
        r110 = _mm512_fmadd_ps(av, b0, r110);
        r111 = _mm512_fmadd_ps(av, b1, r111);
      }
      {
        const __m512 av = _mm512_set1_ps(a1[2]);
        r120 = _mm512_fmadd_ps(av, b0, r120);
        r121 = _mm512_fmadd_ps(av, b1, r121);
      }
      {
        const __m512 av = _mm512_set1_ps(a1[3]);
        r130 = _mm512_fmadd_ps(av, b0, r130);
        r131 = _mm512_fmadd_ps(av, b1, r131);
      }
      {
        const __m512 av = _mm512_set1_ps(a1[4]);
        r140 = _mm512_fmadd_ps(av, b0, r140);
        r141 = _mm512_fmadd_ps(av, b1, r141);
      }
    }
    c000 = r000, c001 = r001, c010 = r010, c011 = r011, c020 = r020, c021 = r021, c030 = r030,
    c031 = r031, c040 = r040, c041 = r041, c100 = r100, c101 = r101, c110 = r110, c111 = r111,
    c120 = r120, c121 = r121, c130 = r130, c131 = r131, c140 = r140, c141 = r141;
  }
};

}  // namespace

void chain2_avx512(int64_t n, const float* a, const float* b, int64_t bstride, float* acc,
                   bool fresh, bool add) {
  ChainTile2 t;
  if (fresh || add)
    t.zero();
  else
    t.load(acc);
  t.run(n, a, b, bstride);
  if (add) t.add(acc);
  t.store(acc);
}

void chain_tree2_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, const float* b, int64_t bstride, float* stack, float* out) {
  constexpr int64_t kStep = 2 * kSR * kSC;
  int top = 0;
  for (int i = 0; i < leaves; ++i) {
    const int64_t s0 = seg[chain_of_leaf[i]], n = seg[chain_of_leaf[i] + 1] - s0;
    ChainTile2 t;
    t.zero();
    t.run(n, a + s0 * kSR, b + s0 * kSC, bstride);
    for (int m = i; m & 1; m >>= 1)
      t.add(stack + --top * kStep);
    t.store(i == leaves - 1 ? out : stack + top++ * kStep);
  }
}

void chain_tree4_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, int64_t astride, const float* b, int64_t bstride,
                        float* stack, float* out) {
  constexpr int64_t kStep = 4 * kSR * kSC;
  int top = 0;
  for (int i = 0; i < leaves; ++i) {
    const int64_t s0 = seg[chain_of_leaf[i]], n = seg[chain_of_leaf[i] + 1] - s0;
    ChainTile4 t;
    t.zero();
    t.run(n, a + s0 * kSR, astride, b + s0 * kSC, bstride);
    for (int m = i; m & 1; m >>= 1)
      t.add(stack + --top * kStep);
    t.store(i == leaves - 1 ? out : stack + top++ * kStep);
  }
}

void macro_avx512(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                  int64_t rsc, int64_t csc, bool first) {
  if (csc != 1) return macro_avx2(mc, nc, kc, ap, bp, c, rsc, csc, first);
  const int64_t pairs = nc / (2 * NR) * (2 * NR), full = mc / MR * MR;
  for (int64_t j = 0; j < pairs; j += 2 * NR) {
    const float* p0 = bp + j * kc;
    for (int64_t i = 0; i < full; i += MR)
      kernel_6x32(kc, ap + i * kc, p0, p0 + NR * kc, c + i * rsc + j, rsc, first);
    if (full < mc)  // the last rows, fewer than MR
      kernel_rows32(mc - full, kc, ap + full * kc, p0, p0 + NR * kc, c + full * rsc + j, rsc,
                    first);
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
