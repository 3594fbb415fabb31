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
// twice the multiply-adds per B load and per chain's fixed cost. In memory: four kSR x kSC tiles,
// (A panel, B panel) = (0, 0), (0, 1), (1, 0), (1, 1). Row R of A panel U is in registers cUR0 (B
// panel 0) and cUR1 (B panel 1), spelled out by TG_ROWS4: GCC keeps an array's elements in memory.
#define TG_ROWS4(X) X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(0, 4) X(1, 0) X(1, 1) X(1, 2) X(1, 3) X(1, 4)
struct ChainTile4 {
#define TG_DECL(U, R) __m512 c##U##R##0, c##U##R##1;
  TG_ROWS4(TG_DECL)
#undef TG_DECL
  static constexpr int64_t at(int u, int r, int q) { return (u * 2 + q) * kSR * kSC + r * kSC; }
  void zero() {
#define TG_ZERO(U, R) c##U##R##0 = c##U##R##1 = _mm512_setzero_ps();
    TG_ROWS4(TG_ZERO)
#undef TG_ZERO
  }
  void add(const float* p) {  // c = p + c, lane by lane (addition commutes exactly)
#define TG_ADD(U, R)                                                        \
  c##U##R##0 = _mm512_add_ps(_mm512_loadu_ps(p + at(U, R, 0)), c##U##R##0); \
  c##U##R##1 = _mm512_add_ps(_mm512_loadu_ps(p + at(U, R, 1)), c##U##R##1);
    TG_ROWS4(TG_ADD)
#undef TG_ADD
  }
  void store(float* p) const {
#define TG_STORE(U, R)                           \
  _mm512_storeu_ps(p + at(U, R, 0), c##U##R##0); \
  _mm512_storeu_ps(p + at(U, R, 1), c##U##R##1);
    TG_ROWS4(TG_STORE)
#undef TG_STORE
  }
  // a: A panel 0 at step 0, panel 1 astride floats further; b likewise with bstride.
  void run(int64_t n, const float* a, int64_t astride, const float* b, int64_t bstride) {
#define TG_LOCAL(U, R) __m512 r##U##R##0 = c##U##R##0, r##U##R##1 = c##U##R##1;
    TG_ROWS4(TG_LOCAL)
#undef TG_LOCAL
    const float* a1 = a + astride;
    for (int64_t k = 0; k < n; ++k, a += kSR, a1 += kSR, b += kSC) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + bstride);
#define TG_STEP(U, R)                                       \
  {                                                         \
    const __m512 av = _mm512_set1_ps((U == 0 ? a : a1)[R]); \
    r##U##R##0 = _mm512_fmadd_ps(av, b0, r##U##R##0);       \
    r##U##R##1 = _mm512_fmadd_ps(av, b1, r##U##R##1);       \
  }
      TG_ROWS4(TG_STEP)
#undef TG_STEP
    }
#define TG_BACK(U, R) c##U##R##0 = r##U##R##0, c##U##R##1 = r##U##R##1;
    TG_ROWS4(TG_BACK)
#undef TG_BACK
  }
};
#undef TG_ROWS4

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

namespace {
// The tree over `leaves` chains: leaf i's chain (chain_of_leaf[i]) summed from zero in a Tile by
// run(tile, first k, length), then folded with the stack's partial sums as i's trailing one bits
// say; the last leaf's sum is the root, written to out. kStep: the floats of one Tile.
template <class Tile, int64_t kStep, class Run>
void fold_tree(int leaves, const int32_t* chain_of_leaf, const int64_t* seg, float* stack,
               float* out, Run&& run) {
  int top = 0;
  for (int i = 0; i < leaves; ++i) {
    const int64_t s0 = seg[chain_of_leaf[i]], n = seg[chain_of_leaf[i] + 1] - s0;
    Tile t;
    t.zero();
    run(t, s0, n);
    for (int m = i; m & 1; m >>= 1)
      t.add(stack + --top * kStep);
    t.store(i == leaves - 1 ? out : stack + top++ * kStep);
  }
}
}  // namespace

void chain_tree2_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, const float* b, int64_t bstride, float* stack, float* out) {
  fold_tree<ChainTile2, 2 * kSR * kSC>(
      leaves, chain_of_leaf, seg, stack, out,
      [&](ChainTile2& t, int64_t s0, int64_t n) { t.run(n, a + s0 * kSR, b + s0 * kSC, bstride); });
}

void chain_tree4_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, int64_t astride, const float* b, int64_t bstride,
                        float* stack, float* out) {
  fold_tree<ChainTile4, 4 * kSR * kSC>(leaves, chain_of_leaf, seg, stack, out,
                                       [&](ChainTile4& t, int64_t s0, int64_t n) {
                                         t.run(n, a + s0 * kSR, astride, b + s0 * kSC, bstride);
                                       });
}

namespace {
// A C with strided columns (csc != 1: the product computed transposed): each rows x 32 tile is
// made in a buffer from zero, then stored or added to C, as the AVX2 kernel's buffered tiles.
void macro_strided(int64_t mc, int64_t pairs, int64_t kc, const float* ap, const float* bp,
                   float* c, int64_t rsc, int64_t csc, bool first) {
  alignas(64) float tmp[MR * 2 * NR];
  for (int64_t j = 0; j < pairs; j += 2 * NR) {
    const float* p0 = bp + j * kc;
    for (int64_t i = 0; i < mc; i += MR) {
      const int64_t rows = mc - i < MR ? mc - i : MR;
      if (rows == MR)
        kernel_6x32(kc, ap + i * kc, p0, p0 + NR * kc, tmp, 2 * NR, true);
      else
        kernel_rows32(rows, kc, ap + i * kc, p0, p0 + NR * kc, tmp, 2 * NR, true);
      for (int64_t q = 0; q < 2 * NR; ++q) {
        float* col = c + i * rsc + (j + q) * csc;
        for (int64_t r = 0; r < rows; ++r)
          col[r * rsc] = first ? tmp[r * 2 * NR + q] : col[r * rsc] + tmp[r * 2 * NR + q];
      }
    }
  }
}
}  // namespace

void macro_avx512(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                  int64_t rsc, int64_t csc, bool first) {
  const int64_t pairs = nc / (2 * NR) * (2 * NR), full = mc / MR * MR;
  if (csc != 1) {
    macro_strided(mc, pairs, kc, ap, bp, c, rsc, csc, first);
  } else {
    for (int64_t j = 0; j < pairs; j += 2 * NR) {
      const float* p0 = bp + j * kc;
      for (int64_t i = 0; i < full; i += MR)
        kernel_6x32(kc, ap + i * kc, p0, p0 + NR * kc, c + i * rsc + j, rsc, first);
      if (full < mc)  // the last rows, fewer than MR
        kernel_rows32(mc - full, kc, ap + full * kc, p0, p0 + NR * kc, c + full * rsc + j, rsc,
                      first);
    }
  }
  if (pairs < nc)  // the last panel, or part of one
    macro_avx2(mc, nc - pairs, kc, ap, bp + pairs * kc, c + pairs * csc, rsc, csc, first);
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
