// Elementwise kernels of the ewise ops whose PyTorch vector code is SLEEF's exp or pow: silu and
// its gradient, and pow with a tensor exponent, over contiguous float32 or float16 (IEEE bits)
// arrays of one length. As PyTorch's elementwise loop, the vector code (AVX2: SLEEF's expf8_u10
// and powf8_u10, pmath_avx2.h) takes whole pairs of vectors (16 float32, 32 float16 elements)
// and the scalar code (the C library's expf, powf) the rest; the portable path runs the scalar
// code throughout, as PyTorch's `default` build does. float16 computes in float32 and rounds once.
#pragma once
#include <cstdint>

#include "core/cpu.h"
#include "core/tensor.h"

namespace tg::vec {

// y = x / (1 + exp(-x))
void silu(DType dt, const void* x, void* y, int64_t n);
// gx = g * s * (1 + x * (1 - s)), s = 1 / (1 + exp(-x))
void silu_grad(DType dt, const void* g, const void* x, void* gx, int64_t n);
// y = x ** e
void pow2(DType dt, const void* x, const void* e, void* y, int64_t n);

namespace detail {
#if TG_HAVE_AVX2
// The vector code on all n elements (n a multiple of 8).
void silu_avx2(DType dt, const void* x, void* y, int64_t n);
void silu_grad_avx2(DType dt, const void* g, const void* x, void* gx, int64_t n);
void pow2_avx2(DType dt, const void* x, const void* e, void* y, int64_t n);
#endif
}  // namespace detail

}  // namespace tg::vec
