// The unary ops: one generic forward through the vector kernels (kernels/vec.h), and each op's
// backward. An op's row in the op list says what the forward saves.
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/cpu.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

namespace {
vec::Un to_un(OpCode op) {
  switch (op) {
#define TG_UN_CASE(name) \
  case OpCode::name:     \
    return vec::Un::name;
    TG_UNARY_OPS(TG_UN_CASE)
#undef TG_UN_CASE
    default:
      throw std::logic_error(std::string("unary: ") + op_name(op) + " is not of kind unary");
  }
}
}  // namespace

TensorPtr unary_raw(OpCode op, const TensorPtr& a0) {
  if (!is_fast(a0->dt)) return typed_unary(op, a0);
  vec::Un u = to_un(op);
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [u, a = a.get(), out = out.get()] {
    vec::unary(u, a->dt, a->data(), out->data(), a->numel);
  });
  return out;
}

namespace {
// The input of a unary op on an integer or bool tensor: itself for the ops that keep integers,
// else converted to the default float dtype (PyTorch's rules; bool is refused where it is).
TensorPtr integer_input(OpCode op, const TensorPtr& a) {
  const bool b = a->dt == DType::b8;
  switch (op) {
    case OpCode::neg:
      if (b)
        throw std::runtime_error(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead.");
      return a;
    case OpCode::abs:
      if (b) throw NotImplemented("\"abs_cpu\" not implemented for 'Bool'");
      return a;
    case OpCode::relu:
      if (b) throw std::runtime_error("Boolean inputs not supported for relu");
      return a;
    case OpCode::sign:
      return a;
    case OpCode::floor:
    case OpCode::ceil:
    case OpCode::round:
    case OpCode::trunc:
      if (b)
        throw NotImplemented(std::string("\"") + op_name(op) +
                             "_vml_cpu\" not implemented for 'Bool'");
      return a;
    default:
      return convert(*a, default_float());
  }
}
}  // namespace

namespace {
// float16 rsqrt as PyTorch's loop computes it: its vector code rounds 1 / sqrt(x) once (whole
// pairs of 32 elements on the AVX2 path), its scalar code rounds sqrt(x) to float16 first.
TensorPtr rsqrt_f16(const TensorPtr& a0) {
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get()] {
    const int64_t n = a->numel, m = cpu::simd() ? n / 32 * 32 : 0;
    const uint16_t* p = static_cast<const uint16_t*>(a->data());
    uint16_t* q = static_cast<uint16_t*>(out->data());
    for (int64_t i = 0; i < n; ++i) {
      const float s = std::sqrt(half_to_float(p[i]));
      q[i] = float_to_half(1.0f / (i < m ? s : half_to_float(float_to_half(s))));
    }
  });
  return out;
}

bool rounds_to_integer(OpCode op) {
  return op == OpCode::floor || op == OpCode::ceil || op == OpCode::round || op == OpCode::trunc;
}
}  // namespace

TensorPtr unary(OpCode op, const TensorPtr& a) {
  if (!is_floating(a->dt)) {  // never recorded
    TensorPtr in = integer_input(op, a);
    // PyTorch copies an integer input of floor, ceil, round and trunc, and a bool one of sign.
    if (rounds_to_integer(op) || (op == OpCode::sign && in->dt == DType::b8))
      return convert(*in, in->dt);
    return unary_raw(op, in);
  }
  TensorPtr out;
  if (op == OpCode::sigmoid)
    out = in_memory_order(a, [](const TensorPtr& t) { return unary_raw(OpCode::sigmoid, t); });
  else if (op == OpCode::rsqrt && a->dt == DType::f16)
    out = in_memory_order(a, rsqrt_f16);
  else
    out = unary_raw(op, a);
  record(op, out, {a.get()});
  return out;
}

void Op_neg::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = unary_raw(OpCode::neg, g);
}
void Op_abs::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0), [](auto gv, auto x) {
    using T = decltype(x);
    return x > T(0) ? gv : (x < T(0) ? -gv : T(0) * gv);  // sign(0) = sign(nan) = 0
  });
}
void Op_exp::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, n.unpack(0));
}
void Op_log::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::div, g, n.unpack(0));
}
// PyTorch's g * (1 - y * y). Its AVX2 build contracts 1 - y * y into one fused multiply-add (its
// portable build does not); float16's y * y is exact in float32 either way.
void Op_tanh::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (cpu::simd() && g->dt != DType::f16) {
    gin[0] = map2_new(g, n.unpack(0),
                      [](auto gv, auto y) { return gv * std::fma(-y, y, decltype(y)(1)); });
    return;
  }
  gin[0] = map2_new(g, n.unpack(0), [](auto gv, auto y) { return gv * (decltype(y)(1) - y * y); });
}
void Op_relu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = map2_new(g, n.unpack(0),
                    [](auto gv, auto y) { return y <= decltype(y)(0) ? decltype(y)(0) : gv; });
}
// PyTorch's (g * (1 - y)) * y; float16 rounds after each operation.
void Op_sigmoid::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (g->dt == DType::f16) {
    auto r = [](float v) { return half_to_float(float_to_half(v)); };
    gin[0] =
        map2_new(g, n.unpack(0), [r](float gv, float y) { return r(r(gv * r(1.0f - y)) * y); });
    return;
  }
  gin[0] =
      map2_new(g, n.unpack(0), [](auto gv, auto y) { return (gv * (decltype(y)(1) - y)) * y; });
}

// As PyTorch: the derivative rounded to the dtype first, then the product.
void Op_sin::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, unary_raw(OpCode::cos, n.unpack(0)));
}
void Op_cos::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, unary_raw(OpCode::neg, unary_raw(OpCode::sin, n.unpack(0))));
}

}  // namespace tg

namespace tg {

// PyTorch's backward formulas, each tensor op rounded to the dtype (float16 computes in float32
// between them): sqrt's grad / (2 * y); rsqrt's (-0.5 * grad) * y.pow(3); tan's
// grad * (1 + y.pow(2)); expm1's grad * (y + 1); log2's and log10's grad / (x * ln(base));
// log1p's grad / (x + 1); reciprocal's -grad * (y * y).
void Op_sqrt::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::div, g, scalar_new(n.unpack(0), Binary::mul, 2.0, false));
}
void Op_rsqrt::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr cube = op::pow_scalar(n.unpack(0), Scalar::of_int(3));
  gin[0] = binary_new(Binary::mul, scalar_new(g, Binary::mul, -0.5, false), cube);
}
void Op_tan::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr sq = op::pow_scalar(n.unpack(0), Scalar::of_int(2));
  gin[0] = binary_new(Binary::mul, g, scalar_new(sq, Binary::add, 1.0, true));
}
void Op_expm1::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, scalar_new(n.unpack(0), Binary::add, 1.0, false));
}
void Op_log2::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] =
      binary_new(Binary::div, g, scalar_new(n.unpack(0), Binary::mul, 0.6931471805599453, false));
}
void Op_log10::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] =
      binary_new(Binary::div, g, scalar_new(n.unpack(0), Binary::mul, 2.3025850929940456, false));
}
void Op_log1p::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::div, g, scalar_new(n.unpack(0), Binary::add, 1.0, false));
}
void Op_reciprocal::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const TensorPtr y = n.unpack(0);
  gin[0] = binary_new(Binary::mul, unary_raw(OpCode::neg, g), binary_new(Binary::mul, y, y));
}

// Steps have a zero gradient everywhere (PyTorch's zeros_like(grad)).
void Op_floor::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}
void Op_ceil::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}
void Op_round::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}
void Op_trunc::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}
void Op_sign::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}

}  // namespace tg
