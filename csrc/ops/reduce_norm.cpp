// vector_norm, as PyTorch's CPU norm kernel (ReduceOpsKernel.cpp) and its norm_backward.
//
// Forward. The 2-norm of float32/float64 rows that lie contiguously in memory (the whole
// contiguous tensor, or its innermost dims) takes PyTorch's vectorized row loop: one vector of
// V = 32 bytes of lanes accumulates acc + x * x (product rounded, no FMA) over whole vectors, the
// lanes are summed left to right, then the tail elements are added one by one. PyTorch's AVX2
// build compiles that tail with FMA contraction, and GCC vectorizes the first four tail products
// of float32 (rounded, unfused); the portable build never fuses. Every other case is PyTorch's
// binary_kernel_reduce: one running accumulator per output in memory order (float for float16),
// with the Norm*Ops step of each order. A reduction over dims of size 1 only is |x| (x != 0 for
// order 0), as linalg_vector_norm's shortcut.
// Backward: norm_backward, op by op, in the result's dtype (a dtype= result casts back).
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu.h"
#include "kernels/typed.h"
#include "ops/elementwise.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

// Whether every lane is one block of consecutive elements (TensorIterator's "reduce last dim").
bool rows_in_memory(const TensorImpl& t, unsigned mask) {
  const std::vector<int> red = reduced_by_stride(t, mask);
  int64_t expect = 1;
  for (auto it = red.rbegin(); it != red.rend(); ++it) {
    if (t.shape.d[*it] == 1) continue;
    if (t.strides.d[*it] != expect) return false;
    expect *= t.shape.d[*it];
  }
  return true;
}

// Element offsets of each output's lane, the lanes in output order, each in visiting order.
std::vector<int64_t> lanes(const TensorImpl& t, unsigned mask, int64_t* inner) {
  Shape s, st;
  for (int d = 0; d < t.shape.n; ++d)
    if (!(mask & (1u << d))) {
      s.push(t.shape.d[d]);
      st.push(t.strides.d[d]);
    }
  const int kept = s.n;
  const std::vector<int> red = reduced_by_stride(t, mask);
  for (int d : red) {
    s.push(t.shape.d[d]);
    st.push(t.strides.d[d]);
  }
  return lane_offsets(s, st, ((1u << red.size()) - 1) << kept, inner);
}

template <class T>
T two_norm_row(const T* p, int64_t n, bool fused_tail) {
  constexpr int64_t V = 32 / int64_t(sizeof(T));
  T acc[V] = {};
  const int64_t full = n - n % V;
  for (int64_t d = 0; d < full; d += V)
    for (int64_t j = 0; j < V; ++j) {
      const T sq = p[d + j] * p[d + j];
      acc[j] = acc[j] + sq;
    }
  T s = acc[0];
  for (int64_t j = 1; j < V; ++j)
    s = s + acc[j];
  int64_t d = full;
  if (fused_tail && sizeof(T) == 4 && n - d >= 4) {
    for (const int64_t e = d + 4; d < e; ++d) {
      const T sq = p[d] * p[d];
      s = s + sq;
    }
  }
  for (; d < n; ++d) {
    if (fused_tail) {
      s = std::fma(p[d], p[d], s);
    } else {
      const T sq = p[d] * p[d];
      s = s + sq;
    }
  }
  return std::sqrt(s);
}

template <class A>
A max_nan(A a, A b) {
  return std::isnan(a) ? a : std::isnan(b) ? b : std::max(a, b);
}
template <class A>
A min_nan(A a, A b) {
  return std::isnan(a) ? a : std::isnan(b) ? b : std::min(a, b);
}

// Calls f(start, step, project) with order p's accumulation (PyTorch's Norm*Ops, one element
// at a time: acc = step(acc, x)).
template <class A, class F>
void with_order(double p, F&& f) {
  auto same = [](A a) { return a; };
  if (p == 0) {
    f(A(0), [](A acc, A v) { return acc + (v == A(0) ? A(0) : A(1)); }, same);
  } else if (p == 1) {
    f(A(0), [](A acc, A v) { return acc + std::abs(v); }, same);
  } else if (p == 2) {
    f(
        A(0),
        [](A acc, A v) {
          const A sq = v * v;
          return acc + sq;
        },
        [](A a) { return std::sqrt(a); });
  } else if (p == INFINITY) {
    f(A(0), [](A acc, A v) { return max_nan(acc, std::abs(v)); }, same);
  } else if (p == -INFINITY) {
    f(
        std::numeric_limits<A>::infinity(), [](A acc, A v) { return min_nan(acc, std::abs(v)); },
        same);
  } else {
    const A e = A(p);  // the order in the accumulator's type, its reciprocal too
    f(
        A(0), [e](A acc, A v) { return acc + std::pow(std::abs(v), e); },
        [e](A a) { return std::pow(a, A(1) / e); });
  }
}

// One lane by binary_kernel_reduce: x[off(0..n)] folded in order.
template <class T, class Off>
calc_t<T> slow_lane(const T* x, Off off, int64_t n, double p) {
  using A = calc_t<T>;
  A r = A(0);
  with_order<A>(p, [&](A acc, auto step, auto project) {
    for (int64_t k = 0; k < n; ++k)
      acc = step(acc, load(x[off(k)]));
    r = project(acc);
  });
  return r;
}

// The leading dims of a contiguous x reduced: each of the m outputs folds its column in the
// same order as slow_lane, a row of accumulators at a time (the memory order).
template <class T>
void slow_columns(const T* x, int64_t n, int64_t m, double p, T* q) {
  using A = calc_t<T>;
  with_order<A>(p, [&](A start, auto step, auto project) {
    std::vector<A> acc(size_t(m), start);
    for (int64_t i = 0; i < n; ++i) {
      const T* row = x + i * m;
      for (int64_t j = 0; j < m; ++j)
        acc[size_t(j)] = step(acc[size_t(j)], load(row[j]));
    }
    for (int64_t j = 0; j < m; ++j)
      q[j] = cvt<T>(project(acc[size_t(j)]));
  });
}

bool fast_path(const TensorImpl& x, double p, unsigned mask) {
  return p == 2 && x.dt != DType::f16 && rows_in_memory(x, mask);
}

// fast: the vectorized row loop applies (fast_path of the forward's input).
TensorPtr norm_forward(const TensorPtr& x, double p, unsigned mask, bool keepdim, bool fast) {
  auto out = empty(kept_shape(x->shape, mask, keepdim), x->dt);
  if (out->numel == 0) return out;
  launch({x.get(), out.get()}, [x = x.get(), out = out.get(), p, mask, fast] {
    int64_t inner = 1;
    for (int d = 0; d < x->shape.n; ++d)
      if (mask & (1u << d)) inner *= x->shape.d[d];
    const bool fused = cpu::simd();
    // The common calls (everything, or the trailing dims of a contiguous tensor) need no table
    // of offsets: lane r is the row at r * inner.
    const int lead = x->shape.n - __builtin_popcount(mask);
    const bool rows = x->is_contiguous() && mask == ((1u << x->shape.n) - 1) - ((1u << lead) - 1);
    int64_t n = inner;
    const int red = __builtin_popcount(mask);
    const bool columns =
        !rows && !fast && inner > 1 && x->is_contiguous() && mask == (1u << red) - 1;
    const std::vector<int64_t> off = rows || columns ? std::vector<int64_t>{} : lanes(*x, mask, &n);
    visit(x->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kFloating<T>) {
        const T* px = x->as<T>();
        T* q = out->as<T>();
        if (columns) return slow_columns(px, n, out->numel, p, q), 0;
        for (int64_t r = 0; r < out->numel; ++r) {
          const int64_t* lane = rows ? nullptr : off.data() + r * n;
          const int64_t base = rows ? r * n : n ? lane[0] : 0;
          auto at = [rows, base, lane](int64_t k) { return rows ? base + k : lane[k]; };
          if (n == 1) {
            const auto v = load(px[base]);
            q[r] = cvt<T>(p == 0 ? calc_t<T>(v != 0) : std::abs(v));
          } else if constexpr (!std::is_same<T, half>::value) {
            q[r] = fast && p == 2 ? two_norm_row(px + base, n, fused) : slow_lane(px, at, n, p);
          } else {
            q[r] = cvt<T>(slow_lane(px, at, n, p));
          }
        }
      }
      return 0;
    });
  });
  return out;
}

unsigned dims_mask(const TensorImpl& a, const std::optional<Shape>& dims) {
  if (!dims || dims->n == 0) return a.shape.n ? (1u << a.shape.n) - 1 : 0u;
  unsigned m = 0;
  for (int i = 0; i < dims->n; ++i) {
    const int64_t d = dims->d[i];
    if (d < 0 || d >= std::max<int>(a.shape.n, 1))
      throw IndexError("Dimension out of range (got " + std::to_string(d) + ")");
    if (a.shape.n) m |= 1u << d;
  }
  return m;
}

// x's values laid out with its dims in the memory order of `strides` (the forward's input).
TensorPtr in_layout(const TensorPtr& x, const Shape& strides) {
  Shape perm, inv;
  for (int d = 0; d < x->shape.n; ++d)
    perm.push(d);
  std::stable_sort(perm.d, perm.d + perm.n,
                   [&](int64_t u, int64_t v) { return strides.d[u] > strides.d[v]; });
  inv.n = perm.n;
  for (int i = 0; i < perm.n; ++i)
    inv.d[perm.d[i]] = i;
  return op::permute(dense(op::permute(x, perm)), inv);
}

// PyTorch's sgn of a real tensor: +1, -1, and 0 for zeros and NaN.
TensorPtr sgn_of(const TensorPtr& x) {
  return map1_new(x, [](auto v) { return decltype(v)((v > 0) - (v < 0)); });
}
TensorPtr abs_of(const TensorPtr& x) {
  return map1_new(x, [](auto v) { return std::abs(v); });
}
TensorPtr pow_of(const TensorPtr& x, double e) {
  return op::pow_scalar(x, Scalar::of(e));
}
// where(cond(b) , 0, a): a masked where its broadcast partner b meets cond.
template <class C>
TensorPtr zero_where(const TensorPtr& a, const TensorPtr& b, C cond) {
  return map2_new(a, b, [cond](auto u, auto v) { return cond(v) ? decltype(u)(0) : u; });
}

// The derivative of the inf/-inf norm: sgn(x) * ((g / count) * mask), mask where |x| equals
// the norm or is NaN, count its number per lane.
TensorPtr inf_backward(const TensorPtr& g, const TensorPtr& x, const TensorPtr& nk, unsigned mask) {
  const TensorPtr ax = abs_of(x);
  TensorPtr hit =
      map2_new(ax, nk, [](auto u, auto v) { return decltype(u)(u == v || std::isnan(u) ? 1 : 0); });
  auto count = empty(nk->shape, x->dt);
  launch({hit.get(), count.get()}, [hit = hit.get(), count = count.get(), mask] {
    int64_t n = 1;
    const std::vector<int64_t> off = lane_offsets(hit->shape, hit->strides, mask, &n);
    visit(hit->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kFloating<T>) {
        const T* h = hit->as<T>();
        T* c = count->as<T>();
        for (int64_t r = 0; r < count->numel; ++r) {
          int64_t k = 0;
          for (int64_t i = 0; i < n; ++i)
            k += load(h[off[size_t(r * n + i)]]) != 0;
          c[r] = cvt<T>(calc_t<T>(k));
        }
      }
      return 0;
    });
  });
  TensorPtr share = binary_new(Binary::mul, binary_new(Binary::div, g, count), hit);
  return binary_new(Binary::mul, sgn_of(x), share);
}

}  // namespace

TensorPtr op::vector_norm(const TensorPtr& a, double ord, const std::optional<Shape>& dims,
                          bool keepdim, const std::optional<DType>& dtype) {
  if (!is_floating(a->dt))
    throw std::runtime_error(
        std::string("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                    "Got ") +
        torch_name(a->dt));
  const unsigned mask = dims_mask(*a, dims);
  TensorPtr x = a;
  if (dtype && *dtype != a->dt) x = convert(*a, *dtype);
  const bool fast = fast_path(*x, ord, mask);
  TensorPtr out = norm_forward(x, ord, mask, keepdim, fast);
  if (Node* n = record(OpCode::vector_norm, out, {a.get()})) {
    n->s = ord;
    n->i1 = keepdim ? 1 : 0;
    n->a1.push(int64_t(mask));
    n->a1.push(fast ? 1 : 0);
    n->a2 = a->strides;  // unpack() gives a dense copy: keep the order the forward read it in
  }
  return out;
}

// A dtype= result promotes as PyTorch's formula does: the ops on the input alone run in its
// dtype, the others in the result's, except that a 0-dim gradient and norm (a whole reduction
// without keepdim) leave the input's dtype in charge: such a 0-dim operand joins the input's
// op as a number in the op's math type (float for float16).
void Op_vector_norm::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  NoGrad guard;
  const TensorPtr x = n.unpack(0);
  const double p = n.s;
  const unsigned mask = unsigned(n.a1.d[0]);
  if (p == 0) return;  // PyTorch's undefined gradient: none reaches the input
  const DType dt = g0->dt, xt = x->dt;
  auto as = [](const TensorPtr& t, DType d) { return t->dt == d ? t : convert(*t, d); };
  const Shape kept = kept_shape(x->shape, mask, true);
  const TensorPtr g = alias(*dense(g0), kept);
  const TensorPtr nk = norm_forward(in_layout(as(x, dt), n.a2), p, mask, true, n.a1.d[1] != 0);
  const bool zero_dim = x->shape.n == 0 || (n.i1 == 0 && mask == (1u << x->shape.n) - 1);
  // t (k) s for a tensor t of the input's dtype and s of the result's (a norm or gradient).
  auto mix = [&](Binary k, const TensorPtr& t, const TensorPtr& s, bool s_first) {
    const DType m = !zero_dim ? dt : xt == DType::f16 ? DType::f32 : xt;
    TensorPtr a = as(t, m), b = as(s, m);
    TensorPtr r = s_first ? binary_new(k, b, a) : binary_new(k, a, b);
    return zero_dim ? as(r, xt) : r;
  };
  auto is_zero = [](auto v) { return v == 0; };
  auto masked = [&](const TensorPtr& t, const TensorPtr& norm) {
    return zero_where(t, as(norm, t->dt), is_zero);
  };
  TensorPtr r;
  if (p == 1) {
    r = mix(Binary::mul, sgn_of(x), g, false);
  } else if (p == 2) {
    r = mix(Binary::mul, masked(mix(Binary::div, x, nk, false), nk), g, true);
  } else if (std::isinf(p)) {
    const DType m = zero_dim ? xt : dt;
    r = inf_backward(as(g, m), as(x, m), as(nk, m), mask);
  } else if (p < 1) {
    TensorPtr powed = zero_where(pow_of(abs_of(x), p - 1), x, is_zero);
    TensorPtr scaled = binary_new(Binary::mul, sgn_of(x), powed);
    r = mix(Binary::mul, mix(Binary::mul, scaled, g, false), pow_of(nk, 1 - p), false);
  } else {
    TensorPtr scaled = p < 2 ? binary_new(Binary::mul, sgn_of(x), pow_of(abs_of(x), p - 1))
                             : binary_new(Binary::mul, x, pow_of(abs_of(x), p - 2));
    TensorPtr scale = masked(binary_new(Binary::div, g, pow_of(nk, p - 1)), nk);
    r = mix(Binary::mul, scaled, scale, false);
  }
  gin[0] = as(r, xt);
}

}  // namespace tg
