// clamp with number bounds, maximum and minimum, and pow with a tensor exponent: PyTorch's
// kernels and backward formulas, each tensor op of a formula rounded to the dtype.
#include "ops/ewise.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/ewise_vec.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

namespace {
// What a clamp node remembers (Node::i1): which call made it (PyTorch names the three apart)
// and which bounds it has.
constexpr int kApiMask = 3, kHasLo = 4, kHasHi = 8;

template <class T>
T bound_as(const Scalar& s) {
  if (s.dt == DType::f64) return cvt<T>(s.f);
  if (s.dt == DType::b8) return cvt<T>(s.i != 0);
  if constexpr (kFloating<T>) return cvt<T>(double(s.i));
  return cvt<T>(s.i);
}

// PyTorch's scalar clamp: max with the lower bound first, then min with the upper; a NaN input
// stays NaN, and so does everything when a bound of a two-sided clamp is NaN.
template <class T>
T clamp_one(T v, const T* lo, const T* hi) {
  if (lo) v = v < *lo ? *lo : v;
  if (hi) v = *hi < v ? *hi : v;
  return v;
}
}  // namespace

TensorPtr clamp_values(const TensorPtr& a0, const std::optional<Scalar>& lo,
                       const std::optional<Scalar>& hi) {
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  const bool nan_bound = lo && hi && (std::isnan(lo->as_double()) || std::isnan(hi->as_double()));
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), lo, hi, nan_bound] {
    visit(a->dt, [&](auto tag) {
      using T = decltype(tag);
      using C = calc_t<T>;
      const T tl = lo ? bound_as<T>(*lo) : T{}, th = hi ? bound_as<T>(*hi) : T{};
      const C cl = load(tl), ch = load(th);  // float16's bounds are rounded to float16 first
      const T* p = a->as<T>();
      T* q = out->as<T>();
      for (int64_t i = 0; i < a->numel; ++i) {
        if constexpr (kFloating<T>) {
          if (nan_bound) {
            q[i] = cvt<T>(C(NAN));
            continue;
          }
        }
        q[i] = cvt<T>(clamp_one<C>(load(p[i]), lo ? &cl : nullptr, hi ? &ch : nullptr));
      }
      return 0;
    });
  });
  return out;
}

TensorPtr op::clamp(const TensorPtr& a0, const std::optional<Scalar>& lo,
                    const std::optional<Scalar>& hi, int64_t api) {
  if (!lo && !hi)
    throw std::runtime_error("torch.clamp: At least one of 'min' or 'max' must not be None");
  const DType rt = lo && hi ? result_type({operand(*a0), operand(*lo), operand(*hi)})
                            : result_type({operand(*a0), operand(lo ? *lo : *hi)});
  if (rt == DType::b8) throw NotImplemented("\"clamp_scalar_cpu\" not implemented for 'Bool'");
  TensorPtr a = to_dtype(a0, rt);
  TensorPtr out = clamp_values(a, lo, hi);
  if (is_floating(rt))
    if (Node* n = record(OpCode::clamp, out, {a.get()})) {
      n->s = lo ? lo->as_double() : 0.0;
      n->s2 = hi ? hi->as_double() : 0.0;
      n->i1 = int(api & kApiMask) | (lo ? kHasLo : 0) | (hi ? kHasHi : 0);
    }
  return out;
}

// PyTorch's: the gradient where lo <= x <= hi (bounds compared in the dtype), else 0; the
// bounds themselves get it (a subgradient of 1).
void Op_clamp::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const bool has_lo = n.i1 & kHasLo, has_hi = n.i1 & kHasHi;
  double lo = n.s, hi = n.s2;
  if (g->dt == DType::f16) {
    lo = double(half_to_float(float_to_half(float(lo))));
    hi = double(half_to_float(float_to_half(float(hi))));
  }
  gin[0] = map2_new(g, n.unpack(0), [=](auto gv, auto x) {
    using T = decltype(x);
    const bool in = (!has_lo || x >= T(lo)) && (!has_hi || x <= T(hi));
    return in ? gv : T(0);
  });
}

std::string clamp_name(const Node& n) {
  const int api = n.i1 & kApiMask;
  return api == 1 ? "ClampMinBackward0" : api == 2 ? "ClampMaxBackward0" : n.op->grad_name;
}

// ---------------------------------------------------------------- maximum, minimum

namespace {
// fn(a, b, c) per element of the broadcast shape, in the compute type of dt (float for float16),
// stored as dt. Inputs of dtype dt, any strides.
template <class Fn>
TensorPtr zip3(const TensorPtr& a, const TensorPtr& b, const TensorPtr& c, Fn fn) {
  auto out = empty(broadcast_shapes(a->shape, broadcast_shapes(b->shape, c->shape)), a->dt);
  launch({a.get(), b.get(), c.get(), out.get()},
         [fn, a = a.get(), b = b.get(), c = c.get(), out = out.get()] {
           visit(out->dt, [&](auto tag) {
             using T = decltype(tag);
             int64_t st[3][kMaxDims];
             strides_over(*a, out->shape, st[0]);
             strides_over(*b, out->shape, st[1]);
             strides_over(*c, out->shape, st[2]);
             const T *pa = a->as<T>(), *pb = b->as<T>(), *pc = c->as<T>();
             T* q = out->as<T>();
             each<3>(out->shape, st, [&](int64_t o, const int64_t* off) {
               q[o] = cvt<T>(fn(load(pa[off[0]]), load(pb[off[1]]), load(pc[off[2]])));
             });
             return 0;
           });
         });
  return out;
}

// PyTorch's NaN-propagating maximum/minimum. Its vector code (most elements) returns the second
// operand of a tie (so max(-0, +0) is +0); the scalar tail the first.
template <class T>
T extreme(bool mx, T x, T y) {
  if constexpr (kFloating<T> || std::is_floating_point<T>::value) {
    if (x != x) return x;
    if (y != y) return y;
  }
  if (x == y) return y;
  return (mx ? x < y : y < x) ? y : x;
}
}  // namespace

TensorPtr minmax(OpCode op, const TensorPtr& a0, const TensorPtr& b0) {
  const DType rt = result_type({operand(*a0), operand(*b0)});
  const bool mx = op == OpCode::maximum;
  TensorPtr a = to_dtype(a0, rt), b = to_dtype(b0, rt);
  TensorPtr out = zip3(a, b, b, [mx](auto x, auto y, auto) { return extreme(mx, x, y); });
  if (is_floating(rt)) record(op, out, {a.get(), b.get()});
  return out;
}

TensorPtr op::maximum(const TensorPtr& a, const TensorPtr& b) {
  return minmax(OpCode::maximum, a, b);
}
TensorPtr op::minimum(const TensorPtr& a, const TensorPtr& b) {
  return minmax(OpCode::minimum, a, b);
}

namespace {
// PyTorch's where(x == y, grad / 2, grad).masked_fill_(x loses, 0) for input `first` (x is input
// 0) or the other one; then summed to the input's shape.
void minmax_backward(bool mx, Node& n, const TensorPtr& g, TensorPtr* gin) {
  const TensorPtr x = n.unpack(0), y = n.unpack(1);
  for (int i = 0; i < 2; ++i) {
    if (!n.in_requires[i]) continue;
    TensorPtr gi = zip3(g, x, y, [mx, i](auto gv, auto xv, auto yv) {
      using T = decltype(gv);
      if (xv == yv) return T(gv / T(2));
      const bool x_loses = mx ? xv < yv : xv > yv;
      const bool y_loses = mx ? xv > yv : xv < yv;
      return (i == 0 ? x_loses : y_loses) ? T(0) : gv;
    });
    gin[i] = sum_to(gi, n.in_shape[i]);
  }
}
}  // namespace

void Op_maximum::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  minmax_backward(true, n, g, gin);
}
void Op_minimum::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  minmax_backward(false, n, g, gin);
}

// ---------------------------------------------------------------- pow with a tensor exponent

namespace {
// A one-element tensor repeated to `shape` (contiguous).
TensorPtr full_like_value(const TensorPtr& one, const Shape& shape) {
  return zip3(one, zeros(shape, one->dt), one, [](auto v, auto, auto) { return v; });
}

template <class T>
T int_pow(T base, T e) {  // PyTorch's: a negative exponent gives 0 unless the base is +-1
  if (e < 0) {
    if (base == 1) return 1;
    if constexpr (std::is_signed<T>::value)
      if (base == -1) return (e & 1) ? T(-1) : T(1);
    return 0;
  }
  T r = 1;
  while (e) {
    if (e & 1) r = wrap_mul(r, base);
    e = T(e >> 1);
    if (e) base = wrap_mul(base, base);
  }
  return r;
}

// base ** e, broadcast, both of one dtype. float32 and float16 of one shape (or one of them a
// single element) go through kernels/ewise_vec.h, as PyTorch's vector loop takes them; a real
// broadcast runs PyTorch's scalar code, the C library's pow (float's for float32 and float16).
TensorPtr pow_values(const TensorPtr& b0, const TensorPtr& e0) {
  if (is_fast(b0->dt) && (b0->shape == e0->shape || b0->numel == 1 || e0->numel == 1)) {
    const Shape shape = broadcast_shapes(b0->shape, e0->shape);
    TensorPtr b = b0->shape == shape ? dense(b0) : full_like_value(b0, shape);
    TensorPtr e = e0->shape == shape ? dense(e0) : full_like_value(e0, shape);
    auto out = empty(shape, b->dt);
    launch({b.get(), e.get(), out.get()}, [b = b.get(), e = e.get(), out = out.get()] {
      vec::pow2(out->dt, b->data(), e->data(), out->data(), out->numel);
    });
    return out;
  }
  return zip3(b0, e0, e0, [](auto x, auto y, auto) {
    using T = decltype(x);
    if constexpr (std::is_same<T, bool>::value)
      return bool(x || !y);
    else if constexpr (std::is_integral<T>::value)
      return int_pow(x, y);
    else
      return T(std::pow(x, y));
  });
}
}  // namespace

TensorPtr op::pow(const TensorPtr& b0, const TensorPtr& e0) {
  const DType rt = result_type({operand(*b0), operand(*e0)});
  TensorPtr b = to_dtype(b0, rt), e = to_dtype(e0, rt);
  TensorPtr out = pow_values(b, e);
  if (is_floating(rt)) record(OpCode::pow, out, {b.get(), e.get()});
  return out;
}

// PyTorch's PowBackward1: base: where(e == 0, 0, grad * (e * x.pow(e - 1))); exponent:
// grad * where(x == 0 & e >= 0, 0, x.pow(e) * log(x)). Each op rounded to the dtype.
void Op_pow::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const TensorPtr x = n.unpack(0), e = n.unpack(1);
  if (n.in_requires[0]) {
    TensorPtr p = pow_values(x, scalar_new(e, Binary::sub, 1.0, false));
    TensorPtr t = binary_new(Binary::mul, g, binary_new(Binary::mul, e, p));
    t = zip3(t, e, e, [](auto tv, auto ev, auto) {
      using T = decltype(tv);
      return ev == T(0) ? T(0) : tv;
    });
    gin[0] = sum_to(t, n.in_shape[0]);
  }
  if (n.in_requires[1]) {
    TensorPtr t = binary_new(Binary::mul, pow_values(x, e), unary_raw(OpCode::log, x));
    t = zip3(t, x, e, [](auto tv, auto xv, auto ev) {
      using T = decltype(tv);
      return xv == T(0) && ev >= T(0) ? T(0) : tv;
    });
    gin[1] = sum_to(binary_new(Binary::mul, g, t), n.in_shape[1]);
  }
}

}  // namespace tg
