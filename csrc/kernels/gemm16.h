// float16 matrix products in PyTorch's summation order. Every product of two float16 values is
// exact in float32, so only the order of the float32 additions decides the bits (fused or not).
// Each of PyTorch's CPU kernels for half (no AVX512-FP16) sums a dot product as a few "chains"
// (sequential float32 sums over a subset of k, from zero) merged by a fixed tree; these functions
// compute many dot products at once, SIMD lanes over output columns, each lane in that order.
#pragma once
#include <cstdint>

#include "kernels/gemm.h"

namespace tg {

enum class F16Order {
  // cpublas gemm_notrans_ / gemm_transab_: four interleaved partial sums (k mod 4; the k % 4
  // tail joins the first), then ((p0 + p1) + p2) + p3.
  interleave4,
  // gemm_transb_ (a float32 buffer, one k after another) and gemv without transpose: one
  // sequential sum; with accumulate it starts from C instead of zero.
  sequential,
  // gemm_transa_ and the gemv fast path (fp16_dot_with_fp32_arith, AVX2 build): 64 lanes over
  // blocks of 64, a tree; then 8 lanes over blocks of 16; then the rest one by one.
  blocks64,
};

// C[M,N] (float32, leading dimension ldc) = A[M,K] @ B[K,N] in `order`; accumulate adds C
// (for `sequential` the sum starts from C). A and B are float16.
void gemm_f16(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* C,
              int64_t ldc, bool accumulate, F16Order order);

namespace gemm_detail {
constexpr int kSR = 5;   // rows of a chain tile
constexpr int kSC = 16;  // columns of a chain tile
// A chain over a kSR x kSC tile (acc row-major): the sequential sum over n steps of
// a[k*kSR + r] * b[k*kSC + j], starting from acc (or from zero with `fresh`); with `add` the
// chain's own sum (which then starts from zero) is added to acc at the end instead.
using ChainFn = void (*)(int64_t n, const float* a, const float* b, float* acc, bool fresh,
                         bool add);
void chain_avx2(int64_t n, const float* a, const float* b, float* acc, bool fresh, bool add);
// chain_avx2 and chain_tree_avx2 over two adjacent B panels at once (AVX-512F; call only where
// cpu::wide()): panel 1's steps are bstride floats after panel 0's, and every tile in acc, stack
// and out is two kSR x kSC tiles, panel 0's then panel 1's.
void chain2_avx512(int64_t n, const float* a, const float* b, int64_t bstride, float* acc,
                   bool fresh, bool add);
// chain_tree2_avx512 over two adjacent A panels as well (the second astride floats after the
// first): every tile in stack and out is four kSR x kSC tiles, (A panel, B panel) = (0, 0),
// (0, 1), (1, 0), (1, 1).
void chain_tree4_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, int64_t astride, const float* b, int64_t bstride,
                        float* stack, float* out);
void chain_tree2_avx512(int leaves, const int32_t* chain_of_leaf, const int64_t* seg,
                        const float* a, const float* b, int64_t bstride, float* stack, float* out);
// The chains chain_of_leaf[0, leaves) (chain c covers packed steps seg[c]..seg[c + 1]) summed
// as a complete binary tree over the leaves in that order, each node left + right, into out;
// `leaves` is a power of two and stack holds log2(leaves) tiles.
void chain_tree_avx2(int leaves, const int32_t* chain_of_leaf, const int64_t* seg, const float* a,
                     const float* b, float* stack, float* out);
}  // namespace gemm_detail

}  // namespace tg
