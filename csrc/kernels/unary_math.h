// The portable formula of each unary op of the op list: float32 in, float32 out. vec.cpp's
// portable kernels call math::NAME for every op in TG_UNARY_OPS, so an op missing here does not
// compile. exp, log, tanh, sin and cos evaluate in float64 and round once: within 0.5 ulp (+ a
// rare double rounding), the reference the AVX2 approximations are measured against (PyTorch's
// own, MKL's, are not reproducible; vec.h). sigmoid is PyTorch's scalar formula.
#pragma once
#include <cmath>

namespace tg::vec::math {

inline float neg(float x) {
  return -x;
}
inline float abs(float x) {
  return std::fabs(x);
}
inline float exp(float x) {
  return float(std::exp(double(x)));
}
inline float log(float x) {
  return float(std::log(double(x)));
}
inline float tanh(float x) {
  return float(std::tanh(double(x)));
}
inline float relu(float x) {  // PyTorch's: negative values give +0; -0 and NaN stay
  return x < 0.0f ? 0.0f : x;
}
// PyTorch's scalar formula, in float32 with the C library's expf (the AVX2 path's tail too).
inline float sigmoid(float x) {
  return 1.0f / (1.0f + std::exp(-x));
}
inline float sin(float x) {
  return float(std::sin(double(x)));
}
inline float cos(float x) {
  return float(std::cos(double(x)));
}

// PyTorch's float32 sqrt and tan come from MKL's vector math (not reproducible; docs/numerics.md):
// here the correctly rounded values. rsqrt is its 1 / sqrt(x), rounded twice. expm1 and log1p
// are the C library's float functions, as in PyTorch's scalar code (its AVX2 vector code is
// SLEEF's); log2 and log10 evaluate in float64 and round once.
inline float sqrt(float x) {
  return std::sqrt(x);
}
inline float rsqrt(float x) {
  return 1.0f / std::sqrt(x);
}
inline float tan(float x) {
  return float(std::tan(double(x)));
}
inline float expm1(float x) {
  return std::expm1(x);
}
inline float log2(float x) {
  return float(std::log2(double(x)));
}
inline float log10(float x) {
  return float(std::log10(double(x)));
}
inline float log1p(float x) {
  return std::log1p(x);
}
inline float reciprocal(float x) {
  return 1.0f / x;
}
inline float floor(float x) {
  return std::floor(x);
}
inline float ceil(float x) {
  return std::ceil(x);
}
inline float round(float x) {  // halves to even, as PyTorch's
  return std::nearbyint(x);
}
inline float trunc(float x) {
  return std::trunc(x);
}
inline float sign(float x) {  // PyTorch's: +0 for either zero and for NaN
  return float(int(0.0f < x) - int(x < 0.0f));
}

}  // namespace tg::vec::math
