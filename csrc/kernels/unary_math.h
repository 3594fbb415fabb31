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

}  // namespace tg::vec::math
