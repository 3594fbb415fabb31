// float64 exp and pow as PyTorch's AVX2 kernels evaluate them (Vectorized<double>::exp and ::pow
// are SLEEF's expd4_u10 and powd4_u10): SLEEF's published algorithms, one lane at a time, fused
// where they fuse. They are used where PyTorch's AVX2 path calls them (sigmoid's exp, pow without
// a special exponent) for the elements its vector loop covers (whole pairs of vectors, here 8
// elements); its scalar tail and its portable build use the C library.
#pragma once
#include "core/cpu.h"

namespace tg::pmath {

#if TG_HAVE_AVX2
// Only where cpu::simd() holds (pmath_f64_avx2.cpp is compiled for AVX2 + FMA).
double exp_u10(double x);            // within 1 ulp
double pow_u10(double x, double y);  // within 1 ulp, C99's special cases
#endif

// Elements of a contiguous run of n that PyTorch's vectorized loop covers (the rest is its tail).
constexpr long long kPairF64 = 8;

}  // namespace tg::pmath
