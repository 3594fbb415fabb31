// The K-vector machinery of the AVX2 kernels: V<K> (K vectors of 8 float32 lanes processed in
// lockstep) and its operators, the float32/float16 load and store layouts, and the map1/map2
// loops. Include it only from files named *_avx2.cpp: CMakeLists.txt compiles those with
// -mavx2 -mfma -mf16c, and nothing here may be compiled anywhere else. Everything below has
// internal linkage (an anonymous namespace) and must keep it: an inline function or template with
// external linkage compiled with AVX2 enabled could be the copy the linker keeps for portable
// callers too, which would then fault on CPUs without AVX2. TG_INLINE and TG_EACH stay defined
// for the including file.
#pragma once

#if !defined(__AVX2__) || !defined(__FMA__) || !defined(__F16C__)
#error "simd_avx2.h is for *_avx2.cpp files compiled with -mavx2 -mfma -mf16c (CMakeLists.txt)"
#endif

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace tg::vec::detail {

namespace {

#define TG_INLINE inline __attribute__((always_inline))
#define TG_EACH _Pragma("GCC unroll 8") for (int k = 0; k < K; ++k)

// ---------------------------------------------------------------------------------------------
// K vectors of 8 float32 lanes processed in lockstep. The math (vec_avx2.cpp) is written one
// operation at a time over all K vectors, so the instruction stream interleaves K independent
// dependency chains: the long polynomial chains then overlap even though the out-of-order window
// is short.

template <int K>
struct V {
  __m256 v[K];
};

template <int K>
TG_INLINE V<K> splat(float c) {
  V<K> r;
  TG_EACH r.v[k] = _mm256_set1_ps(c);
  return r;
}

#define TG_OP2(name, intrinsic)                 \
  template <int K>                              \
  TG_INLINE V<K> name(V<K> a, V<K> b) {         \
    V<K> r;                                     \
    TG_EACH r.v[k] = intrinsic(a.v[k], b.v[k]); \
    return r;                                   \
  }
#define TG_OP3(name, intrinsic)                         \
  template <int K>                                      \
  TG_INLINE V<K> name(V<K> a, V<K> b, V<K> c) {         \
    V<K> r;                                             \
    TG_EACH r.v[k] = intrinsic(a.v[k], b.v[k], c.v[k]); \
    return r;                                           \
  }
TG_OP2(operator+, _mm256_add_ps)
TG_OP2(operator-, _mm256_sub_ps)
TG_OP2(operator*, _mm256_mul_ps)
TG_OP2(operator/, _mm256_div_ps)
TG_OP2(operator&, _mm256_and_ps)
TG_OP2(operator|, _mm256_or_ps)
TG_OP2(operator^, _mm256_xor_ps)
TG_OP2(andnot, _mm256_andnot_ps)  // ~a & b
TG_OP2(min, _mm256_min_ps)        // b when either is NaN
TG_OP2(max, _mm256_max_ps)        // b when either is NaN
TG_OP3(fma, _mm256_fmadd_ps)      // a*b + c, rounded once
TG_OP3(fnma, _mm256_fnmadd_ps)    // c - a*b, rounded once
TG_OP3(blend, _mm256_blendv_ps)   // mask c ? b : a
#undef TG_OP2
#undef TG_OP3

template <int P, int K>
TG_INLINE V<K> cmp(V<K> a, V<K> b) {
  V<K> r;
  TG_EACH r.v[k] = _mm256_cmp_ps(a.v[k], b.v[k], P);
  return r;
}
template <int K>
TG_INLINE bool all(V<K> mask) {
  __m256 m = mask.v[0];
  TG_EACH m = _mm256_and_ps(m, mask.v[k]);
  return _mm256_movemask_ps(m) == 0xff;
}
template <int K>
TG_INLINE V<K> sign_bit() {
  return splat<K>(-0.0f);
}

// ---------------------------------------------------------------------------------------------
// Loads and stores of K*8 elements as float32 lanes.

struct F32 {
  using T = float;
  static constexpr uintptr_t kAlign = 32;  // for streaming stores
  static TG_INLINE __m256 load1(const float* p) { return _mm256_loadu_ps(p); }
  static TG_INLINE void store1(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
  static TG_INLINE void stream1(float* p, __m256 v) { _mm256_stream_ps(p, v); }
};

struct F16 {
  using T = uint16_t;
  static constexpr uintptr_t kAlign = 16;
  static TG_INLINE __m256 load1(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static TG_INLINE void store1(uint16_t* p, __m256 v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  static TG_INLINE void stream1(uint16_t* p, __m256 v) {
    _mm_stream_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
};

template <class L, int K>
TG_INLINE V<K> load(const typename L::T* p) {
  V<K> r;
  TG_EACH r.v[k] = L::load1(p + 8 * k);
  return r;
}
template <class S, bool NT, int K>
TG_INLINE void store(typename S::T* p, V<K> a) {
  TG_EACH {
    if constexpr (NT)
      S::stream1(p + 8 * k, a.v[k]);
    else
      S::store1(p + 8 * k, a.v[k]);
  }
}

// Number of leading elements to write normally before p is aligned for streaming stores, or -1
// when p is not even element-aligned.
template <class S>
inline int64_t stream_head(const typename S::T* p, int64_t n) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a % sizeof(typename S::T)) return -1;
  int64_t head = int64_t(((S::kAlign - a % S::kAlign) % S::kAlign) / sizeof(typename S::T));
  return head < n ? head : n;
}

// ---------------------------------------------------------------------------------------------
// Loops: 32 elements per iteration (K = 4), then 8 (K = 1), then a zero-padded partial vector.
// f is a generic callable taking and returning V<K>.

constexpr int kUnroll = 4;

template <class L, class S, class F>
inline void part1(const typename L::T* x, typename S::T* y, int64_t k, F& f) {
  typename L::T xb[8] = {};
  typename S::T yb[8];
  std::memcpy(xb, x, size_t(k) * sizeof(typename L::T));
  store<S, false>(yb, f(load<L, 1>(xb)));
  std::memcpy(y, yb, size_t(k) * sizeof(typename S::T));
}

template <class L, class S, bool NT, class F>
inline void loop1(const typename L::T* x, typename S::T* y, int64_t n, F& f) {
  int64_t i = 0;
  for (; i + 8 * kUnroll <= n; i += 8 * kUnroll)
    store<S, NT>(y + i, f(load<L, kUnroll>(x + i)));
  for (; i + 8 <= n; i += 8)
    store<S, NT>(y + i, f(load<L, 1>(x + i)));
  if (i < n) part1<L, S>(x + i, y + i, n - i, f);
}

template <class L, class S, class F>
void map1(const typename L::T* x, typename S::T* y, int64_t n, bool nt, F f) {
  int64_t head = nt ? stream_head<S>(y, n) : -1;
  if (head < 0) return loop1<L, S, false>(x, y, n, f);
  if (head > 0) part1<L, S>(x, y, head, f);
  loop1<L, S, true>(x + head, y + head, n - head, f);
  _mm_sfence();
}

template <class L, class F>
inline void part2(const typename L::T* a, const typename L::T* b, typename L::T* y, int64_t k,
                  F& f) {
  typename L::T ab[8] = {}, bb[8] = {}, yb[8];
  std::memcpy(ab, a, size_t(k) * sizeof(typename L::T));
  std::memcpy(bb, b, size_t(k) * sizeof(typename L::T));
  store<L, false>(yb, f(load<L, 1>(ab), load<L, 1>(bb)));
  std::memcpy(y, yb, size_t(k) * sizeof(typename L::T));
}

template <class L, bool NT, class F>
inline void loop2(const typename L::T* a, const typename L::T* b, typename L::T* y, int64_t n,
                  F& f) {
  int64_t i = 0;
  for (; i + 8 * kUnroll <= n; i += 8 * kUnroll)
    store<L, NT>(y + i, f(load<L, kUnroll>(a + i), load<L, kUnroll>(b + i)));
  for (; i + 8 <= n; i += 8)
    store<L, NT>(y + i, f(load<L, 1>(a + i), load<L, 1>(b + i)));
  if (i < n) part2<L>(a + i, b + i, y + i, n - i, f);
}

template <class L, class F>
void map2(const typename L::T* a, const typename L::T* b, typename L::T* y, int64_t n, bool nt,
          F f) {
  int64_t head = nt ? stream_head<L>(y, n) : -1;
  if (head < 0) return loop2<L, false>(a, b, y, n, f);
  if (head > 0) part2<L>(a, b, y, head, f);
  loop2<L, true>(a + head, b + head, y + head, n - head, f);
  _mm_sfence();
}

}  // namespace

}  // namespace tg::vec::detail
