// logsumexp, as PyTorch's CPU op composes it: m = amax(a, dims, keepdim=True) with the infinite
// maxima set to 0, then log(sum(exp(a - m))) + m, every step rounded to a's dtype. Its backward,
// grad * exp(a - result), recomputes the result (the row saves only the input).
#include <cmath>

#include "autograd/capture.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

// The maxima with the infinite ones set to 0 (PyTorch's masked_fill_ of |m| == inf).
TensorPtr finite_max(const TensorPtr& a, const std::optional<Shape>& dims) {
  TensorPtr m = op::amax(a, dims, true);
  launch({m.get()}, [m = m.get()] {
    visit(m->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kFloating<T>) {
        T* p = m->as<T>();
        for (int64_t i = 0; i < m->numel; ++i)
          if (std::isinf(load(p[i]))) p[i] = T{};
      }
      return 0;
    });
  });
  return m;
}

// t (shape kept with size-1 reduced dims) without those dims, as a new tensor header.
TensorPtr drop_dims(const TensorPtr& t, const Shape& in, unsigned mask) {
  Shape s;
  for (int d = 0; d < in.n; ++d)
    if (!(mask & (1u << d))) s.push(in.d[d]);
  return alias(*dense(t), s);
}

TensorPtr lse_forward(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim,
                      unsigned mask) {
  NoGrad guard;
  if (a->numel == 0)
    return unary(OpCode::log, reduce(OpCode::sum, unary(OpCode::exp, a), dims, keepdim));
  TensorPtr m = finite_max(a, dims);
  TensorPtr s = reduce(OpCode::sum, unary(OpCode::exp, binary(Binary::sub, a, m)), dims, keepdim);
  return binary(Binary::add, unary(OpCode::log, s), keepdim ? m : drop_dims(m, a->shape, mask));
}

unsigned mask_of(const Shape& s, const std::optional<Shape>& dims) {
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

std::optional<Shape> dims_of(const Shape& s, unsigned mask) {
  Shape d;
  for (int i = 0; i < s.n; ++i)
    if (mask & (1u << i)) d.push(i);
  return d;
}

}  // namespace

TensorPtr op::logsumexp(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim) {
  if (!is_floating(a->dt)) throw std::runtime_error("logsumexp(): expected a floating point input");
  const unsigned mask = mask_of(a->shape, dims);
  TensorPtr out = lse_forward(a, dims_of(a->shape, mask), keepdim, mask);
  if (Node* n = record(OpCode::logsumexp, out, {a.get()})) {
    n->a1.push(int64_t(mask));
    n->i1 = keepdim ? 1 : 0;
  }
  return out;
}

void Op_logsumexp::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  NoGrad guard;
  n.unpack(0);  // the version check; then the input with its own strides, as PyTorch reads it
  const TensorPtr x = n.as_saved(0);
  const unsigned mask = unsigned(n.a1.d[0]);
  const std::optional<Shape> dims = dims_of(x->shape, mask);
  TensorPtr r = lse_forward(x, dims, true, mask);
  Shape kept;
  for (int d = 0; d < x->shape.n; ++d)
    kept.push(mask & (1u << d) ? 1 : x->shape.d[d]);
  TensorPtr gk = alias(*dense(g), kept);
  gin[0] = binary(Binary::mul, gk, unary(OpCode::exp, binary(Binary::sub, x, r)));
}

}  // namespace tg
