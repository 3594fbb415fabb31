// Reductions (sum, mean) and shape ops (reshape, permute, slice).
#include <cmath>
#include <cstring>
#include <limits>

#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "ops/ops.h"

namespace tg {

namespace {
void contig_strides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int d = s.n - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s.d[d];
  }
}

struct Strides {
  int64_t v[kMaxDims] = {};
};

// Gather: out[i] = src[offset + sum_d idx_d * strides_d] over out's shape. Scatter (the
// reverse): dst[offset + ...] += src[i] over src's shape.
template <bool Scatter>
void strided(const TensorImpl& src, int64_t offset, const Strides& st, TensorImpl& out) {
  int64_t zero[kMaxDims] = {};
  const Shape& s = Scatter ? src.shape : out.shape;
  dispatch(src.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* p = src.as<T>();
    T* q = out.as<T>();
    for_each2(s, st.v, zero, [&](int64_t i, int64_t o, int64_t) {
      if (Scatter)
        q[offset + o] = from_f32<T>(to_f32(q[offset + o]) + to_f32(p[i]));
      else
        q[i] = p[offset + o];
    });
    return 0;
  });
}

TensorPtr gather_new(const TensorPtr& a, const Shape& out_shape, int64_t off, const Strides& st) {
  auto out = empty(out_shape, a->dt);
  launch({a.get(), out.get()},
         [a = a.get(), out = out.get(), off, st] { strided<false>(*a, off, st, *out); });
  return out;
}
}  // namespace

// ---------------------------------------------------------------- sum / mean
TensorPtr reduce(OpCode op, const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim) {
  const Shape& s = a->shape;
  unsigned mask = 0;
  if (!dims) {
    mask = (1u << s.n) - 1;
  } else {
    for (int i = 0; i < dims->n; ++i) {
      int64_t d = dims->d[i];
      if (d < 0 || d >= std::max<int>(s.n, 1))
        throw IndexError("Dimension out of range (got " + std::to_string(d) + ")");
      if (s.n) mask |= 1u << d;
    }
  }
  Shape os;
  int64_t count = 1;
  for (int d = 0; d < s.n; ++d) {
    if (mask & (1u << d)) {
      count *= s.d[d];
      if (keepdim) os.push(1);
    } else {
      os.push(s.d[d]);
    }
  }
  auto out = empty(os, a->dt);
  const bool mean = op == OpCode::mean;
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), mask, mean, count] {
    Scratch acc(std::max<int64_t>(out->numel, 1));
    float* v = acc.data();
    sum_f32(*a, mask, v);
    if (mean) {
      const float c = float(count);
      for (int64_t i = 0; i < out->numel; ++i)
        v[i] = count ? v[i] / c : std::numeric_limits<float>::quiet_NaN();
    }
    store_f32(v, *out);
  });
  if (Node* n = record(op, out, {a.get()})) {
    n->a1.push(int64_t(mask));
    n->s = double(count);
    n->i1 = (keepdim ? 1 : 0) | (dims ? 0 : 2);
  }
  return out;
}

namespace {
// Spread g (the reduced shape) back over the input shape, optionally dividing by the count.
TensorPtr expand_back(const Node& n, const TensorPtr& g, bool divide) {
  const Shape& in = n.in_shape[0];
  const unsigned mask = unsigned(n.a1.d[0]);
  Strides sg;
  int64_t acc = 1;
  for (int d = in.n - 1; d >= 0; --d) {
    if (mask & (1u << d)) {
      sg.v[d] = 0;
    } else {
      sg.v[d] = acc;
      acc *= in.d[d];
    }
  }
  auto out = empty(in, g->dt);
  const float c = float(n.s);
  launch({g.get(), out.get()}, [g = g.get(), out = out.get(), sg, divide, c] {
    int64_t zero[kMaxDims] = {};
    dispatch(g->dt, [&](auto tag) {
      using T = decltype(tag);
      const T* p = g->as<T>();
      T* q = out->as<T>();
      for_each2(out->shape, sg.v, zero, [&](int64_t i, int64_t o, int64_t) {
        q[i] = divide ? from_f32<T>(to_f32(p[o]) / c) : p[o];
      });
      return 0;
    });
  });
  return out;
}
}  // namespace

void Op_sum::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = expand_back(n, g, false);
}
void Op_mean::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = expand_back(n, g, true);
}

// ---------------------------------------------------------------- reshape (shares storage)
TensorPtr op::reshape(const TensorPtr& a, const Shape& shape) {
  if (shape.numel() != a->numel)
    throw std::runtime_error("shape '" + shape.str() + "' is invalid for input of size " +
                             std::to_string(a->numel));
  auto out = alias(*a, shape);
  record(OpCode::reshape, out, {a.get()});
  return out;
}
void Op_reshape::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = alias(*g, n.in_shape[0]);
}

// ---------------------------------------------------------------- permute (copies)
TensorPtr op::permute(const TensorPtr& a, const Shape& perm) {
  const Shape& s = a->shape;
  if (perm.n != s.n) throw std::runtime_error("permute: wrong number of dims");
  int64_t st[kMaxDims] = {};
  Strides ps;
  contig_strides(s, st);
  Shape os;
  unsigned seen = 0;
  for (int i = 0; i < perm.n; ++i) {
    int64_t d = perm.d[i];
    if (d < 0 || d >= s.n || (seen & (1u << d)))
      throw std::runtime_error("permute(): invalid dims " + perm.str());
    seen |= 1u << d;
    os.push(s.d[d]);
    ps.v[i] = st[d];
  }
  auto out = gather_new(a, os, 0, ps);
  if (Node* n = record(OpCode::permute, out, {a.get()})) n->a1 = perm;
  return out;
}
void Op_permute::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  Shape inv;
  inv.n = n.a1.n;
  for (int i = 0; i < n.a1.n; ++i)
    inv.d[n.a1.d[i]] = i;
  int64_t st[kMaxDims] = {};
  Strides ps;
  contig_strides(g->shape, st);
  for (int i = 0; i < inv.n; ++i)
    ps.v[i] = st[inv.d[i]];
  gin[0] = gather_new(g, n.in_shape[0], 0, ps);
}

// ---------------------------------------------------------------- slice (copies)
namespace {
int64_t slice_layout(const Shape& s, const Shape& starts, const Shape& steps, const Shape& lens,
                     Strides& strides) {
  if (starts.n != s.n || steps.n != s.n || lens.n != s.n)
    throw std::runtime_error("slice: one (start, step, length) per dim is required");
  int64_t st[kMaxDims] = {};
  contig_strides(s, st);
  int64_t off = 0;
  for (int d = 0; d < s.n; ++d) {
    int64_t start = starts.d[d], step = steps.d[d], len = lens.d[d];
    if (step <= 0 || len < 0 || start < 0 || (len > 0 && start + (len - 1) * step >= s.d[d]))
      throw IndexError("slice out of range for dimension " + std::to_string(d) + " of size " +
                       std::to_string(s.d[d]));
    off += start * st[d];
    strides.v[d] = step * st[d];
  }
  return off;
}
}  // namespace

TensorPtr op::slice(const TensorPtr& a, const Shape& starts, const Shape& steps,
                    const Shape& lens) {
  Strides st;
  int64_t off = slice_layout(a->shape, starts, steps, lens, st);
  auto out = gather_new(a, lens, off, st);
  if (Node* n = record(OpCode::slice, out, {a.get()})) {
    n->a1 = starts;
    n->a2 = steps;
  }
  return out;
}
void Op_slice::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  Strides st;
  int64_t off = slice_layout(n.in_shape[0], n.a1, n.a2, g->shape, st);
  auto out = empty(n.in_shape[0], g->dt);
  launch({g.get(), out.get()}, [g = g.get(), out = out.get(), off, st] {
    if (out->numel) std::memset(out->data(), 0, size_t(out->numel) * itemsize(out->dt));
    strided<true>(*g, off, st, *out);
  });
  gin[0] = out;
}

}  // namespace tg
