// softmax.h's kernels. The lane structure is PyTorch's (8 float / 4 double lanes, 16 float16
// elements per step); the arithmetic is plain IEEE, rounded after every operation, except where
// PyTorch's AVX2 code fuses a multiply-add (std::fma there, and only on the SIMD path).
#include "kernels/softmax.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu.h"
#include "core/half.h"

namespace tg::smx {

namespace {

float r16(float v) {  // round to float16 and back
  return half_to_float(float_to_half(v));
}

// vec::maximum: NaN wins, and an equal pair gives the second operand (as _mm256_max_ps).
template <class T>
T vmax(T a, T b) {
  if (a != a) return a;
  if (b != b) return b;
  return a > b ? a : b;
}
template <class T>
T vadd(T a, T b) {
  return a + b;
}

// exp/log over n elements: SLEEF's (the vector code on the SIMD path) or the C library's.
void vexp(const float* x, float* y, int64_t n, bool sleef) {
#if TG_HAVE_AVX2
  if (sleef) return detail::exp_f32_avx2(x, y, n);
#endif
  (void)sleef;
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::exp(x[i]);
}
void vexp(const double* x, double* y, int64_t n, bool sleef) {
#if TG_HAVE_AVX2
  if (sleef) return detail::exp_f64_avx2(x, y, n);
#endif
  (void)sleef;
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::exp(x[i]);
}
void vlog(const float* x, float* y, int64_t n, bool sleef) {
#if TG_HAVE_AVX2
  if (sleef) return detail::log_f32_avx2(x, y, n);
#endif
  (void)sleef;
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::log(x[i]);
}
void vlog(const double* x, double* y, int64_t n, bool sleef) {
#if TG_HAVE_AVX2
  if (sleef) return detail::log_f64_avx2(x, y, n);
#endif
  (void)sleef;
  for (int64_t i = 0; i < n; ++i)
    y[i] = std::log(x[i]);
}

// out = a * b + c rounded once, b an array (or, when null, the value bs); only the SIMD path
// fuses, and there the AVX2 loop runs it.
void fused(const float* a, const float* b, float bs, const float* c, float* out, int64_t n) {
#if TG_HAVE_AVX2
  return detail::fma_f32_avx2(a, b, bs, c, out, n);
#else
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(a[i], b ? b[i] : bs, c[i]);
#endif
}
void fused(const double* a, const double* b, double bs, const double* c, double* out, int64_t n) {
#if TG_HAVE_AVX2
  return detail::fma_f64_avx2(a, b, bs, c, out, n);
#else
  for (int64_t i = 0; i < n; ++i)
    out[i] = std::fma(a[i], b ? b[i] : bs, c[i]);
#endif
}

// vec_reduce_all over the L lanes of acc: the AVX2 shuffle tree for float on the SIMD path,
// else lane by lane.
template <class T, class Op>
T fold(const T* acc, int L, Op op, bool simd) {
  if (simd && L == 8) {
    T v0 = op(acc[0], acc[4]), v1 = op(acc[1], acc[5]), v2 = op(acc[2], acc[6]),
      v3 = op(acc[3], acc[7]);
    return op(op(v0, v2), op(v1, v3));
  }
  T r = acc[0];
  for (int i = 1; i < L; ++i)
    r = op(r, acc[i]);
  return r;
}

// vec::reduce_all over x[0..n).
template <class T, class Op>
T reduce_all(const T* x, int64_t n, Op op, bool simd) {
  constexpr int L = 32 / sizeof(T);
  if (n < L) {
    T r = x[0];
    for (int64_t i = 1; i < n; ++i)
      r = op(r, x[i]);
    return r;
  }
  T acc[L];
  for (int k = 0; k < L; ++k)
    acc[k] = x[k];
  int64_t d = L;
  for (; d < n - n % L; d += L)
    for (int k = 0; k < L; ++k)
      acc[k] = op(acc[k], x[d + k]);
  for (int64_t k = 0; k < n - d; ++k)
    acc[k] = op(acc[k], x[d + k]);
  return fold(acc, L, op, simd);
}

// The float16 reduce_all: 16 elements per step as two float vectors, folded together at the end.
template <class Op>
float reduce_all16(const float* x, int64_t n, Op op, bool simd) {
  if (n < 16) {
    if (n <= 8) return reduce_all(x, n, op, false);
    float a[8];
    for (int k = 0; k < 8; ++k)
      a[k] = k < n - 8 ? op(x[k], x[8 + k]) : x[k];
    return fold(a, 8, op, simd);
  }
  float a0[8], a1[8];
  for (int k = 0; k < 8; ++k) {
    a0[k] = x[k];
    a1[k] = x[8 + k];
  }
  int64_t d = 16;
  for (; d < n - n % 16; d += 16)
    for (int k = 0; k < 8; ++k) {
      a0[k] = op(a0[k], x[d + k]);
      a1[k] = op(a1[k], x[d + 8 + k]);
    }
  const int64_t t = n - d;
  for (int k = 0; k < 8 && k < t; ++k)
    a0[k] = op(a0[k], x[d + k]);
  for (int k = 0; k + 8 < t; ++k)
    a1[k] = op(a1[k], x[d + 8 + k]);
  for (int k = 0; k < 8; ++k)
    a0[k] = op(a0[k], a1[k]);
  return fold(a0, 8, op, simd);
}

template <class T>
T reduce(const T* x, int64_t n, bool max, bool f16, bool simd) {
  if (f16) {
    if constexpr (sizeof(T) == 4)
      return max ? reduce_all16(x, n, vmax<float>, simd) : reduce_all16(x, n, vadd<float>, simd);
  }
  return max ? reduce_all(x, n, vmax<T>, simd) : reduce_all(x, n, vadd<T>, simd);
}

// ---- the last dim: one row of n elements at a time

template <class T>
void row_forward(const T* x, T* y, int64_t n, bool log, bool f16, bool simd, T* tmp) {
  if (log) {
    const T mx = reduce(x, n, true, f16, simd);
    for (int64_t i = 0; i < n; ++i)
      tmp[i] = x[i] - mx;
    vexp(tmp, tmp, n, simd);
    T s = reduce(tmp, n, false, f16, simd);
    if constexpr (sizeof(T) == 4)
      if (f16) s = r16(s);
    T ls;
    vlog(&s, &ls, 1, simd);
    if constexpr (sizeof(T) == 4)
      if (f16) ls = r16(ls);
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] - mx - ls;
    return;
  }
  T mx, s;
  if (f16) {  // whole 16-element steps as two vectors from -inf, then the rest one by one
    T acc[8];
    for (int k = 0; k < 8; ++k)
      acc[k] = -std::numeric_limits<T>::infinity();
    const int64_t v16 = n - n % 16;
    for (int64_t d = 0; d < v16; d += 16)
      for (int k = 0; k < 8; ++k)
        acc[k] = vmax(vmax(acc[k], x[d + k]), x[d + 8 + k]);
    mx = fold(acc, 8, vmax<T>, simd);
    for (int64_t d = v16; d < n; ++d)
      mx = mx < x[d] ? x[d] : mx;
    const int64_t v8 = n - n % 8;
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] - mx;
    vexp(y, y, v8, simd);
    vexp(y + v8, y + v8, n - v8, false);
    for (int k = 0; k < 8; ++k)
      acc[k] = 0;
    for (int64_t d = 0; d < v8; d += 8)
      for (int k = 0; k < 8; ++k)
        acc[k] = acc[k] + y[d + k];
    s = fold(acc, 8, vadd<T>, simd);
    for (int64_t d = v8; d < n; ++d)
      s = s + y[d];
  } else {
    mx = reduce(x, n, true, false, simd);
    for (int64_t i = 0; i < n; ++i)
      y[i] = x[i] - mx;
    vexp(y, y, n, simd);
    s = reduce(y, n, false, false, simd);
  }
  const T inv = T(1) / s;
  for (int64_t i = 0; i < n; ++i)
    y[i] = y[i] * inv;
}

template <class T>
void row_backward(const T* g, const T* y, T* gin, int64_t n, bool log, bool f16, bool simd,
                  T* tmp) {
  if (log) {
    const T s = reduce(g, n, false, f16, simd);
    vexp(y, tmp, n, simd);
    if (simd) {
      for (int64_t i = 0; i < n; ++i)
        tmp[i] = -tmp[i];
      return fused(tmp, nullptr, s, g, gin, n);
    }
    for (int64_t i = 0; i < n; ++i)
      gin[i] = g[i] - tmp[i] * s;
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    tmp[i] = g[i] * y[i];
  T s;
  constexpr int L = 32 / sizeof(T);
  if (f16 || n < L || !simd || sizeof(T) != 4) {  // (its float64 code does not fuse)
    s = reduce(tmp, n, false, f16, simd);
  } else {  // PyTorch's AVX2 build fuses the partial last vector's products into the sums
    T acc[L];
    for (int k = 0; k < L; ++k)
      acc[k] = tmp[k];
    int64_t d = L;
    for (; d < n - n % L; d += L)
      for (int k = 0; k < L; ++k)
        acc[k] = acc[k] + tmp[d + k];
    fused(g + d, y + d, T(0), acc, acc, n - d);
    s = fold(acc, L, vadd<T>, simd);
  }
  for (int64_t i = 0; i < n; ++i)
    gin[i] = (g[i] - s) * y[i];
}

// ---- another dim: positions [p0, p1) of the inner dim of one outer slice, in lockstep; `vec`
// says whether they are PyTorch's vector code (else its scalar tail).

template <class T>
void cols_forward(const T* x, T* y, int64_t D, int64_t inner, int64_t p0, int64_t p1, bool log,
                  bool f16, bool simd, bool vec, std::vector<T>& mx, std::vector<T>& s) {
  const int64_t w = p1 - p0;
  mx.assign(size_t(w), T(0));
  s.assign(size_t(w), T(0));
  auto at = [&](int64_t d) { return d * inner + p0; };
  if (log) {  // max by blend (data > max), from -inf
    for (int64_t j = 0; j < w; ++j)
      mx[size_t(j)] = -std::numeric_limits<T>::infinity();
    for (int64_t d = 0; d < D; ++d)
      for (int64_t j = 0; j < w; ++j)
        if (x[at(d) + j] > mx[size_t(j)]) mx[size_t(j)] = x[at(d) + j];
    std::vector<T> e(static_cast<size_t>(w));
    for (int64_t d = 0; d < D; ++d) {
      for (int64_t j = 0; j < w; ++j)
        e[size_t(j)] = x[at(d) + j] - mx[size_t(j)];
      vexp(e.data(), e.data(), w, simd && vec);
      for (int64_t j = 0; j < w; ++j)
        s[size_t(j)] = s[size_t(j)] + e[size_t(j)];
    }
    vlog(s.data(), s.data(), w, simd);
    for (int64_t d = 0; d < D; ++d)
      for (int64_t j = 0; j < w; ++j)
        y[at(d) + j] = x[at(d) + j] - mx[size_t(j)] - s[size_t(j)];
    return;
  }
  for (int64_t j = 0; j < w; ++j)
    mx[size_t(j)] = x[at(0) + j];
  for (int64_t d = 1; d < D; ++d)
    for (int64_t j = 0; j < w; ++j) {
      const T v = x[at(d) + j];
      mx[size_t(j)] = vec ? vmax(mx[size_t(j)], v) : (mx[size_t(j)] < v ? v : mx[size_t(j)]);
    }
  for (int64_t d = 0; d < D; ++d) {
    T* row = y + at(d);
    for (int64_t j = 0; j < w; ++j)
      row[j] = x[at(d) + j] - mx[size_t(j)];
    vexp(row, row, w, simd && vec);
    for (int64_t j = 0; j < w; ++j)
      s[size_t(j)] = s[size_t(j)] + row[j];
  }
  for (int64_t d = 0; d < D; ++d)
    for (int64_t j = 0; j < w; ++j) {
      T e = y[at(d) + j];
      if constexpr (sizeof(T) == 4)
        if (f16 && !vec) e = r16(e);  // the scalar tail stores exp in float16 first
      y[at(d) + j] = e / s[size_t(j)];
    }
}

template <class T>
void cols_backward(const T* g, const T* y, T* gin, int64_t D, int64_t inner, int64_t p0, int64_t p1,
                   bool log, bool simd, bool vec, std::vector<T>& s) {
  const int64_t w = p1 - p0;
  s.assign(size_t(w), T(0));
  auto at = [&](int64_t d) { return d * inner + p0; };
  for (int64_t d = 0; d < D; ++d) {
    const T* gd = g + at(d);
    if (simd && !log) {
      fused(gd, y + at(d), T(0), s.data(), s.data(), w);
      continue;
    }
    for (int64_t j = 0; j < w; ++j)
      s[size_t(j)] = log ? s[size_t(j)] + gd[j] : s[size_t(j)] + gd[j] * y[at(d) + j];
  }
  std::vector<T> e(static_cast<size_t>(w));
  for (int64_t d = 0; d < D; ++d) {
    const T *gd = g + at(d), *yd = y + at(d);
    T* out = gin + at(d);
    if (!log) {
      for (int64_t j = 0; j < w; ++j)
        out[j] = yd[j] * (gd[j] - s[size_t(j)]);
      continue;
    }
    vexp(yd, e.data(), w, simd && vec);
    if (simd) {
      for (int64_t j = 0; j < w; ++j)
        e[size_t(j)] = -e[size_t(j)];
      fused(e.data(), s.data(), T(0), gd, out, w);
    } else {
      for (int64_t j = 0; j < w; ++j)
        out[j] = gd[j] - e[size_t(j)] * s[size_t(j)];
    }
  }
}

template <class T>
void run_forward(const T* x, T* y, Geom g, bool log, bool f16) {
  const bool simd = cpu::simd();
  if (g.outer * g.dim * g.inner == 0) return;
  if (g.inner == 1) {
    std::vector<T> tmp(size_t(g.dim));
    for (int64_t o = 0; o < g.outer; ++o)
      row_forward(x + o * g.dim, y + o * g.dim, g.dim, log, f16, simd, tmp.data());
    return;
  }
  const int64_t L = f16 ? 16 : 32 / int64_t(sizeof(T));
  const int64_t v = g.inner - g.inner % L;
  std::vector<T> mx, s;
  for (int64_t o = 0; o < g.outer; ++o) {
    const T* xo = x + o * g.dim * g.inner;
    T* yo = y + o * g.dim * g.inner;
    for (int64_t p = 0; p < v; p += L)
      cols_forward(xo, yo, g.dim, g.inner, p, p + L, log, f16, simd, true, mx, s);
    if (v < g.inner) cols_forward(xo, yo, g.dim, g.inner, v, g.inner, log, f16, simd, false, mx, s);
  }
}

template <class T>
void run_backward(const T* gr, const T* y, T* gin, Geom g, bool log, bool f16) {
  const bool simd = cpu::simd();
  if (g.outer * g.dim * g.inner == 0) return;
  if (g.inner == 1) {
    std::vector<T> tmp(size_t(g.dim));
    for (int64_t o = 0; o < g.outer; ++o) {
      const int64_t off = o * g.dim;
      row_backward(gr + off, y + off, gin + off, g.dim, log, f16, simd, tmp.data());
    }
    return;
  }
  const int64_t L = f16 ? 16 : 32 / int64_t(sizeof(T));
  const int64_t v = g.inner - g.inner % L;
  std::vector<T> s;
  for (int64_t o = 0; o < g.outer; ++o) {
    const int64_t off = o * g.dim * g.inner;
    for (int64_t p = 0; p < v; p += L)
      cols_backward(gr + off, y + off, gin + off, g.dim, g.inner, p, p + L, log, simd, true, s);
    if (v < g.inner)
      cols_backward(gr + off, y + off, gin + off, g.dim, g.inner, v, g.inner, log, simd, false, s);
  }
}

}  // namespace

void forward(const float* x, float* out, Geom g, bool log, bool f16) {
  run_forward(x, out, g, log, f16);
}
void forward(const double* x, double* out, Geom g, bool log) {
  run_forward(x, out, g, log, false);
}
void backward(const float* grad, const float* y, float* gin, Geom g, bool log, bool f16) {
  run_backward(grad, y, gin, g, log, f16);
}
void backward(const double* grad, const double* y, double* gin, Geom g, bool log) {
  run_backward(grad, y, gin, g, log, false);
}

}  // namespace tg::smx
