// Fused losses. They round where PyTorch's CPU kernels round, so float16 results match it:
// mse: d = round(a - b), e = round(d * d); l1: e = |round(a - b)|; mean = round(sum_f32(e) / n).
#include <cmath>

#include "autograd.h"
#include "kernels.h"

namespace tg {

namespace {
float rnd(DType dt, float v) {
  return dt == DType::f16 ? half_to_float(float_to_half(v)) : v;
}

void promote(TensorPtr& a, TensorPtr& b) {
  if (a->dt != b->dt) {
    if (a->dt == DType::f16)
      a = cast(a, DType::f32);
    else
      b = cast(b, DType::f32);
  }
}

template <class ElemFn>
TensorPtr loss_forward(OpCode op, const char* name, TensorPtr a, TensorPtr b, Reduction r,
                       ElemFn elem) {
  promote(a, b);
  if (a->shape != b->shape)
    throw std::runtime_error(std::string(name) + ": input shape " + a->shape.str() +
                             " and target shape " + b->shape.str() + " must match");
  const DType dt = a->dt;
  auto e = empty(a->shape, dt);
  map2(*a, *b, *e, [dt, elem](float x, float y) { return elem(rnd(dt, x - y)); });
  TensorPtr out = e;
  if (r != Reduction::none) {
    out = empty(Shape{}, dt);
    float acc = 0;
    sum_f32(*e, (1u << e->shape.n) - 1, &acc);
    if (r == Reduction::mean) acc = acc / float(e->numel);  // n = 0 gives nan, as in PyTorch
    store_f32(&acc, *out);
  }
  if (Node* n = record(op, out, {a.get(), b.get()})) {
    n->save(0, *a);
    n->save(1, *b);
    n->i1 = int(r);
  }
  return out;
}

// Per-element upstream gradient: g itself for 'none', else its single value (divided by n for
// l1 'mean', which PyTorch computes as a separate rounded step).
template <class Fn>
void loss_backward(Node& n, const TensorPtr& g, TensorPtr* gin, Fn grad_of) {
  TensorPtr a = n.unpack(0), b = n.unpack(1);
  const DType dt = a->dt;
  auto ga = empty(a->shape, dt);
  Reduction r = Reduction(n.i1);
  if (r == Reduction::none) {
    map3(*a, *b, *g, *ga, [&](float x, float y, float gv) { return grad_of(x, y, gv); });
  } else {
    float gv = to_f32_any(*g);
    map2(*a, *b, *ga, [&](float x, float y) { return grad_of(x, y, gv); });
  }
  if (n.in_requires[0]) gin[0] = ga;
  if (n.in_requires[1]) {
    auto gb = empty(a->shape, dt);
    map1(*ga, *gb, [](float v) { return -v; });
    gin[1] = gb;
  }
}
}  // namespace

float to_f32_any(const TensorImpl& t) {
  return t.dt == DType::f32 ? t.as<float>()[0] : to_f32(t.as<half>()[0]);
}

TensorPtr mse_loss(const TensorPtr& a, const TensorPtr& b, Reduction r) {
  return loss_forward(OpCode::mse_loss, "mse_loss", a, b, r, [](float d) { return d * d; });
}
void Op_mse_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  Reduction r = Reduction(n.i1);
  int64_t count = n.in_shape[0].numel();
  float norm = rnd(dt, r == Reduction::mean ? float(2.0 / double(count)) : 2.0f);
  loss_backward(n, g, gin, [dt, norm](float x, float y, float gv) {
    return rnd(dt, norm * rnd(dt, x - y)) * gv;
  });
}

TensorPtr l1_loss(const TensorPtr& a, const TensorPtr& b, Reduction r) {
  return loss_forward(OpCode::l1_loss, "l1_loss", a, b, r, [](float d) { return std::fabs(d); });
}
void Op_l1_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const DType dt = n.in_dt[0];
  Reduction r = Reduction(n.i1);
  float count = float(n.in_shape[0].numel());
  loss_backward(n, g, gin, [dt, r, count](float x, float y, float gv) {
    float ge = r == Reduction::mean ? rnd(dt, gv / count) : gv;
    float d = rnd(dt, x - y);
    return d > 0.0f ? ge : (d < 0.0f ? -ge : 0.0f * ge);
  });
}

}  // namespace tg
