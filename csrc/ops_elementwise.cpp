// Elementwise ops: binary with broadcasting, tensor-scalar, unary, and the dtype cast.
#include <cmath>

#include "autograd.h"
#include "kernels.h"
#include "vec.h"

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
  launch({g.get(), out.get()}, [g = g.get(), out = out.get(), mask] {
    Scratch acc(std::max<int64_t>(out->numel, 1));
    sum_f32(*g, mask, acc.data());
    store_f32(acc.data(), *out);
  });
  return out;
}

TensorPtr convert(const TensorImpl& a, DType dt) {
  auto out = empty(a.shape, dt);
  launch({&a, out.get()}, [a = &a, out = out.get()] { convert_into(*a, *out); });
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
vec::Bin to_vec(Binary k) {
  return vec::Bin(int(k));
}
float apply(Binary k, float x, float y) {
  switch (k) {
    case Binary::add:
      return x + y;
    case Binary::sub:
      return x - y;
    case Binary::mul:
      return x * y;
    default:
      return x / y;
  }
}

// out = a (k) b with broadcasting, through the vector kernels where the layout allows:
// same shapes, a scalar on either side, or b repeating along a's leading dims (a bias row).
void binary_into(Binary k, const TensorImpl& a, const TensorImpl& b, TensorImpl& out) {
  const DType dt = out.dt;
  const int64_t n = out.numel;
  if (a.shape == out.shape && b.shape == out.shape)
    return vec::binary(to_vec(k), dt, a.data(), 1, b.data(), 1, out.data(), n);
  if (a.shape == out.shape && b.numel == 1)
    return vec::binary(to_vec(k), dt, a.data(), 1, b.data(), 0, out.data(), n);
  if (b.shape == out.shape && a.numel == 1)
    return vec::binary(to_vec(k), dt, a.data(), 0, b.data(), 1, out.data(), n);
  if (a.shape == out.shape && b.numel > 0 && n % b.numel == 0) {
    // b equal to a's trailing dims (leading 1s allowed): one vector call per row.
    bool tail = true;
    int off = out.shape.n - b.shape.n;
    for (int d = 0; d < b.shape.n && tail; ++d)
      if (b.shape.d[d] != out.shape.d[d + off] && !(b.shape.d[d] == 1 && d + off < 0)) tail = false;
    int64_t inner = 1;
    for (int d = 0; d < b.shape.n; ++d)
      inner *= b.shape.d[d];
    int64_t tail_elems = 1;
    for (int d = off; d < out.shape.n; ++d)
      tail_elems *= d >= 0 ? out.shape.d[d] : 1;
    if (tail && inner == tail_elems) {
      const size_t isz = itemsize(dt);
      const char* pa = static_cast<const char*>(a.data());
      char* po = static_cast<char*>(out.data());
      for (int64_t r = 0; r < n / inner; ++r)
        vec::binary(to_vec(k), dt, pa + size_t(r * inner) * isz, 1, b.data(), 1,
                    po + size_t(r * inner) * isz, inner);
      return;
    }
  }
  map2(a, b, out, [k](float x, float y) { return apply(k, x, y); });
}

TensorPtr binary_new(Binary k, const TensorPtr& a, const TensorPtr& b) {
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  launch({a.get(), b.get(), out.get()},
         [k, a = a.get(), b = b.get(), out = out.get()] { binary_into(k, *a, *b, *out); });
  return out;
}

template <class Fn>
TensorPtr map2_new(const TensorPtr& a, const TensorPtr& b, Fn fn) {
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  launch({a.get(), b.get(), out.get()},
         [fn, a = a.get(), b = b.get(), out = out.get()] { map2(*a, *b, *out, fn); });
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
  TensorPtr out = binary_new(kind, a, b);
  OpCode op = OpCode(int(OpCode::add) + int(kind));
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
  if (n.in_requires[1]) gin[1] = reduced(unary_raw(OpCode::neg, g), n, 1);
}

void Op_mul::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.in_requires[0]) gin[0] = reduced(binary_new(Binary::mul, g, n.unpack(1)), n, 0);
  if (n.in_requires[1]) gin[1] = reduced(binary_new(Binary::mul, g, n.unpack(0)), n, 1);
}

void Op_div::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr b = n.unpack(1);
  if (n.in_requires[0]) gin[0] = reduced(binary_new(Binary::div, g, b), n, 0);
  if (n.in_requires[1]) {
    TensorPtr a = n.unpack(0);
    // -g * a / b^2, in float32 and rounded once.
    auto q = map2_new(a, b, [](float x, float y) { return x / y / y; });
    gin[1] = reduced(map2_new(g, q, [](float gv, float qv) { return -gv * qv; }), n, 1);
  }
}

// ---------------------------------------------------------------- tensor-scalar
namespace {
// out = x (k) s, or s (k) x when reversed, through the vector kernels.
TensorPtr scalar_new(const TensorPtr& a, Binary k, float s, bool reversed) {
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), k, s, reversed] {
    vec::scalar(to_vec(k), a->dt, a->data(), s, reversed, out->data(), a->numel);
  });
  return out;
}

template <class Fn>
TensorPtr map1_new(const TensorPtr& a, Fn fn) {
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [fn, a = a.get(), out = out.get()] { map1(*a, *out, fn); });
  return out;
}

Node* record_scalar(OpCode op, const TensorPtr& a, const TensorPtr& out, double s, int save) {
  Node* n = record(op, out, {a.get()});
  if (n) {
    n->s = s;
    if (save == 1) n->save(0, *a);
    if (save == 2) n->save(0, *out);
  }
  return n;
}
}  // namespace

TensorPtr add_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::add, float(s), false);
  record_scalar(OpCode::add_scalar, a, out, s, 0);
  return out;
}
void Op_add_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g;
}

TensorPtr mul_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::mul, float(s), false);
  record_scalar(OpCode::mul_scalar, a, out, s, 0);
  return out;
}
void Op_mul_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::mul, float(n.s), false);
}

TensorPtr div_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::div, float(s), false);
  record_scalar(OpCode::div_scalar, a, out, s, 0);
  return out;
}
void Op_div_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::div, float(n.s), false);
}

TensorPtr rsub_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::sub, float(s), true);
  record_scalar(OpCode::rsub_scalar, a, out, s, 0);
  return out;
}
void Op_rsub_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = unary_raw(OpCode::neg, g);
}

TensorPtr rdiv_scalar(const TensorPtr& a, double s) {
  // PyTorch computes s / x as reciprocal(x) * s: two roundings in float16.
  const float c = float(s);
  TensorPtr out =
      a->dt == DType::f16
          ? map1_new(a, [c](float x) { return half_to_float(float_to_half(1.0f / x)) * c; })
          : map1_new(a, [c](float x) { return (1.0f / x) * c; });
  record_scalar(OpCode::rdiv_scalar, a, out, s, 1);
  return out;
}
void Op_rdiv_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const float c = float(n.s);
  gin[0] = map2_new(g, n.unpack(0), [c](float gv, float x) { return -gv * c / (x * x); });
}

namespace {
float pow_f(float x, float e) {
  if (e == 2.0f) return x * x;
  if (e == 1.0f) return x;
  if (e == 0.0f) return 1.0f;
  if (e == 0.5f) return std::sqrt(x);
  if (e == -1.0f) return 1.0f / x;
  if (e == 3.0f) return x * x * x;
  // PyTorch's float32 kernel: rsqrt and reciprocal-square (so -0.0 and -inf behave as there).
  if (e == -0.5f) return 1.0f / std::sqrt(x);
  if (e == -2.0f) return 1.0f / (x * x);
  return std::pow(x, e);
}
}  // namespace

TensorPtr pow_scalar(const TensorPtr& a, double s) {
  const float e = float(s);
  auto out = map1_new(a, [e](float x) { return pow_f(x, e); });
  record_scalar(OpCode::pow_scalar, a, out, s, 1);
  return out;
}
void Op_pow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const float e = float(n.s);
  if (e == 0.0f)
    gin[0] = map2_new(g, n.unpack(0), [](float gv, float) { return 0.0f * gv; });
  else
    gin[0] = map2_new(g, n.unpack(0), [e](float gv, float x) { return gv * e * pow_f(x, e - 1); });
}

TensorPtr rpow_scalar(const TensorPtr& a, double s) {
  const float c = float(s);
  auto out = map1_new(a, [c](float x) { return std::pow(c, x); });
  record_scalar(OpCode::rpow_scalar, a, out, s, 2);
  return out;
}
void Op_rpow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const float lc = std::log(float(n.s));
  gin[0] = map2_new(g, n.unpack(0), [lc](float gv, float y) { return gv * y * lc; });
}

// ---------------------------------------------------------------- unary
namespace {
vec::Un to_vec(OpCode op) {
  switch (op) {
    case OpCode::neg:
      return vec::Un::neg;
    case OpCode::abs:
      return vec::Un::abs;
    case OpCode::exp:
      return vec::Un::exp;
    case OpCode::log:
      return vec::Un::log;
    case OpCode::tanh:
      return vec::Un::tanh;
    case OpCode::relu:
      return vec::Un::relu;
    case OpCode::sigmoid:
      return vec::Un::sigmoid;
    default:
      throw std::logic_error("unary: not a unary op");
  }
}
}  // namespace

TensorPtr unary_raw(OpCode op, const TensorPtr& a) {
  vec::Un u = to_vec(op);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [u, a = a.get(), out = out.get()] {
    vec::unary(u, a->dt, a->data(), out->data(), a->numel);
  });
  return out;
}

TensorPtr unary(OpCode op, const TensorPtr& a) {
  auto out = unary_raw(op, a);
  if (Node* n = record(op, out, {a.get()})) {
    if (op == OpCode::abs || op == OpCode::log) n->save(0, *a);
    if (op == OpCode::exp || op == OpCode::tanh || op == OpCode::relu || op == OpCode::sigmoid)
      n->save(0, *out);
  }
  return out;
}

void Op_neg::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = unary_raw(OpCode::neg, g);
}
void Op_abs::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0), [](float gv, float x) {
    return x > 0.0f ? gv : (x < 0.0f ? -gv : 0.0f * gv);  // sign(0) = sign(nan) = 0
  });
}
void Op_exp::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, n.unpack(0));
}
void Op_log::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::div, g, n.unpack(0));
}
void Op_tanh::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0), [](float gv, float y) { return gv * (1.0f - y * y); });
}
void Op_relu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0), [](float gv, float y) { return y <= 0.0f ? 0.0f : gv; });
}
void Op_sigmoid::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0), [](float gv, float y) { return gv * ((1.0f - y) * y); });
}

}  // namespace tg
