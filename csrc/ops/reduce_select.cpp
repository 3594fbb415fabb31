// The selecting reductions: max/min (over everything, or along one dim), amax/amin (over some
// dims), argmax/argmin. Values are exact, so only ties, NaN and signed zeros depend on the order:
// the first NaN wins, and ties go to the first element, except max()/min() over everything, whose
// scalar loop keeps the last (PyTorch's max_impl(acc, x) = acc > x ? acc : x).
#include <cstring>
#include <vector>

#include "autograd/capture.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

unsigned dims_mask(const Shape& s, const std::optional<Shape>& dims) {
  if (!dims) return (1u << s.n) - 1;
  unsigned mask = 0;
  for (int i = 0; i < dims->n; ++i) {
    const int64_t d = dims->d[i];
    if (d < 0 || d >= std::max<int>(s.n, 1))
      throw IndexError("Dimension out of range (got " + std::to_string(d) + ")");
    if (s.n) mask |= 1u << d;
  }
  return mask;
}

}  // namespace

std::vector<int64_t> lane_offsets(const Shape& shape, const Shape& strides, unsigned mask,
                                  int64_t* inner) {
  Shape ps, pt;
  *inner = 1;
  for (int pass = 0; pass < 2; ++pass)
    for (int d = 0; d < shape.n; ++d)
      if (bool(mask & (1u << d)) == bool(pass)) {
        ps.push(shape.d[d]);
        pt.push(strides.d[d]);
        if (pass) *inner *= shape.d[d];
      }
  const int64_t n = shape.numel();
  std::vector<int64_t> off(size_t(std::max<int64_t>(n, 0)));
  int64_t idx[kMaxDims] = {};
  int64_t cur = 0;
  for (int64_t i = 0; i < n; ++i) {
    off[size_t(i)] = cur;
    for (int k = ps.n - 1; k >= 0; --k) {
      if (++idx[k] < ps.d[k]) {
        cur += pt.d[k];
        break;
      }
      cur -= (ps.d[k] - 1) * pt.d[k];
      idx[k] = 0;
    }
  }
  return off;
}

namespace {

bool is_max_op(OpCode op) {
  return op == OpCode::amax || op == OpCode::max_all || op == OpCode::max_dim ||
         op == OpCode::argmax;
}

// The index, within lane x[off[0..n)], of its max (or min).
template <class T>
int64_t pick(const T* x, const int64_t* off, int64_t n, bool is_max, bool last_tie) {
  auto best = load(x[off[0]]);
  int64_t at = 0;
  if constexpr (kFloating<T>)
    if (best != best) return 0;
  for (int64_t j = 1; j < n; ++j) {
    const auto v = load(x[off[j]]);
    if constexpr (kFloating<T>)
      if (v != v) return j;
    if ((is_max ? v > best : v < best) || (last_tie && v == best)) {
      best = v;
      at = j;
    }
  }
  return at;
}

struct Lanes {
  std::vector<int64_t> off;
  int64_t inner = 1, rows = 1;
};

Lanes lanes_of(const TensorImpl& t, unsigned mask) {
  Lanes l;
  l.off = lane_offsets(t.shape, t.strides, mask, &l.inner);
  for (int d = 0; d < t.shape.n; ++d)
    if (!(mask & (1u << d))) l.rows *= t.shape.d[d];
  return l;
}

// Values (as_index false) or int64 indices of the max/min of each lane.
TensorPtr select_lanes(OpCode op, const TensorPtr& a, unsigned mask, bool keepdim, bool as_index) {
  const bool last_tie = op == OpCode::max_all || op == OpCode::min_all;
  const bool is_max = is_max_op(op);
  auto out = empty(kept_shape(a->shape, mask, keepdim), as_index ? DType::i64 : a->dt);
  Lanes l = lanes_of(*a, mask);
  if (l.rows && !l.inner)
    throw IndexError(std::string(op_name(op)) +
                     "(): Expected reduction dim to have non-zero size.");
  launch({a.get(), out.get()},
         [a = a.get(), out = out.get(), l = std::move(l), is_max, last_tie, as_index] {
           visit(a->dt, [&](auto tag) {
             using T = decltype(tag);
             const T* x = a->as<T>();
             for (int64_t r = 0; r < l.rows; ++r) {
               const int64_t* o = l.off.data() + r * l.inner;
               const int64_t j = pick(x, o, l.inner, is_max, last_tie);
               if (as_index)
                 out->as<int64_t>()[r] = j;
               else
                 out->as<T>()[r] = x[o[j]];
             }
             return 0;
           });
         });
  return out;
}

TensorPtr recorded(OpCode op, const TensorPtr& a, unsigned mask, bool keepdim) {
  TensorPtr out = select_lanes(op, a, mask, keepdim, false);
  if (Node* n = record(op, out, {a.get()})) {
    n->a1.push(int64_t(mask));
    n->i1 = keepdim ? 1 : 0;
  }
  return out;
}

// The gradient of every selecting reduction, for input x (contiguous) and upstream g:
//   max_dim  g at the selected index, +0 elsewhere (PyTorch's scatter into zeros)
//   max_all  g / count on every tie (NaN: on every NaN), +0 elsewhere (masked_fill of zeros)
//   amax     (g / count) * (x == value), so -0 where g / count is negative and NaN when the
//            value is NaN (nothing equals it, count 0)
TensorPtr select_back(OpCode op, const TensorPtr& x, const TensorPtr& g0, unsigned mask) {
  TensorPtr g = dense(g0);
  auto out = empty(x->shape, x->dt);
  const bool last_tie = op == OpCode::max_all || op == OpCode::min_all;
  const bool is_max = is_max_op(op);
  const bool spread = op != OpCode::max_dim && op != OpCode::min_dim;
  const bool nan_ties = last_tie;
  launch({x.get(), g.get(), out.get()},
         [x = x.get(), g = g.get(), out = out.get(), mask, is_max, last_tie, spread, nan_ties] {
           std::memset(out->data(), 0, size_t(out->numel) * itemsize(out->dt));
           Lanes l = lanes_of(*x, mask);
           const Lanes lo = lanes_of(*out, mask);  // x may be strided; out is contiguous
           visit(x->dt, [&](auto tag) {
             using T = decltype(tag);
             if constexpr (kFloating<T>) {
               using C = calc_t<T>;
               const T* xs = x->as<T>();
               const T* gs = g->as<T>();
               T* q = out->as<T>();
               for (int64_t r = 0; r < l.rows; ++r) {
                 const int64_t* o = l.off.data() + r * l.inner;
                 const int64_t* w = lo.off.data() + r * l.inner;
                 const int64_t j = pick(xs, o, l.inner, is_max, last_tie);
                 if (!spread) {
                   q[w[j]] = gs[r];
                   continue;
                 }
                 const C v = load(xs[o[j]]);
                 const bool vnan = v != v;
                 auto hit = [&](int64_t k) {
                   const C e = load(xs[o[k]]);
                   return (nan_ties && vnan) ? e != e : e == v;
                 };
                 int64_t count = 0;
                 for (int64_t k = 0; k < l.inner; ++k)
                   count += hit(k);
                 const T share = cvt<T>(C(load(gs[r]) / C(count)));
                 for (int64_t k = 0; k < l.inner; ++k) {
                   if (nan_ties)
                     q[w[k]] = hit(k) ? share : T{};
                   else
                     q[w[k]] = cvt<T>(C(load(share) * C(hit(k) ? 1 : 0)));
                 }
               }
             }
             return 0;
           });
         });
  return out;
}

}  // namespace

TensorPtr op::amax(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim) {
  return recorded(OpCode::amax, a, dims_mask(a->shape, dims), keepdim);
}
TensorPtr op::amin(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim) {
  return recorded(OpCode::amin, a, dims_mask(a->shape, dims), keepdim);
}
TensorPtr op::max_all(const TensorPtr& a) {
  return recorded(OpCode::max_all, a, dims_mask(a->shape, std::nullopt), false);
}
TensorPtr op::min_all(const TensorPtr& a) {
  return recorded(OpCode::min_all, a, dims_mask(a->shape, std::nullopt), false);
}
TensorPtr op::max_dim(const TensorPtr& a, int64_t dim, bool keepdim) {
  return recorded(OpCode::max_dim, a, dims_mask(a->shape, Shape{dim}), keepdim);
}
TensorPtr op::min_dim(const TensorPtr& a, int64_t dim, bool keepdim) {
  return recorded(OpCode::min_dim, a, dims_mask(a->shape, Shape{dim}), keepdim);
}
TensorPtr op::argmax(const TensorPtr& a, const std::optional<int64_t>& dim, bool keepdim) {
  const unsigned mask = dims_mask(a->shape, dim ? std::optional<Shape>(Shape{*dim}) : std::nullopt);
  return select_lanes(OpCode::argmax, a, mask, keepdim, true);
}
TensorPtr op::argmin(const TensorPtr& a, const std::optional<int64_t>& dim, bool keepdim) {
  const unsigned mask = dims_mask(a->shape, dim ? std::optional<Shape>(Shape{*dim}) : std::nullopt);
  return select_lanes(OpCode::argmin, a, mask, keepdim, true);
}

#define TG_SELECT_BACK(name)                                                 \
  void Op_##name::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {    \
    gin[0] = select_back(OpCode::name, n.unpack(0), g, unsigned(n.a1.d[0])); \
  }
TG_SELECT_BACK(amax)
TG_SELECT_BACK(amin)
TG_SELECT_BACK(max_all)
TG_SELECT_BACK(min_all)
TG_SELECT_BACK(max_dim)
TG_SELECT_BACK(min_dim)
#undef TG_SELECT_BACK

void Op_argmax::backward(Node&, const TensorPtr&, TensorPtr*) {
  throw std::logic_error("argmax has no gradient");
}
void Op_argmin::backward(Node&, const TensorPtr&, TensorPtr*) {
  throw std::logic_error("argmin has no gradient");
}

}  // namespace tg
