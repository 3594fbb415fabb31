// softmax and log_softmax over one dim, forward and backward, in the order of PyTorch's CPU
// kernels (ATen's SoftMaxKernel.cpp) so that the bits match its single-threaded results.
//
// A tensor is seen as (outer, dim, inner), contiguous. inner == 1 is PyTorch's "last dim" kernel:
// per row a vectorized max, exp(x - max) and its sum (8 float / 4 double lanes, folded by the AVX2
// shuffles on the SIMD path and lane by lane on the portable one), then x * (1 / sum) or
// (x - max) - log(sum). inner > 1 is its "vertical" kernel: whole vectors of inner positions run
// the vector code, the last inner % lanes positions its scalar code (the C library's exp there).
// On the SIMD path exp and log are SLEEF's (kernels/pmath_avx2.h), as PyTorch's Vectorized ones;
// on the portable path, the C library's, lane by lane (PyTorch's `default` build).
//
// float16 runs in float32 (the caller widens and rounds the result): PyTorch's reduced-precision
// variants read 16 elements per step, round log_softmax's sum and its log to float16 on the last
// dim, and round the vertical softmax's scalar-tail exp to float16 before dividing.
#pragma once
#include <cstdint>

namespace tg::smx {

struct Geom {
  int64_t outer = 1, dim = 1, inner = 1;
};

// out = softmax (or, log, log_softmax) of x; f16: PyTorch's float16 variant in float32.
void forward(const float* x, float* out, Geom g, bool log, bool f16);
void forward(const double* x, double* out, Geom g, bool log);
// gin from the upstream gradient and the forward's output y.
void backward(const float* grad, const float* y, float* gin, Geom g, bool log, bool f16);
void backward(const double* grad, const double* y, double* gin, Geom g, bool log);

namespace detail {
// SLEEF's expf8_u10 / logf8_u10 / expd4_u10 / logd4_u10 over n elements (the last partial vector
// padded), and x - exp(y) * s rounded once (an FMA), as PyTorch's vectorized log_softmax backward.
void exp_f32_avx2(const float* x, float* y, int64_t n);
void log_f32_avx2(const float* x, float* y, int64_t n);
void exp_f64_avx2(const double* x, double* y, int64_t n);
void log_f64_avx2(const double* x, double* y, int64_t n);
// out = a * (b ? b[i] : bs) + c, rounded once (PyTorch's fused multiply-adds on the AVX2 path).
void fma_f32_avx2(const float* a, const float* b, float bs, const float* c, float* out, int64_t n);
void fma_f64_avx2(const double* a, const double* b, double bs, const double* c, double* out,
                  int64_t n);
}  // namespace detail

}  // namespace tg::smx
