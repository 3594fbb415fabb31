// float64 exp and pow as PyTorch's AVX2 kernels evaluate them (Vectorized<double>::exp and ::pow
// are SLEEF's expd4_u10 and powd4_u10): SLEEF's published algorithms, operation for operation.
// PyTorch uses them (sigmoid's exp, pow without a special exponent) for the elements its vector
// loop covers: whole pairs of vectors, here kPairF64 elements; its scalar tail and its portable
// build use the C library.
#pragma once
#include <cstdint>

#include "core/cpu.h"

namespace tg::pmath {

#if TG_HAVE_AVX2
// Only where cpu::simd() holds (pmath_f64_avx2.cpp is compiled for AVX2 + FMA). In place, n a
// multiple of 4:
void sigmoid_f64(double* y, int64_t n);  // y = 1 / (exp(0 - y) + 1)
void exp_f64(double* y, int64_t n);      // y = exp(y)
// y = y ** s, or s ** y when reversed (within 1 ulp, C99's special cases)
void pow_f64(double* y, double s, bool reversed, int64_t n);
#endif

constexpr int64_t kPairF64 = 8;

}  // namespace tg::pmath
