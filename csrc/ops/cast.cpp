// Broadcasting (shapes, and its undoing for gradients) and the dtype cast.
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/typed.h"

namespace tg {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  Shape out;
  int n = std::max(a.n, b.n);
  out.n = uint8_t(n);
  for (int d = 0; d < n; ++d) {
    int ia = d - (n - a.n), ib = d - (n - b.n);
    int64_t sa = ia >= 0 ? a.d[ia] : 1, sb = ib >= 0 ? b.d[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1)
      throw std::runtime_error("The size of tensor a (" + std::to_string(sa) +
                               ") must match the size of tensor b (" + std::to_string(sb) +
                               ") at non-singleton dimension " + std::to_string(d));
    out.d[d] = sa == 1 ? sb : sa;
  }
  return out;
}

TensorPtr sum_to(const TensorPtr& g, const Shape& target) {
  if (g->shape == target) return g;
  unsigned mask = 0;
  const int off = g->shape.n - target.n;
  for (int d = 0; d < g->shape.n; ++d)
    if (d < off || (target.d[d - off] == 1 && g->shape.d[d] != 1)) mask |= 1u << d;
  if (!is_fast(g->dt) && g->dt != DType::f64) {
    auto r = typed_sum(g, mask, true, g->dt);
    return alias(*dense(r), target);  // the kept unit dims dropped where target has none
  }
  // PyTorch's sum(dims, keepdim=True), whose layout is target's.
  auto out = empty(target, g->dt);
  launch({g.get(), out.get()},
         [g = g.get(), out = out.get(), mask] { sum_dims(*g, mask, out->data()); });
  return out;
}

// ---------------------------------------------------------------- cast
TensorPtr to_dtype(const TensorPtr& a, DType dt) {
  return a->dt == dt ? a : op::cast(a, dt);
}

const char* cpp_name(DType dt) {
  static const char* const names[kNumDTypes] = {"float",       "c10::Half",     "double",
                                                "long int",    "int",           "short int",
                                                "signed char", "unsigned char", "bool"};
  return names[int(dt)];
}

TensorPtr op::cast(const TensorPtr& a, DType dt) {
  auto out = convert(*a, dt);
  record(OpCode::cast, out, {a.get()});
  return out;
}
void Op_cast::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g->dt == n.in_dt[0] ? g : convert(*g, n.in_dt[0]);
}

}  // namespace tg
