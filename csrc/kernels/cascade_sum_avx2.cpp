// The cascade sum's lanes as ymm registers: 8 floats (float16 widened by F16C) or 4 doubles.
// The additions are the portable ones, lane for lane, so both paths give the same bits.
#include "kernels/cascade_sum.h"

#if TG_HAVE_AVX2

#include <immintrin.h>

#include <cstring>

#include "kernels/cascade_sum_impl.h"

namespace tg::csum {

namespace {

template <class In, class Acc>
struct Ymm;
template <>
struct Ymm<float, float> {
  using V = __m256;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V zero() { return _mm256_setzero_ps(); }
  static V ldacc(const float* p) { return _mm256_loadu_ps(p); }
  static void stacc(float* p, V v) { _mm256_storeu_ps(p, v); }
};
template <>
struct Ymm<uint16_t, float> {
  using V = __m256;
  static V load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V zero() { return _mm256_setzero_ps(); }
  static V ldacc(const float* p) { return _mm256_loadu_ps(p); }
  static void stacc(float* p, V v) { _mm256_storeu_ps(p, v); }
};
template <>
struct Ymm<double, double> {
  using V = __m256d;
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V zero() { return _mm256_setzero_pd(); }
  static V ldacc(const double* p) { return _mm256_loadu_pd(p); }
  static void stacc(double* p, V v) { _mm256_storeu_pd(p, v); }
};

template <class In_, class Acc_, int L, int VecIn>
struct Avx2 {
  using In = In_;
  using Acc = Acc_;
  using Y = Ymm<In, Acc>;
  using V = typename Y::V;
  static constexpr int kLanes = L;
  static constexpr int kVecIn = VecIn;
  static Acc ld(const In* p) {
    if constexpr (std::is_same<In, uint16_t>::value)
      return half_to_float(*p);
    else
      return *p;
  }
  static V zero() { return Y::zero(); }
  static V add(V a, V b) { return Y::add(a, b); }
  static V load_out(const In* p) { return Y::load(p); }
  static V ldacc(const Acc* p) { return Y::ldacc(p); }
  static void stacc(Acc* p, V v) { Y::stacc(p, v); }
  static V load_in(const In* p) {
    if constexpr (VecIn == 2 * L)
      return Y::add(Y::load(p), Y::load(p + L));
    else
      return Y::load(p);
  }
  static Acc lane(const V& v, int k) {
    alignas(32) Acc a[L];
    std::memcpy(a, &v, sizeof(a));
    return a[k];
  }
};

}  // namespace

namespace detail {
void run_avx2(Kind k, const Plan& p, const void* x, void* out) {
  run_kind<Avx2>(k, p, x, out);
}
}  // namespace detail

}  // namespace tg::csum

#endif  // TG_HAVE_AVX2
