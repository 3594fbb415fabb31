// Every dtype as its C++ element type, and PyTorch's conversions between them: what the plain
// loops of ops/typed.cpp use for float64, the integers and bool (and float16/float32 where an op
// has no vector kernel, such as comparisons).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/tensor.h"

namespace tg {

// f(T{}) with T the element type of dt (tg::half for float16).
template <class F>
inline auto visit(DType dt, F&& f) {
  switch (dt) {
    case DType::f32:
      return f(float{});
    case DType::f16:
      return f(half{});
    case DType::f64:
      return f(double{});
    case DType::i64:
      return f(int64_t{});
    case DType::i32:
      return f(int32_t{});
    case DType::i16:
      return f(int16_t{});
    case DType::i8:
      return f(int8_t{});
    case DType::u8:
      return f(uint8_t{});
    case DType::b8:
      break;
  }
  return f(bool{});
}

// f(T{}) for the floating dtypes (float32, float16, float64); any other raises "`op`: expected a
// floating dtype" (front ends check dtypes first, with PyTorch's words).
template <class F>
inline void visit_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::f32:
      return f(float{});
    case DType::f16:
      return f(half{});
    case DType::f64:
      return f(double{});
    default:
      throw std::runtime_error(std::string(op) + ": expected a floating dtype");
  }
}

template <class T>
constexpr bool kFloating = std::is_floating_point<T>::value || std::is_same<T, half>::value;

// The arithmetic type a value of T is computed in: float for half, T itself otherwise.
template <class T>
using calc_t = std::conditional_t<std::is_same<T, half>::value, float, T>;

template <class T>
inline calc_t<T> load(T v) {
  if constexpr (std::is_same<T, half>::value)
    return half_to_float(v.bits);
  else
    return v;
}

namespace detail {
// x86's truncating conversion, as PyTorch's CPU kernels get it: NaN and out-of-range values give
// the lowest value of the (32- or 64-bit) integer.
template <class I>
inline I trunc_to(double v) {
  const double lo = double(std::numeric_limits<I>::min());
  const double t = std::trunc(v);
  if (!(t >= lo && t < -lo)) return std::numeric_limits<I>::min();
  return I(t);
}
}  // namespace detail

// PyTorch's conversion of one value of S to D.
template <class D, class S>
inline D cvt(S v) {
  if constexpr (std::is_same<D, S>::value) {
    return v;
  } else if constexpr (std::is_same<D, bool>::value) {
    return load(v) != 0;
  } else if constexpr (std::is_same<D, half>::value) {
    return half{float_to_half(float(load(v)))};  // through float32, as PyTorch
  } else if constexpr (std::is_floating_point<D>::value) {
    return D(load(v));
  } else if constexpr (kFloating<S>) {  // floating to integer
    if constexpr (std::is_same<D, int64_t>::value)
      return detail::trunc_to<int64_t>(double(load(v)));
    else
      return D(uint32_t(detail::trunc_to<int32_t>(double(load(v)))));  // then wrap
  } else {
    return D(v);  // integer or bool to integer: wraps
  }
}

// Element strides of t over `out` (right-aligned; 0 where t is broadcast or has no such dim).
inline void strides_over(const TensorImpl& t, const Shape& out, int64_t* st) {
  const int off = out.n - t.shape.n;
  for (int d = 0; d < out.n; ++d) {
    const int k = d - off;
    st[d] = (k < 0 || t.shape.d[k] == 1) ? 0 : t.strides.d[k];
  }
}

// fn(o, offs) for every element o of `shape` (row-major), offs[j] its element offset in input j.
template <int N, class Fn>
inline void each(const Shape& shape, const int64_t (&st)[N][kMaxDims], Fn&& fn) {
  const int64_t total = shape.numel();
  if (total == 0) return;
  int64_t idx[kMaxDims] = {}, off[N] = {};
  for (int64_t o = 0; o < total; ++o) {
    fn(o, off);
    for (int d = shape.n - 1; d >= 0; --d) {
      for (int j = 0; j < N; ++j)
        off[j] += st[j][d];
      if (++idx[d] < shape.d[d]) break;
      for (int j = 0; j < N; ++j)
        off[j] -= st[j][d] * shape.d[d];
      idx[d] = 0;
    }
  }
}

// Integer arithmetic wraps, as PyTorch's (done in unsigned so that it is defined).
template <class T>
inline T wrap_add(T x, T y) {
  using U = std::make_unsigned_t<T>;
  return T(U(x) + U(y));
}
template <class T>
inline T wrap_sub(T x, T y) {
  using U = std::make_unsigned_t<T>;
  return T(U(x) - U(y));
}
template <class T>
inline T wrap_mul(T x, T y) {
  using U = std::make_unsigned_t<decltype(x * y)>;
  return T(U(x) * U(y));
}

template <class T>
inline T add_values(T x, T y) {  // one addition as PyTorch's add does it for T
  if constexpr (std::is_same<T, bool>::value)
    return x || y;
  else if constexpr (std::is_same<T, half>::value)
    return cvt<half>(load(x) + load(y));
  else if constexpr (std::is_integral<T>::value)
    return wrap_add(x, y);
  else
    return x + y;
}

// dst <- src converted (any dtypes, same shape, either strided).
void typed_convert(const TensorImpl& src, TensorImpl& dst);
// Every element of t (any strides) set to s, converted to t's dtype.
void typed_fill(TensorImpl& t, const Scalar& s);
// dst += src (same shape and dtype; either strided).
void typed_add_into(TensorImpl& dst, const TensorImpl& src);

}  // namespace tg
