// Tensor-scalar ops: a Python number on either side of + - * / and **.
#include <cmath>

#include "ops/elementwise.h"

namespace tg {

TensorPtr scalar_new(const TensorPtr& a0, Binary k, float s, bool reversed) {
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), k, s, reversed] {
    vec::scalar(to_vec(k), a->dt, a->data(), s, reversed, out->data(), a->numel);
  });
  return out;
}

namespace {
void record_scalar(OpCode op, const TensorPtr& a, const TensorPtr& out, double s) {
  if (Node* n = record(op, out, {a.get()})) n->s = s;
}
}  // namespace

TensorPtr op::add_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::add, float(s), false);
  record_scalar(OpCode::add_scalar, a, out, s);
  return out;
}
void Op_add_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g;
}

TensorPtr op::mul_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::mul, float(s), false);
  record_scalar(OpCode::mul_scalar, a, out, s);
  return out;
}
void Op_mul_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::mul, float(n.s), false);
}

TensorPtr op::div_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::div, float(s), false);
  record_scalar(OpCode::div_scalar, a, out, s);
  return out;
}
void Op_div_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::div, float(n.s), false);
}

TensorPtr op::rsub_scalar(const TensorPtr& a, double s) {
  auto out = scalar_new(a, Binary::sub, float(s), true);
  record_scalar(OpCode::rsub_scalar, a, out, s);
  return out;
}
void Op_rsub_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = unary_raw(OpCode::neg, g);
}

TensorPtr op::rdiv_scalar(const TensorPtr& a, double s) {
  // PyTorch computes s / x as reciprocal(x) * s: two roundings in float16.
  const float c = float(s);
  TensorPtr out =
      a->dt == DType::f16
          ? map1_new(a, [c](float x) { return half_to_float(float_to_half(1.0f / x)) * c; })
          : map1_new(a, [c](float x) { return (1.0f / x) * c; });
  record_scalar(OpCode::rdiv_scalar, a, out, s);
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

TensorPtr op::pow_scalar(const TensorPtr& a, double s) {
  const float e = float(s);
  auto out = map1_new(a, [e](float x) { return pow_f(x, e); });
  record_scalar(OpCode::pow_scalar, a, out, s);
  return out;
}
void Op_pow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const float e = float(n.s);
  if (e == 0.0f)
    gin[0] = map2_new(g, n.unpack(0), [](float gv, float) { return 0.0f * gv; });
  else
    gin[0] = map2_new(g, n.unpack(0), [e](float gv, float x) { return gv * e * pow_f(x, e - 1); });
}

TensorPtr op::rpow_scalar(const TensorPtr& a, double s) {
  const float c = float(s);
  auto out = map1_new(a, [c](float x) { return std::pow(c, x); });
  record_scalar(OpCode::rpow_scalar, a, out, s);
  return out;
}
void Op_rpow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const float lc = std::log(float(n.s));
  gin[0] = map2_new(g, n.unpack(0), [lc](float gv, float y) { return gv * y * lc; });
}

}  // namespace tg
