// Portable elementwise kernels, run-time dispatch to the AVX2 ones (vec_avx2.cpp) and the
// splitting of large ops across the thread pool. See vec.h for the contract.
#include "kernels/vec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/threads.h"
#include "kernels/cascade_sum.h"
#include "kernels/unary_math.h"

namespace tg::vec {

namespace {

// Outputs at least this large are written with non-temporal stores: they cannot stay in the
// caches anyway, and skipping the read-for-ownership saves a third of the memory traffic.
constexpr int64_t kStreamMinBytes = int64_t(16) << 20;

// Runs f(begin, end) over [0, n), split across the pool when n >= min_n (chunk boundaries are
// multiples of 64 elements, chunks at least min_n/2 long).
template <class F>
void chunked(int64_t n, int64_t min_n, F&& f) {
  if (n < min_n || get_num_threads() <= 1) {
    f(int64_t(0), n);
    return;
  }
  int64_t blocks = (n + 63) / 64;
  parallel_for(blocks, min_n / 128, [&](int64_t b, int64_t e) { f(b * 64, std::min(n, e * 64)); });
}

// ---------------------------------------------------------------------------------------------
// Portable kernels

inline float ld(const float* p, int64_t i) {
  return p[i];
}
inline float ld(const uint16_t* p, int64_t i) {
  return half_to_float(p[i]);
}
inline void st(float* p, int64_t i, float v) {
  p[i] = v;
}
inline void st(uint16_t* p, int64_t i, float v) {
  p[i] = float_to_half(v);
}

template <class T, class F>
void map1(const T* x, T* y, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i)
    st(y, i, f(ld(x, i)));
}

template <class T>
void unary_portable(Un op, const T* x, T* y, int64_t n) {
  switch (op) {
#define TG_UN_CASE(name) \
  case Un::name:         \
    return map1(x, y, n, [](float v) { return math::name(v); });
    TG_UNARY_OPS(TG_UN_CASE)
#undef TG_UN_CASE
  }
}

inline float apply(Bin op, float a, float b) {
  switch (op) {
    case Bin::add:
      return a + b;
    case Bin::sub:
      return a - b;
    case Bin::mul:
      return a * b;
    case Bin::div:
      return a / b;
  }
  return 0.0f;
}

template <class T, class F>
void map2(const T* a, const T* b, T* out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i)
    st(out, i, f(ld(a, i), ld(b, i)));
}

template <class T>
void binary_portable(Bin op, const T* a, const T* b, T* out, int64_t n) {
  switch (op) {
    case Bin::add:
      return map2(a, b, out, n, [](float u, float v) { return u + v; });
    case Bin::sub:
      return map2(a, b, out, n, [](float u, float v) { return u - v; });
    case Bin::mul:
      return map2(a, b, out, n, [](float u, float v) { return u * v; });
    case Bin::div:
      return map2(a, b, out, n, [](float u, float v) { return u / v; });
  }
}

template <class T>
void scalar_portable(Bin op, const T* x, float s, bool reversed, T* out, int64_t n) {
  if (reversed) {
    switch (op) {
      case Bin::add:
        return map1(x, out, n, [s](float v) { return s + v; });
      case Bin::sub:
        return map1(x, out, n, [s](float v) { return s - v; });
      case Bin::mul:
        return map1(x, out, n, [s](float v) { return s * v; });
      case Bin::div:
        return map1(x, out, n, [s](float v) { return s / v; });
    }
  } else {
    switch (op) {
      case Bin::add:
        return map1(x, out, n, [s](float v) { return v + s; });
      case Bin::sub:
        return map1(x, out, n, [s](float v) { return v - s; });
      case Bin::mul:
        return map1(x, out, n, [s](float v) { return v * s; });
      case Bin::div:
        return map1(x, out, n, [s](float v) { return v / s; });
    }
  }
}

template <class T>
bool stream_for(int64_t n) {
  return n * int64_t(sizeof(T)) >= kStreamMinBytes;
}

}  // namespace

namespace {

// PyTorch's elementwise loop runs its vector code over whole pairs of vectors (16 float32 or 32
// float16 elements) and its scalar code over the rest; where the two differ (sigmoid, pow) the
// tail takes the portable formula.
template <class T>
constexpr int64_t kPair = sizeof(T) == 4 ? 16 : 32;

#if TG_HAVE_AVX2
bool unary_avx2(Un op, const float* x, float* y, int64_t n, bool nt) {
  return detail::unary_f32_avx2(op, x, y, n, nt);
}
bool unary_avx2(Un op, const uint16_t* x, uint16_t* y, int64_t n, bool nt) {
  return detail::unary_f16_avx2(op, x, y, n, nt);
}
void pow_avx2(const float* x, float s, bool reversed, float* y, int64_t n, bool nt) {
  detail::pow_f32_avx2(x, s, reversed, y, n, nt);
}
void pow_avx2(const uint16_t* x, float s, bool reversed, uint16_t* y, int64_t n, bool nt) {
  detail::pow_f16_avx2(x, s, reversed, y, n, nt);
}
#endif

template <class T>
void unary_t(Un op, const T* x, T* y, int64_t n) {
  bool simd = cpu::simd();
  bool cheap = op == Un::neg || op == Un::abs || op == Un::relu;
  bool nt = stream_for<T>(n);
  chunked(n, cheap ? kParallelMinCheap : kParallelMin, [&](int64_t b, int64_t e) {
#if TG_HAVE_AVX2
    int64_t m = op == Un::sigmoid ? b + (e - b) / kPair<T> * kPair<T> : e;
    if (simd && unary_avx2(op, x + b, y + b, m - b, nt)) {
      if (m < e) unary_portable(op, x + m, y + m, e - m);
      return;
    }
#endif
    unary_portable(op, x + b, y + b, e - b);
  });
  (void)simd;
  (void)nt;
}

template <class T>
void pow_t(const T* x, double s, bool reversed, T* out, int64_t n, bool vector_loop) {
  float sv = float(s);  // what the vector code gets
  if constexpr (sizeof(T) == 2) sv = half_to_float(float_to_half(sv));
  // The scalar code: float32 x ** s passes s to pow as a double; the rest is powf.
  auto scalar = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float v = ld(x, i);
      if (reversed)
        st(out, i, std::pow(sv, v));
      else if constexpr (sizeof(T) == 4)
        st(out, i, float(std::pow(double(v), s)));
      else
        st(out, i, std::pow(v, sv));
    }
  };
  bool simd = cpu::simd();
  bool nt = stream_for<T>(n);
  chunked(n, kParallelMin, [&](int64_t b, int64_t e) {
    const int64_t m = vector_loop ? b + (e - b) / kPair<T> * kPair<T> : b;
#if TG_HAVE_AVX2
    if (simd) {
      pow_avx2(x + b, sv, reversed, out + b, m - b, nt);
      return scalar(m, e);
    }
#endif
    // PyTorch's portable vector code calls powf lane by lane.
    for (int64_t i = b; i < m; ++i)
      st(out, i, reversed ? std::pow(sv, ld(x, i)) : std::pow(ld(x, i), sv));
    scalar(m, e);
  });
  (void)simd;
  (void)nt;
}

}  // namespace

void unary(Un op, DType dt, const void* x, void* y, int64_t n) {
  if (n <= 0) return;
  if (dt == DType::f32)
    unary_t(op, static_cast<const float*>(x), static_cast<float*>(y), n);
  else
    unary_t(op, static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), n);
}

void pow(DType dt, const void* x, double s, bool reversed, void* out, int64_t n, bool vector_loop) {
  if (n <= 0) return;
  if (dt == DType::f32)
    pow_t(static_cast<const float*>(x), s, reversed, static_cast<float*>(out), n, vector_loop);
  else
    pow_t(static_cast<const uint16_t*>(x), s, reversed, static_cast<uint16_t*>(out), n,
          vector_loop);
}

namespace {
template <class T>
void scalar_t(Bin op, const T* x, float s, bool reversed, T* out, int64_t n) {
  bool simd = cpu::simd();
  bool nt = stream_for<T>(n);
  chunked(n, kParallelMinCheap, [&](int64_t b, int64_t e) {
#if TG_HAVE_AVX2
    if (simd) {
      if constexpr (sizeof(T) == 4)
        return detail::scalar_f32_avx2(op, x + b, s, reversed, out + b, e - b, nt);
      else
        return detail::scalar_f16_avx2(op, x + b, s, reversed, out + b, e - b, nt);
    }
#endif
    scalar_portable(op, x + b, s, reversed, out + b, e - b);
  });
  (void)simd;
  (void)nt;
}

template <class T>
void binary_t(Bin op, const T* a, int64_t sa, const T* b, int64_t sb, T* out, int64_t n) {
  if (sa == 0 && sb == 0) {
    T v;
    st(&v, 0, apply(op, ld(a, 0), ld(b, 0)));
    std::fill(out, out + n, v);
    return;
  }
  if (sb == 0) return scalar_t(op, a, ld(b, 0), false, out, n);
  if (sa == 0) return scalar_t(op, b, ld(a, 0), true, out, n);
  bool simd = cpu::simd();
  bool nt = stream_for<T>(n);
  chunked(n, kParallelMinCheap, [&](int64_t i, int64_t e) {
#if TG_HAVE_AVX2
    if (simd) {
      if constexpr (sizeof(T) == 4)
        return detail::binary_f32_avx2(op, a + i, b + i, out + i, e - i, nt);
      else
        return detail::binary_f16_avx2(op, a + i, b + i, out + i, e - i, nt);
    }
#endif
    binary_portable(op, a + i, b + i, out + i, e - i);
  });
  (void)simd;
  (void)nt;
}
}  // namespace

void binary(Bin op, DType dt, const void* a, int64_t sa, const void* b, int64_t sb, void* out,
            int64_t n) {
  if (n <= 0) return;
  if (dt == DType::f32)
    binary_t(op, static_cast<const float*>(a), sa, static_cast<const float*>(b), sb,
             static_cast<float*>(out), n);
  else
    binary_t(op, static_cast<const uint16_t*>(a), sa, static_cast<const uint16_t*>(b), sb,
             static_cast<uint16_t*>(out), n);
}

void scalar(Bin op, DType dt, const void* x, float s, bool reversed, void* out, int64_t n) {
  if (n <= 0) return;
  if (dt == DType::f32)
    scalar_t(op, static_cast<const float*>(x), s, reversed, static_cast<float*>(out), n);
  else
    scalar_t(op, static_cast<const uint16_t*>(x), s, reversed, static_cast<uint16_t*>(out), n);
}

void f16_to_f32(const uint16_t* x, float* y, int64_t n) {
  if (n <= 0) return;
  bool simd = cpu::simd();
  bool nt = stream_for<float>(n);
  chunked(n, kParallelMinCheap, [&](int64_t b, int64_t e) {
#if TG_HAVE_AVX2
    if (simd) return detail::f16_to_f32_avx2(x + b, y + b, e - b, nt);
#endif
    for (int64_t i = b; i < e; ++i)
      y[i] = half_to_float(x[i]);
  });
  (void)simd;
  (void)nt;
}

void f32_to_f16(const float* x, uint16_t* y, int64_t n) {
  if (n <= 0) return;
  bool simd = cpu::simd();
  bool nt = stream_for<uint16_t>(n);
  chunked(n, kParallelMinCheap, [&](int64_t b, int64_t e) {
#if TG_HAVE_AVX2
    if (simd) return detail::f32_to_f16_avx2(x + b, y + b, e - b, nt);
#endif
    for (int64_t i = b; i < e; ++i)
      y[i] = float_to_half(x[i]);
  });
  (void)simd;
  (void)nt;
}

float sum(DType dt, const void* x, int64_t n) {
  float out = 0.0f;
  if (n <= 0) return out;
  const int64_t one = 1;
  csum::sum(dt == DType::f32 ? csum::Kind::f32 : csum::Kind::f16f32, x, Shape{n}, &one, 1u, &out);
  return out;
}

}  // namespace tg::vec
