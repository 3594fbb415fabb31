// Fused losses. They round where PyTorch's CPU kernels round, so float16 results match it:
// mse: d = round(a - b), e = round(d * d); l1: e = |round(a - b)|; then e.mean() or e.sum().
#include <cmath>
#include <vector>

#include "autograd/capture.h"
#include "kernels/cascade_sum.h"
#include "kernels/kernels.h"
#include "kernels/vec.h"
#include "ops/ops.h"

namespace tg {

namespace {
float rnd(DType dt, float v) {
  return dt == DType::f16 ? half_to_float(float_to_half(v)) : v;
}

void promote(TensorPtr& a, TensorPtr& b) {
  if (a->dt != b->dt) {  // PyTorch's type promotion, the casts on the tape
    const DType rt = result_type({operand(*a), operand(*b)});
    a = to_dtype(a, rt);
    b = to_dtype(b, rt);
  }
}

// float64 and the integers: the loss composed of the elementwise ops and a reduction, as
// PyTorch's reference formula (mse: (a - b)^2, l1: |a - b|).
TensorPtr composed(OpCode op, const TensorPtr& a, const TensorPtr& b, Reduction r) {
  if (op == OpCode::mse_loss && !is_floating(a->dt))
    throw NotImplemented(std::string("\"mse_cpu\" not implemented for '") + torch_name(a->dt) +
                         "'");
  TensorPtr d = binary(Binary::sub, a, b);
  TensorPtr e = op == OpCode::mse_loss ? binary(Binary::mul, d, d) : unary(OpCode::abs, d);
  if (r == Reduction::none) return e;
  return reduce(r == Reduction::mean ? OpCode::mean : OpCode::sum, e, std::nullopt, false);
}

// float64 mse_loss: PyTorch's fused op, (a - b)^2 per element and a sum in double.
TensorPtr mse_f64(const TensorPtr& a0, const TensorPtr& b0, Reduction r) {
  TensorPtr a = dense(a0), b = dense(b0);
  auto out = empty(r == Reduction::none ? a->shape : Shape{}, DType::f64);
  launch({a.get(), b.get(), out.get()}, [a = a.get(), b = b.get(), out = out.get(), r] {
    const double *pa = a->as<double>(), *pb = b->as<double>();
    double* q = out->as<double>();
    const int64_t n = a->numel;
    std::vector<double> e(r == Reduction::none ? 0 : size_t(n));
    double* dst = r == Reduction::none ? q : e.data();
    for (int64_t i = 0; i < n; ++i) {
      const double d = pa[i] - pb[i];
      dst[i] = d * d;
    }
    if (r == Reduction::none) return;
    const int64_t one = 1;
    csum::sum(csum::Kind::f64, e.data(), Shape{n}, &one, 1u, q);
    if (r == Reduction::mean) q[0] /= double(n);
  });
  if (Node* n = record(OpCode::mse_loss, out, {a0.get(), b0.get()})) n->i1 = int(r);
  return out;
}

template <class ElemFn>
TensorPtr loss_forward(OpCode op, const char* name, TensorPtr a, TensorPtr b, Reduction r,
                       ElemFn elem) {
  promote(a, b);
  if (a->shape != b->shape)
    throw std::runtime_error(std::string(name) + ": input shape " + a->shape.str() +
                             " and target shape " + b->shape.str() + " must match");
  if (op == OpCode::mse_loss && a->dt == DType::f64) return mse_f64(a, b, r);
  if (!is_fast(a->dt)) return composed(op, a, b, r);
  const DType dt = a->dt;
  auto out = empty(r == Reduction::none ? a->shape : Shape{}, dt);
  TensorPtr ad = dense(a), bd = dense(b);
  launch({ad.get(), bd.get(), out.get()},
         [a = ad.get(), b = bd.get(), out = out.get(), r, dt, elem] {
           auto e = [dt, elem](float x, float y) { return elem(rnd(dt, x - y)); };
           if (r == Reduction::none) return map2(*a, *b, *out, e);
           // Each element rounded to the dtype (as PyTorch's elementwise kernel stores it), then
           // PyTorch's mean or sum of that tensor.
           const int64_t n = a->numel, one = 1;
           Scratch buf(std::max<int64_t>(n, 1));
           float* v = buf.data();
           dispatch(dt, [&](auto tag) {
             using T = decltype(tag);
             const T* pa = a->as<T>();
             const T* pb = b->as<T>();
             for (int64_t i = 0; i < n; ++i)
               v[i] = rnd(dt, e(to_f32(pa[i]), to_f32(pb[i])));
             return 0;
           });
           if (r == Reduction::sum && dt == DType::f16) {
             std::vector<uint16_t> h(static_cast<size_t>(n));
             vec::f32_to_f16(v, h.data(), n);
             return csum::sum(csum::Kind::f16, h.data(), Shape{n}, &one, 1u, out->data());
           }
           float acc = 0;
           csum::sum(csum::Kind::f32, v, Shape{n}, &one, 1u, &acc);
           if (r == Reduction::mean) acc = acc / float(n);  // n = 0 gives nan, as in PyTorch
           store_f32(&acc, *out);
         });
  if (Node* n = record(op, out, {a.get(), b.get()})) n->i1 = int(r);
  return out;
}

// grad_of(x, y, g_elem) per element; the upstream g is per element for 'none', else one value.
template <class Fn>
void loss_backward(Node& n, const TensorPtr& g, TensorPtr* gin, Fn grad_of) {
  TensorPtr a = n.unpack(0), b = n.unpack(1);
  auto ga = empty(a->shape, a->dt);
  const Reduction r = Reduction(n.i1);
  launch({a.get(), b.get(), g.get(), ga.get()},
         [a = a.get(), b = b.get(), g = g.get(), ga = ga.get(), r, grad_of] {
           if (r == Reduction::none) return map3(*a, *b, *g, *ga, grad_of);
           const float gv = to_f32_any(*g);
           map2(*a, *b, *ga, [&](float x, float y) { return grad_of(x, y, gv); });
         });
  if (n.in_requires[0]) gin[0] = ga;
  if (n.in_requires[1]) gin[1] = unary_raw(OpCode::neg, ga);
}
}  // namespace

TensorPtr op::mse_loss(const TensorPtr& a, const TensorPtr& b, Reduction r) {
  return loss_forward(OpCode::mse_loss, "mse_loss", a, b, r, [](float d) { return d * d; });
}
void Op_mse_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  if (dt == DType::f64) {  // PyTorch's formula: norm * (a - b) * g
    const Reduction r = Reduction(n.i1);
    const double norm = r == Reduction::mean ? 2.0 / double(n.in_shape[0].numel()) : 2.0;
    TensorPtr a = n.unpack(0), b = n.unpack(1);
    auto ga = empty(a->shape, dt);
    launch({a.get(), b.get(), g.get(), ga.get()},
           [a = a.get(), b = b.get(), g = g.get(), ga = ga.get(), r, norm] {
             const double *pa = a->as<double>(), *pb = b->as<double>(), *pg = g->as<double>();
             double* q = ga->as<double>();
             for (int64_t i = 0; i < a->numel; ++i)
               q[i] = norm * (pa[i] - pb[i]) * pg[r == Reduction::none ? i : 0];
           });
    if (n.in_requires[0]) gin[0] = ga;
    if (n.in_requires[1]) gin[1] = unary_raw(OpCode::neg, ga);
    return;
  }
  const Reduction r = Reduction(n.i1);
  const int64_t count = n.in_shape[0].numel();
  const float norm = rnd(dt, r == Reduction::mean ? float(2.0 / double(count)) : 2.0f);
  loss_backward(n, g, gin, [dt, norm](float x, float y, float gv) {
    return rnd(dt, norm * rnd(dt, x - y)) * gv;
  });
}

TensorPtr op::l1_loss(const TensorPtr& a, const TensorPtr& b, Reduction r) {
  return loss_forward(OpCode::l1_loss, "l1_loss", a, b, r, [](float d) { return std::fabs(d); });
}
void Op_l1_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  const Reduction r = Reduction(n.i1);
  const float count = float(n.in_shape[0].numel());
  loss_backward(n, g, gin, [dt, r, count](float x, float y, float gv) {
    const float ge = r == Reduction::mean ? rnd(dt, gv / count) : gv;
    const float d = rnd(dt, x - y);
    return d > 0.0f ? ge : (d < 0.0f ? -ge : 0.0f * ge);
  });
}

}  // namespace tg
