// Packed, cache-blocked GEMM (BLIS-style) with a run-time chosen AVX2+FMA micro-kernel and a
// portable path beside it. Operands are read through strides (a transposed operand is a pair of
// swapped strides) and float16 operands are widened to float32 while packing; accumulation is
// always float32.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tg {

// Element (i, j) of a matrix operand is at p + i*rs + j*cs (strides in elements); dt is the
// storage type (DType::f32, or DType::f16 = IEEE half stored as uint16_t, see half.h).
struct MatRef {
  const void* p;
  DType dt;
  int64_t rs, cs;
};

// C[M,N] (float32, row-major with leading dimension ldc) = (accumulate ? C : 0) + A[M,K] @ B[K,N],
// accumulated in float32. M, N or K may be 0 (K == 0 zeroes C unless accumulate). Large products
// are split across tg::parallel_for's threads; tiny ones run on the calling thread without
// allocating. may_transpose false keeps C = A @ B as given (no C^T = B^T A^T for a better use of
// the micro-tiles): for callers whose operands are laid out for packing as they are.
void gemm(int64_t M, int64_t N, int64_t K, MatRef A, MatRef B, float* C, int64_t ldc,
          bool accumulate, bool may_transpose = true);

// C = A @ B with every element one sum from +0 over k in order, each product rounded and then
// added (the packed kernels with a single K block): for float16 operands, whose products are
// exact in float32, that is PyTorch's sequential float16 order (gemm16.h). False, computing
// nothing, when K is beyond one block.
bool gemm_in_order(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* C,
                   int64_t ldc);

// Internals shared by gemm.cpp, gemm16.cpp, gemm_avx2.cpp and gemm_pack_avx2.cpp; not for other
// callers.
namespace gemm_detail {
// An empty product (M, N or K zero): true when there is nothing left to compute; C is cleared
// for K == 0 unless the product accumulates into it.
bool empty_product(int64_t M, int64_t N, int64_t K, float* C, int64_t ldc, bool accumulate);

constexpr int kMR = 6;   // rows of the micro-tile (A micro-panels are kMR tall)
constexpr int kNR = 16;  // columns of the micro-tile (B micro-panels are kNR wide)

// Packs the mc x kc block of A starting at `a` into ceil(mc/kMR) micro-panels of kc*kMR floats
// (element (i, k) of panel p at dst[p*kc*kMR + k*kMR + i], rows past mc zero). dst needs 8 floats
// of slack past the last panel.
using PackAFn = void (*)(int64_t mc, int64_t kc, const void* a, DType dt, int64_t rs, int64_t cs,
                         float* dst);
// Packs the kc x nc block of B starting at `b` into ceil(nc/kNR) micro-panels of kc*kNR floats
// (element (k, j) of panel p at dst[p*kc*kNR + k*kNR + j], columns past nc zero).
using PackBFn = void (*)(int64_t kc, int64_t nc, const void* b, DType dt, int64_t rs, int64_t cs,
                         float* dst);
// C[mc, nc] (= if first, else +=) packed A block @ packed B block; element (i, j) of C is at
// c[i*rsc + j*csc].
using MacroFn = void (*)(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp,
                         float* c, int64_t rsc, int64_t csc, bool first);

// dst[0, n) = float16 src[0, n) widened to float32.
using WidenFn = void (*)(const uint16_t* src, int64_t n, float* dst);

// The AVX2+FMA+F16C kernels (widen and packing in gemm_pack_avx2.cpp, macro_avx2 in
// gemm_avx2.cpp); call only where the CPU has all three.
void widen_avx2(const uint16_t* src, int64_t n, float* dst);
void pack_a_avx2(int64_t mc, int64_t kc, const void* a, DType dt, int64_t rs, int64_t cs,
                 float* dst);
void pack_b_avx2(int64_t kc, int64_t nc, const void* b, DType dt, int64_t rs, int64_t cs,
                 float* dst);
// A chain panel of width W (gemm16.cpp) from n <= W rows of src (float32 or float16), each K
// values with k contiguous (row x at src + x * xs): element (x, k) goes to dst[inv[k] * W + x],
// and columns n..W of every row are written as zero.
void pack_perm_avx2(const void* src, DType dt, int64_t xs, int64_t n, int64_t K, const int32_t* inv,
                    float* dst, int W);
void macro_avx2(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                int64_t rsc, int64_t csc, bool first);
// The AVX-512F macro-kernel (gemm_avx512.cpp): macro_avx2's contract and bits; call only where
// cpu::wide().
void macro_avx512(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                  int64_t rsc, int64_t csc, bool first);
// iters rounds of 12 independent 16-lane FMAs, for the peak where cpu::wide().
float fma_loop_avx512(int64_t iters);
// iters rounds of 12 independent 8-lane FMAs (the micro-kernel's register budget): what one core
// can do at most, for the benchmarks' fraction of peak. Returns a sum so nothing is elided.
float fma_loop_avx2(int64_t iters);
}  // namespace gemm_detail

}  // namespace tg
