// binary_cross_entropy, binary_cross_entropy_with_logits, smooth_l1_loss and huber_loss. Each
// element follows the order of PyTorch's CPU code: BCE's scalar kernel and the tensor ops of
// BCE-with-logits round to the dtype after every step (float16: computed in float, rounded per
// op); smooth_l1 and huber compute float16 in float and round once. Weights arrive expanded to
// the input's shape; the mean is PyTorch's cascade sum then a division.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/capture.h"
#include "kernels/cascade_sum.h"
#include "kernels/kernels.h"
#include "kernels/vec.h"
#include "ops/ops.h"

namespace tg {

namespace {
template <class C>
struct Ctx {
  bool half;
  C r(C v) const {  // one rounding to the tensor's dtype
    if constexpr (std::is_same<C, float>::value)
      return half ? half_to_float(float_to_half(v)) : v;
    else
      return v;
  }
};

template <class C>
std::vector<C> load(const TensorPtr& t0) {
  TensorPtr t = dense(t0);
  std::vector<C> v(size_t(t->numel));
  if constexpr (std::is_same<C, double>::value)
    std::memcpy(v.data(), t->data(), sizeof(double) * v.size());
  else
    load_f32(*t, v.data());
  return v;
}

// out <- v as the dtype (values already rounded), or its mean/sum as PyTorch reduces it.
template <class C>
TensorPtr finish(std::vector<C>& v, DType dt, const Shape& shape, Reduction r) {
  auto out = empty(r == Reduction::none ? shape : Shape{}, dt);
  const int64_t n = int64_t(v.size()), one = 1;
  if constexpr (std::is_same<C, double>::value) {
    double* q = out->as<double>();
    if (r == Reduction::none) {
      std::memcpy(q, v.data(), sizeof(double) * v.size());
    } else {
      csum::sum(csum::Kind::f64, v.data(), Shape{n}, &one, 1u, q);
      if (r == Reduction::mean) q[0] /= double(n);
    }
  } else {
    if (r == Reduction::none) {
      store_f32(v.data(), *out);
    } else if (r == Reduction::sum && dt == DType::f16) {
      std::vector<uint16_t> h(v.size());
      vec::f32_to_f16(v.data(), h.data(), n);
      csum::sum(csum::Kind::f16, h.data(), Shape{n}, &one, 1u, out->data());
    } else {
      float acc = 0;
      csum::sum(csum::Kind::f32, v.data(), Shape{n}, &one, 1u, &acc);
      if (r == Reduction::mean) acc = acc / float(n);
      store_f32(&acc, *out);
    }
  }
  return out;
}

template <class C>
TensorPtr store(std::vector<C>& v, DType dt, const Shape& shape) {
  return finish(v, dt, shape, Reduction::none);
}

// Calls f(Ctx<C>) with C float (float16, float32) or double.
template <class F>
auto by_dtype(DType dt, F f) {
  if (dt == DType::f64) return f(Ctx<double>{false});
  return f(Ctx<float>{dt == DType::f16});
}

void floating(const TensorPtr& a, const char* kernel) {
  if (!is_floating(a->dt))
    throw NotImplemented(std::string("\"") + kernel + "\" not implemented for '" +
                         torch_name(a->dt) + "'");
}

void same_shape(const TensorPtr& a, const TensorPtr& b, const char* name) {
  if (a->shape != b->shape)
    throw std::runtime_error(std::string(name) + ": input shape " + a->shape.str() +
                             " and target shape " + b->shape.str() + " must match");
}

// The upstream gradient per element ('none') or its one value.
template <class C>
std::vector<C> grad_values(const TensorPtr& g, DType dt, int64_t n) {
  TensorPtr gd = to_dtype(g, dt);
  std::vector<C> v = load<C>(gd);
  if (int64_t(v.size()) != n) v.assign(size_t(n), v.empty() ? C(0) : v[0]);
  return v;
}

// Elements in one step of PyTorch's vectorized loop (two AVX2 vectors); the rest of a
// contiguous run takes its scalar lambda.
int64_t vec_step(DType dt) {
  return dt == DType::f64 ? 8 : (dt == DType::f16 ? 32 : 16);
}

// Node slot 2 holds the weights as rows of one tensor: row 0 weight, row 1 pos_weight; i1's bits
// above the reduction say which are there.
constexpr int kHasW = 4, kHasPw = 8;
}  // namespace

// ---- binary_cross_entropy
TensorPtr op::binary_cross_entropy(const TensorPtr& x, const TensorPtr& y,
                                   const std::optional<TensorPtr>& w, Reduction r) {
  floating(x, "binary_cross_entropy");
  same_shape(x, y, "binary_cross_entropy");
  const DType dt = x->dt;
  TensorPtr out = by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(to_dtype(x, dt)), yv = load<C>(to_dtype(y, dt));
    std::vector<C> e(xv.size());
    for (size_t i = 0; i < e.size(); ++i) {
      const C a = xv[i], t = yv[i];
      if (!(a >= C(0) && a <= C(1)))
        throw std::runtime_error("all elements of input should be between 0 and 1");
      if (!(t >= C(0) && t <= C(1)))
        throw std::runtime_error("all elements of target should be between 0 and 1");
      const C l1 = std::max(c.r(C(std::log1p(-a))), C(-100));
      const C l0 = std::max(c.r(C(std::log(a))), C(-100));
      e[i] = c.r(c.r(c.r(t - C(1)) * l1) - c.r(t * l0));
    }
    if (w) {
      auto wv = load<C>(to_dtype(*w, dt));
      for (size_t i = 0; i < e.size(); ++i)
        e[i] = c.r(e[i] * wv[i]);
    }
    return finish(e, dt, x->shape, r);
  });
  if (Node* n = record(OpCode::binary_cross_entropy, out, {x.get(), y.get()})) {
    n->i1 = int(r) | (w ? kHasW : 0);
    if (w) n->save(2, *dense(to_dtype(*w, dt)));
  }
  return out;
}

void Op_binary_cross_entropy::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  const Reduction r = Reduction(n.i1 & 3);
  const bool has_w = n.i1 & kHasW;
  TensorPtr x = n.unpack(0), y = n.unpack(1), w = has_w ? n.unpack(2) : nullptr;
  const int64_t count = x->numel;
  by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(x), yv = load<C>(y), gv = grad_values<C>(g, dt, count);
    std::vector<C> wv = w ? load<C>(w) : std::vector<C>();
    // PyTorch's epsilon: the float 1e-12, in the dtype (0 in float16).
    const C eps = c.r(C(1e-12f));
    auto post = [&](std::vector<C>& v) {  // the weight, then the mean's division
      for (size_t i = 0; i < v.size(); ++i) {
        if (w) v[i] = c.r(v[i] * wv[i]);
        if (r == Reduction::mean) v[i] = c.r(v[i] / C(count));
      }
      return store(v, dt, x->shape);
    };
    if (n.in_requires[0]) {
      std::vector<C> v(xv.size());
      for (size_t i = 0; i < v.size(); ++i) {
        const C a = xv[i];
        const C den = std::max(c.r(c.r(C(1) - a) * a), eps);
        v[i] = c.r(c.r(gv[i] * c.r(a - yv[i])) / den);
      }
      gin[0] = post(v);
    }
    if (n.in_requires[1]) {  // -logit(x) * g; logit is log(x / (1 - x)) with the log op's kernel
      std::vector<C> q(xv.size());
      for (size_t i = 0; i < q.size(); ++i)
        q[i] = c.r(xv[i] / c.r(C(1) - xv[i]));
      std::vector<C> lg = load<C>(unary_raw(OpCode::log, store(q, dt, x->shape)));
      for (size_t i = 0; i < q.size(); ++i)
        q[i] = c.r(-lg[i] * gv[i]);
      gin[1] = post(q);
    }
    return 0;
  });
}

// ---- binary_cross_entropy_with_logits: log_sigmoid, the pos_weight factor, (1 - y) * x - ls
namespace {
TensorPtr weight_rows(const std::optional<TensorPtr>& w, const std::optional<TensorPtr>& pw,
                      const TensorPtr& x) {
  const int64_t n = x->numel;
  auto rows = empty(Shape{2, n}, DType::f64);
  double* q = rows->as<double>();
  std::fill(q, q + 2 * n, 1.0);
  auto put = [&](const std::optional<TensorPtr>& t, double* dst) {
    if (!t) return;
    TensorPtr d = dense(to_dtype(*t, DType::f64));
    std::memcpy(dst, d->data(), sizeof(double) * size_t(n));
  };
  put(w, q);
  put(pw, q + n);
  return rows;
}

template <class C>
C log_sigmoid(C x) {
  const C b = std::exp(-std::abs(x));
  return std::min(x, C(0)) - std::log1p(b);
}
}  // namespace

TensorPtr op::binary_cross_entropy_with_logits(const TensorPtr& x, const TensorPtr& y,
                                               const std::optional<TensorPtr>& w,
                                               const std::optional<TensorPtr>& pw, Reduction r) {
  floating(x, "binary_cross_entropy_with_logits");
  same_shape(x, y, "binary_cross_entropy_with_logits");
  const DType dt = x->dt;
  TensorPtr rows = weight_rows(w, pw, x);
  const int64_t n = x->numel;
  TensorPtr out = by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(to_dtype(x, dt)), yv = load<C>(to_dtype(y, dt));
    const double* wr = rows->as<double>();
    std::vector<C> e(xv.size());
    for (int64_t i = 0; i < n; ++i) {
      const C a = xv[size_t(i)], t = yv[size_t(i)];
      C ls = c.r(log_sigmoid(a));
      if (pw) {
        const C p = c.r(C(wr[n + i]));
        ls = c.r(ls * c.r(c.r(c.r(p - C(1)) * t) + C(1)));
      }
      C l = c.r(c.r(c.r(C(1) - t) * a) - ls);
      if (w) l = c.r(l * c.r(C(wr[i])));
      e[size_t(i)] = l;
    }
    return finish(e, dt, x->shape, r);
  });
  if (Node* nd = record(OpCode::binary_cross_entropy_with_logits, out, {x.get(), y.get()})) {
    nd->i1 = int(r) | (w ? kHasW : 0) | (pw ? kHasPw : 0);
    nd->save(2, *rows);
  }
  return out;
}

void Op_binary_cross_entropy_with_logits::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  const Reduction r = Reduction(n.i1 & 3);
  const bool has_w = n.i1 & kHasW, has_pw = n.i1 & kHasPw;
  TensorPtr x = n.unpack(0), y = n.unpack(1), rows = n.unpack(2);
  const int64_t count = x->numel;
  by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(x), yv = load<C>(y), gv = grad_values<C>(g, dt, count);
    const double* wr = rows->as<double>();
    // PyTorch's sigmoid kernel, as the sigmoid op computes it
    const std::vector<C> sig = load<C>(unary_raw(OpCode::sigmoid, x));
    auto post = [&](std::vector<C>& v) {
      for (int64_t i = 0; i < count; ++i) {
        C e = c.r(v[size_t(i)] * gv[size_t(i)]);
        if (has_w) e = c.r(e * c.r(C(wr[i])));
        if (r == Reduction::mean) e = c.r(e / C(count));
        v[size_t(i)] = e;
      }
      return store(v, dt, x->shape);
    };
    if (n.in_requires[0]) {
      std::vector<C> v(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        const C t = yv[size_t(i)], s = sig[size_t(i)];
        if (has_pw) {
          const C tw = c.r(c.r(C(wr[count + i])) * t);
          v[size_t(i)] = c.r(c.r(c.r(c.r(tw + C(1)) - t) * s) - tw);
        } else {
          v[size_t(i)] = c.r(s - t);
        }
      }
      gin[0] = post(v);
    }
    if (n.in_requires[1]) {
      std::vector<C> v(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        const C a = xv[size_t(i)];
        if (has_pw) {
          const C p = c.r(C(wr[count + i]));
          v[size_t(i)] = c.r(c.r(log_sigmoid(-a)) - c.r(c.r(log_sigmoid(a)) * p));
        } else {
          v[size_t(i)] = -a;
        }
      }
      gin[1] = post(v);
    }
    return 0;
  });
}

// ---- smooth_l1_loss and huber_loss: PyTorch's vectorized kernels with their scalar tails
namespace {

TensorPtr pointwise_loss(OpCode op, const char* name, const TensorPtr& x, const TensorPtr& y,
                         Reduction r, double param) {
  floating(x, name);
  same_shape(x, y, name);
  const DType dt = x->dt;
  const bool huber = op == OpCode::huber_loss;
  TensorPtr out = by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(to_dtype(x, dt)), yv = load<C>(to_dtype(y, dt));
    std::vector<C> e(xv.size());
    if (huber) {  // float16 in float, rounded once
      const C p = C(param), half = C(0.5);
      for (size_t i = 0; i < e.size(); ++i) {
        const C z = std::abs(xv[i] - yv[i]);
        e[i] = c.r(z < p ? half * z * z : p * (z - half * p));
      }
    } else {  // float16 in Half arithmetic
      const C p = c.r(C(param)), half = C(0.5), hp = c.r(half * p);
      for (size_t i = 0; i < e.size(); ++i) {
        const C z = std::abs(c.r(xv[i] - yv[i]));
        e[i] = z < p ? c.r(c.r(c.r(half * z) * z) / p) : c.r(z - hp);
      }
    }
    return finish(e, dt, x->shape, r);
  });
  if (Node* n = record(op, out, {x.get(), y.get()})) {
    n->i1 = int(r);
    n->s = param;
  }
  return out;
}

// PyTorch computes the target's gradient as the input's with the two swapped.
void pointwise_backward(Node& n, const TensorPtr& g, TensorPtr* gin, bool huber) {
  const DType dt = n.in_dt[0];
  const Reduction r = Reduction(n.i1);
  TensorPtr x = n.unpack(0), y = n.unpack(1);
  const int64_t count = x->numel;
  const int64_t tail = count - count % vec_step(dt);
  const double pd = n.s;
  by_dtype(dt, [&](auto c) {
    using C = decltype(c.r(0));
    auto xv = load<C>(x), yv = load<C>(y), gv = grad_values<C>(g, dt, count);
    // smooth_l1: float16 in float, rounded once; huber: in Half arithmetic
    const Ctx<C> h{huber && c.half};
    const C p = h.r(C(pd));
    const C norm = h.r(r == Reduction::mean ? C(1.0 / double(count)) : C(1));
    auto grad = [&](const std::vector<C>& a, const std::vector<C>& b) {
      std::vector<C> v(a.size());
      for (int64_t i = 0; i < count; ++i) {
        const C d = h.r(a[size_t(i)] - b[size_t(i)]), go = gv[size_t(i)];
        C e;
        if (i < tail) {  // the vector lambda: norm * clamped * g
          C o;
          if (huber)
            o = d >= p ? p : (d <= -p ? -p : d);
          else
            o = std::abs(d) >= p ? (d > C(0) ? C(1) : C(-1)) : d / p;
          e = h.r(norm * o) * go;
        } else if (huber) {
          e = d <= -p ? h.r(-norm * go) * p : (d >= p ? h.r(norm * go) * p : h.r(norm * d) * go);
        } else {  // beta stays a double here
          e = double(d) <= -pd ? -norm * go
                               : (double(d) >= pd ? norm * go : C(double(norm * d * go) / pd));
        }
        v[size_t(i)] = c.r(e);
      }
      return store(v, dt, x->shape);
    };
    if (n.in_requires[0]) gin[0] = grad(xv, yv);
    if (n.in_requires[1]) gin[1] = grad(yv, xv);
    return 0;
  });
}
}  // namespace

TensorPtr op::smooth_l1_loss(const TensorPtr& x, const TensorPtr& y, Reduction r, double beta) {
  return pointwise_loss(OpCode::smooth_l1_loss, "smooth_l1_cpu", x, y, r, beta);
}
void Op_smooth_l1_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  pointwise_backward(n, g, gin, false);
}

TensorPtr op::huber_loss(const TensorPtr& x, const TensorPtr& y, Reduction r, double delta) {
  return pointwise_loss(OpCode::huber_loss, "huber_cpu", x, y, r, delta);
}
void Op_huber_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  pointwise_backward(n, g, gin, true);
}

}  // namespace tg
