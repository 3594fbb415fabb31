// Reductions: sum and mean over some or all dims, in PyTorch's order (kernels/cascade_sum.h).
#include <cmath>
#include <cstring>
#include <limits>

#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

namespace {
struct Strides {
  int64_t v[kMaxDims] = {};
};
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
  const bool mean = op == OpCode::mean;
  TensorPtr out;
  if (!is_fast(a->dt)) {  // float64 in double; integers and bool summed as int64, exactly
    if (mean && !is_floating(a->dt))
      throw std::runtime_error(
          std::string("mean(): could not infer output dtype. Input dtype must be either a "
                      "floating point or complex dtype. Got: ") +
          torch_name(a->dt));
    out = typed_sum(a, mask, keepdim, is_floating(a->dt) ? a->dt : DType::i64);
    if (mean) out = scalar_new(out, Binary::div, double(count), false);
  }
  if (out) {
    if (Node* n = record(op, out, {a.get()})) {
      n->a1.push(int64_t(mask));
      n->s = double(count);
      n->i1 = (keepdim ? 1 : 0) | (dims ? 0 : 2);
    }
    return out;
  }
  out = empty(os, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), mask, mean, count] {
    if (!mean) return sum_dims(*a, mask, out->data());
    // PyTorch's mean: the sum (of x.to(float) for float16), divided in float32, then rounded.
    Scratch acc(std::max<int64_t>(out->numel, 1));
    float* v = acc.data();
    sum_dims(*a, mask, v, true);
    const float c = float(count);
    for (int64_t i = 0; i < out->numel; ++i)
      v[i] = count ? v[i] / c : std::numeric_limits<float>::quiet_NaN();
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
// Strides that lay g (the kept dims, contiguous) over the input shape: 0 on the reduced dims.
Strides spread_strides(const Shape& in, unsigned mask) {
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
  return sg;
}

TensorPtr mean_back(const Node& n, const TensorPtr& g) {
  return mean_spread(n.in_shape[0], unsigned(n.a1.d[0]), n.s, g);
}
}  // namespace

// mean's gradient: g spread back over the input shape and divided by the count.
TensorPtr mean_spread(const Shape& in, unsigned mask, double count, const TensorPtr& g) {
  const Strides sg = spread_strides(in, mask);
  auto out = empty(in, g->dt);
  if (g->dt == DType::f64) {
    const double c = count;
    launch({g.get(), out.get()}, [g = g.get(), out = out.get(), sg, c] {
      int64_t zero[kMaxDims] = {};
      const double* p = g->as<double>();
      double* q = out->as<double>();
      for_each2(out->shape, sg.v, zero, [&](int64_t i, int64_t o, int64_t) { q[i] = p[o] / c; });
    });
    return out;
  }
  const float c = float(count);
  launch({g.get(), out.get()}, [g = g.get(), out = out.get(), sg, c] {
    int64_t zero[kMaxDims] = {};
    dispatch(g->dt, [&](auto tag) {
      using T = decltype(tag);
      const T* p = g->as<T>();
      T* q = out->as<T>();
      for_each2(out->shape, sg.v, zero,
                [&](int64_t i, int64_t o, int64_t) { q[i] = from_f32<T>(to_f32(p[o]) / c); });
      return 0;
    });
  });
  return out;
}

void Op_sum::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  // PyTorch's grad.expand(sizes): a view repeating g (stride 0 on the reduced dims). A broadcast
  // reduction downstream sums it in that layout's order, so its bits depend on it.
  const Shape& in = n.in_shape[0];
  const Strides sg = spread_strides(in, unsigned(n.a1.d[0]));
  auto v = alias(*dense(g));
  v->shape = in;
  v->strides.n = in.n;
  for (int d = 0; d < in.n; ++d)
    v->strides.d[d] = sg.v[d];
  v->numel = in.numel();
  gin[0] = std::move(v);
}

void Op_mean::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = mean_back(n, g);
}

}  // namespace tg
