// Reductions (sum, mean) and shape ops (reshape, permute, slice).
#include <cmath>
#include <limits>

#include "autograd.h"
#include "kernels.h"

namespace tg {

namespace {
void contig_strides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (int d = s.n - 1; d >= 0; --d) {
    st[d] = acc;
    acc *= s.d[d];
  }
}

// out[i] = src[offset + sum_d idx_d * strides_d] over out's shape (or the reverse: scatter-add).
template <bool Scatter>
void strided(const TensorImpl& src, int64_t offset, const int64_t* strides, TensorImpl& out) {
  int64_t zero[kMaxDims] = {};
  const Shape& s = Scatter ? src.shape : out.shape;
  dispatch(src.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* p = src.as<T>();
    T* q = out.as<T>();
    for_each2(s, strides, zero, [&](int64_t i, int64_t o, int64_t) {
      if (Scatter)
        q[offset + o] = from_f32<T>(to_f32(q[offset + o]) + to_f32(p[i]));
      else
        q[i] = p[offset + o];
    });
    return 0;
  });
}
}  // namespace

// ---------------------------------------------------------------- sum / mean
TensorPtr reduce(OpCode op, const TensorPtr& a, const Shape* dims, bool keepdim) {
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
  std::vector<float> acc(size_t(std::max<int64_t>(out->numel, 1)));
  sum_f32(*a, mask, acc.data());
  if (op == OpCode::mean) {
    float c = float(count);
    for (auto& v : acc)
      v = count ? v / c : std::numeric_limits<float>::quiet_NaN();
  }
  store_f32(acc.data(), *out);
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
  unsigned mask = unsigned(n.a1.d[0]);
  int64_t sg[kMaxDims], zero[kMaxDims] = {};
  int64_t acc = 1;
  for (int d = in.n - 1; d >= 0; --d) {
    if (mask & (1u << d)) {
      sg[d] = 0;
    } else {
      sg[d] = acc;
      acc *= in.d[d];
    }
  }
  auto out = empty(in, g->dt);
  float c = float(n.s);
  dispatch(g->dt, [&](auto tag) {
    using T = decltype(tag);
    const T* p = g->as<T>();
    T* q = out->as<T>();
    for_each2(in, sg, zero, [&](int64_t i, int64_t o, int64_t) {
      q[i] = divide ? from_f32<T>(to_f32(p[o]) / c) : p[o];
    });
    return 0;
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
TensorPtr reshape(const TensorPtr& a, const Shape& shape) {
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
TensorPtr permute(const TensorPtr& a, const Shape& perm) {
  const Shape& s = a->shape;
  if (perm.n != s.n) throw std::runtime_error("permute: wrong number of dims");
  int64_t st[kMaxDims], ps[kMaxDims];
  contig_strides(s, st);
  Shape os;
  unsigned seen = 0;
  for (int i = 0; i < perm.n; ++i) {
    int64_t d = perm.d[i];
    if (d < 0 || d >= s.n || (seen & (1u << d)))
      throw std::runtime_error("permute(): invalid dims " + perm.str());
    seen |= 1u << d;
    os.push(s.d[d]);
    ps[i] = st[d];
  }
  auto out = empty(os, a->dt);
  strided<false>(*a, 0, ps, *out);
  if (Node* n = record(OpCode::permute, out, {a.get()})) n->a1 = perm;
  return out;
}
void Op_permute::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  Shape inv;
  inv.n = n.a1.n;
  for (int i = 0; i < n.a1.n; ++i)
    inv.d[n.a1.d[i]] = i;
  int64_t st[kMaxDims], ps[kMaxDims];
  contig_strides(g->shape, st);
  for (int i = 0; i < inv.n; ++i)
    ps[i] = st[inv.d[i]];
  auto out = empty(n.in_shape[0], g->dt);
  strided<false>(*g, 0, ps, *out);
  gin[0] = out;
}

// ---------------------------------------------------------------- slice (copies)
namespace {
int64_t slice_layout(const Shape& s, const Shape& starts, const Shape& steps, const Shape& lens,
                     int64_t* strides) {
  if (starts.n != s.n || steps.n != s.n || lens.n != s.n)
    throw std::runtime_error("slice: one (start, step, length) per dim is required");
  int64_t st[kMaxDims];
  contig_strides(s, st);
  int64_t off = 0;
  for (int d = 0; d < s.n; ++d) {
    int64_t start = starts.d[d], step = steps.d[d], len = lens.d[d];
    if (step <= 0 || len < 0 || start < 0 || (len > 0 && start + (len - 1) * step >= s.d[d]))
      throw IndexError("slice out of range for dimension " + std::to_string(d) + " of size " +
                       std::to_string(s.d[d]));
    off += start * st[d];
    strides[d] = step * st[d];
  }
  return off;
}
}  // namespace

TensorPtr slice(const TensorPtr& a, const Shape& starts, const Shape& steps, const Shape& lens) {
  int64_t strides[kMaxDims];
  int64_t off = slice_layout(a->shape, starts, steps, lens, strides);
  auto out = empty(lens, a->dt);
  if (out->numel) strided<false>(*a, off, strides, *out);
  if (Node* n = record(OpCode::slice, out, {a.get()})) {
    n->a1 = starts;
    n->a2 = steps;
  }
  return out;
}
void Op_slice::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  int64_t strides[kMaxDims];
  int64_t off = slice_layout(n.in_shape[0], n.a1, n.a2, g->shape, strides);
  auto out = zeros(n.in_shape[0], g->dt);
  if (g->numel) strided<true>(*g, off, strides, *out);
  gin[0] = out;
}

}  // namespace tg
