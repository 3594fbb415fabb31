// The split of kernels/ewise_vec.h between PyTorch's vector code and its scalar code.
#include "kernels/ewise_vec.h"

#include <cmath>

#include "core/cpu.h"
#include "core/half.h"

namespace tg::vec {

namespace {
float ld(DType dt, const void* p, int64_t i) {
  return dt == DType::f32 ? static_cast<const float*>(p)[i]
                          : half_to_float(static_cast<const uint16_t*>(p)[i]);
}
void st(DType dt, void* p, int64_t i, float v) {
  if (dt == DType::f32)
    static_cast<float*>(p)[i] = v;
  else
    static_cast<uint16_t*>(p)[i] = float_to_half(v);
}

// Where the vector code stops: whole pairs of vectors on the AVX2 path, none otherwise.
int64_t vector_end(DType dt, int64_t n) {
#if TG_HAVE_AVX2
  if (cpu::simd()) {
    const int64_t pair = dt == DType::f32 ? 16 : 32;
    return n / pair * pair;
  }
#endif
  (void)dt;
  (void)n;
  return 0;
}
}  // namespace

void silu(DType dt, const void* x, void* y, int64_t n) {
  const int64_t m = vector_end(dt, n);
#if TG_HAVE_AVX2
  if (m) detail::silu_avx2(dt, x, y, m);
#endif
  for (int64_t i = m; i < n; ++i) {
    const float v = ld(dt, x, i);
    st(dt, y, i, v / (1.0f + std::exp(-v)));
  }
}

void silu_grad(DType dt, const void* g, const void* x, void* gx, int64_t n) {
  const int64_t m = vector_end(dt, n);
#if TG_HAVE_AVX2
  if (m) detail::silu_grad_avx2(dt, g, x, gx, m);
#endif
  // PyTorch's AVX2 build contracts its scalar code's 1 + x * (1 - s) too; its portable one not.
  const bool fused = cpu::simd();
  for (int64_t i = m; i < n; ++i) {
    const float gv = ld(dt, g, i), v = ld(dt, x, i);
    const float s = 1.0f / (1.0f + std::exp(-v));
    st(dt, gx, i, gv * s * (fused ? std::fma(v, 1.0f - s, 1.0f) : 1.0f + v * (1.0f - s)));
  }
}

void pow2(DType dt, const void* x, const void* e, void* y, int64_t n) {
  const int64_t m = vector_end(dt, n);
#if TG_HAVE_AVX2
  if (m) detail::pow2_avx2(dt, x, e, y, m);
#endif
  for (int64_t i = m; i < n; ++i)
    st(dt, y, i, std::pow(ld(dt, x, i), ld(dt, e, i)));
}

}  // namespace tg::vec
