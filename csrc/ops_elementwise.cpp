// Elementwise ops: binary with broadcasting, tensor-scalar, unary, and the dtype cast.
#include <cmath>

#include "autograd.h"
#include "kernels.h"

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
  int off = g->shape.n - target.n;
  for (int d = 0; d < g->shape.n; ++d)
    if (d < off || (target.d[d - off] == 1 && g->shape.d[d] != 1)) mask |= 1u << d;
  auto out = empty(target, g->dt);
  std::vector<float> acc(size_t(std::max<int64_t>(out->numel, 1)));
  sum_f32(*g, mask, acc.data());
  store_f32(acc.data(), *out);
  return out;
}

TensorPtr convert(const TensorImpl& a, DType dt) {
  auto out = empty(a.shape, dt);
  if (a.dt == dt) {
    if (a.numel) std::memcpy(out->data(), a.data(), size_t(a.numel) * itemsize(dt));
  } else if (dt == DType::f32) {
    const half* p = a.as<half>();
    float* q = out->as<float>();
    for (int64_t i = 0; i < a.numel; ++i)
      q[i] = to_f32(p[i]);
  } else {
    const float* p = a.as<float>();
    half* q = out->as<half>();
    for (int64_t i = 0; i < a.numel; ++i)
      q[i] = from_f32<half>(p[i]);
  }
  return out;
}

// ---------------------------------------------------------------- cast
TensorPtr cast(const TensorPtr& a, DType dt) {
  auto out = convert(*a, dt);
  record(OpCode::cast, out, {a.get()});
  return out;
}
void Op_cast::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g->dt == n.in_dt[0] ? g : convert(*g, n.in_dt[0]);
}

// ---------------------------------------------------------------- binary
namespace {
TensorPtr map2_new(const TensorPtr& a, const TensorPtr& b, float (*fn)(float, float)) {
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  map2(*a, *b, *out, fn);
  return out;
}
TensorPtr reduced(const TensorPtr& g, const Node& n, int i) {
  return sum_to(g, n.in_shape[i]);
}
}  // namespace

TensorPtr binary(Binary kind, const TensorPtr& a0, const TensorPtr& b0) {
  TensorPtr a = a0, b = b0;
  if (a->dt != b->dt) {  // float16 op float32 -> float32, the cast on the tape
    if (a->dt == DType::f16)
      a = cast(a, DType::f32);
    else
      b = cast(b, DType::f32);
  }
  TensorPtr out;
  OpCode op;
  switch (kind) {
    case Binary::add:
      out = map2_new(a, b, [](float x, float y) { return x + y; });
      op = OpCode::add;
      break;
    case Binary::sub:
      out = map2_new(a, b, [](float x, float y) { return x - y; });
      op = OpCode::sub;
      break;
    case Binary::mul:
      out = map2_new(a, b, [](float x, float y) { return x * y; });
      op = OpCode::mul;
      break;
    default:
      out = map2_new(a, b, [](float x, float y) { return x / y; });
      op = OpCode::div;
      break;
  }
  if (Node* n = record(op, out, {a.get(), b.get()})) {
    if (op == OpCode::mul) {
      if (b->requires_grad) n->save(0, *a);
      if (a->requires_grad) n->save(1, *b);
    } else if (op == OpCode::div) {
      if (b->requires_grad) n->save(0, *a);
      n->save(1, *b);
    }
  }
  return out;
}

void Op_add::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.in_requires[0]) gin[0] = reduced(g, n, 0);
  if (n.in_requires[1]) gin[1] = reduced(g, n, 1);
}

void Op_sub::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.in_requires[0]) gin[0] = reduced(g, n, 0);
  if (n.in_requires[1]) {
    auto ng = empty(g->shape, g->dt);
    map1(*g, *ng, [](float x) { return -x; });
    gin[1] = reduced(ng, n, 1);
  }
}

void Op_mul::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  auto prod = [](float x, float y) { return x * y; };
  if (n.in_requires[0]) gin[0] = reduced(map2_new(g, n.unpack(1), prod), n, 0);
  if (n.in_requires[1]) gin[1] = reduced(map2_new(g, n.unpack(0), prod), n, 1);
}

void Op_div::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr b = n.unpack(1);
  if (n.in_requires[0])
    gin[0] = reduced(map2_new(g, b, [](float x, float y) { return x / y; }), n, 0);
  if (n.in_requires[1]) {
    TensorPtr a = n.unpack(0);
    // PyTorch's formula -grad * ((a / b) / b), one rounding per tensor op.
    auto div = [](float x, float y) { return x / y; };
    auto q = map2_new(map2_new(a, b, div), b, div);
    auto r = map2_new(g, q, [](float gv, float qv) { return -gv * qv; });
    gin[1] = reduced(r, n, 1);
  }
}

// ---------------------------------------------------------------- tensor-scalar
namespace {
template <class Fn>
TensorPtr scalar_op(OpCode op, const TensorPtr& a, double s, Fn fn, int save_mode) {
  auto out = empty(a->shape, a->dt);
  map1(*a, *out, fn);
  if (Node* n = record(op, out, {a.get()})) {
    n->s = s;
    if (save_mode == 1) n->save(0, *a);
    if (save_mode == 2) n->save(0, *out);
  }
  return out;
}
TensorPtr scaled(const TensorPtr& g, float k) {
  auto out = empty(g->shape, g->dt);
  map1(*g, *out, [k](float x) { return x * k; });
  return out;
}
}  // namespace

TensorPtr add_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  return scalar_op(OpCode::add_scalar, a, s, [c](float x) { return x + c; }, 0);
}
void Op_add_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g;
}

TensorPtr mul_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  return scalar_op(OpCode::mul_scalar, a, s, [c](float x) { return x * c; }, 0);
}
void Op_mul_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scaled(g, float(n.s));
}

TensorPtr div_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  return scalar_op(OpCode::div_scalar, a, s, [c](float x) { return x / c; }, 0);
}
void Op_div_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  float c = float(n.s);
  auto out = empty(g->shape, g->dt);
  map1(*g, *out, [c](float x) { return x / c; });
  gin[0] = out;
}

TensorPtr rsub_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  return scalar_op(OpCode::rsub_scalar, a, s, [c](float x) { return c - x; }, 0);
}
void Op_rsub_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scaled(g, -1.0f);
}

TensorPtr rdiv_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  // PyTorch computes s / x as reciprocal(x) * s: two roundings in float16.
  if (a->dt == DType::f16)
    return scalar_op(
        OpCode::rdiv_scalar, a, s,
        [c](float x) { return half_to_float(float_to_half(1.0f / x)) * c; }, 1);
  return scalar_op(OpCode::rdiv_scalar, a, s, [c](float x) { return (1.0f / x) * c; }, 1);
}
void Op_rdiv_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  float c = float(n.s);
  TensorPtr a = n.unpack(0);
  auto out = empty(g->shape, g->dt);
  map2(*g, *a, *out, [c](float gv, float x) { return -gv * c / (x * x); });
  gin[0] = out;
}

namespace {
float pow_f(float x, float e) {
  if (e == 2.0f) return x * x;
  if (e == 1.0f) return x;
  if (e == 0.0f) return 1.0f;
  if (e == 0.5f) return std::sqrt(x);
  if (e == -1.0f) return 1.0f / x;
  if (e == 3.0f) return x * x * x;
  return std::pow(x, e);
}
}  // namespace

TensorPtr pow_scalar(const TensorPtr& a, double s) {
  float e = float(s);
  return scalar_op(OpCode::pow_scalar, a, s, [e](float x) { return pow_f(x, e); }, 1);
}
void Op_pow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  float e = float(n.s);
  TensorPtr a = n.unpack(0);
  auto out = empty(g->shape, g->dt);
  if (e == 0.0f)
    map2(*g, *a, *out, [](float, float) { return 0.0f; });
  else
    map2(*g, *a, *out, [e](float gv, float x) { return gv * e * pow_f(x, e - 1.0f); });
  gin[0] = out;
}

TensorPtr rpow_scalar(const TensorPtr& a, double s) {
  float c = float(s);
  return scalar_op(OpCode::rpow_scalar, a, s, [c](float x) { return std::pow(c, x); }, 2);
}
void Op_rpow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  float lc = std::log(float(n.s));
  TensorPtr y = n.unpack(0);
  auto out = empty(g->shape, g->dt);
  map2(*g, *y, *out, [lc](float gv, float yv) { return gv * yv * lc; });
  gin[0] = out;
}

// ---------------------------------------------------------------- unary
TensorPtr unary(OpCode op, const TensorPtr& a) {
  auto out = empty(a->shape, a->dt);
  int save = 0;  // 1: input, 2: output
  switch (op) {
    case OpCode::neg:
      map1(*a, *out, [](float x) { return -x; });
      break;
    case OpCode::abs:
      map1(*a, *out, [](float x) { return std::fabs(x); });
      save = 1;
      break;
    case OpCode::exp:
      map1(*a, *out, [](float x) { return std::exp(x); });
      save = 2;
      break;
    case OpCode::log:
      map1(*a, *out, [](float x) { return std::log(x); });
      save = 1;
      break;
    case OpCode::tanh:
      map1(*a, *out, [](float x) { return std::tanh(x); });
      save = 2;
      break;
    case OpCode::relu:
      map1(*a, *out, [](float x) { return x > 0.0f ? x : (x != x ? x : 0.0f); });
      save = 2;
      break;
    case OpCode::sigmoid:
      map1(*a, *out, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
      save = 2;
      break;
    default:
      throw std::logic_error("unary: not a unary op");
  }
  if (Node* n = record(op, out, {a.get()})) {
    if (save == 1) n->save(0, *a);
    if (save == 2) n->save(0, *out);
  }
  return out;
}

namespace {
template <class Fn>
TensorPtr grad_with_saved(const Node& n, const TensorPtr& g, Fn fn) {
  TensorPtr s = n.unpack(0);
  auto out = empty(g->shape, g->dt);
  map2(*g, *s, *out, fn);
  return out;
}
}  // namespace

void Op_neg::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scaled(g, -1.0f);
}
void Op_abs::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float x) {
    return x > 0.0f ? gv : (x < 0.0f ? -gv : 0.0f * gv);  // sign(0) = sign(nan) = 0
  });
}
void Op_exp::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float y) { return gv * y; });
}
void Op_log::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float x) { return gv / x; });
}
void Op_tanh::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float y) { return gv * (1.0f - y * y); });
}
void Op_relu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float y) { return y <= 0.0f ? 0.0f : gv; });
}
void Op_sigmoid::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = grad_with_saved(n, g, [](float gv, float y) { return gv * ((1.0f - y) * y); });
}

}  // namespace tg
