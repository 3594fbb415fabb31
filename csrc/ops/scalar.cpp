// Tensor-scalar ops: a Python number on either side of + - * / and **.
#include <cmath>

#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

TensorPtr scalar_new(const TensorPtr& a0, Binary k, double s0, bool reversed) {
  if (!is_fast(a0->dt)) {
    TensorPtr c = scalar_tensor(Scalar::of(s0), a0->dt);
    return reversed ? typed_binary(k, c, a0) : typed_binary(k, a0, c);
  }
  const float s = float(s0);
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), k, s, reversed] {
    vec::scalar(to_vec(k), a->dt, a->data(), s, reversed, out->data(), a->numel);
  });
  return out;
}

namespace {
void record_scalar(OpCode op, const TensorPtr& a, const TensorPtr& out, const Scalar& s) {
  if (Node* n = record(op, out, {a.get()})) n->s = s.as_double();
}

// The float32/float16 ops below run on `a` when its dtype is one of those. Otherwise `a` is cast
// to the result dtype of `a (k) s` (PyTorch's promotion): if that is a fast dtype the caller goes
// on with it, else the result is computed here.
TensorPtr other_dtypes(TensorPtr& a, Binary k, const Scalar& s, bool reversed) {
  if (is_fast(a->dt)) return nullptr;
  const DType rt = binary_result(k, a->dt, s.dt, result_type({operand(*a), operand(s)}));
  a = to_dtype(a, rt);
  if (is_fast(rt)) return nullptr;
  TensorPtr c = scalar_tensor(s, rt);
  return reversed ? typed_binary(k, c, a) : typed_binary(k, a, c);
}

TensorPtr simple(OpCode op, Binary k, const TensorPtr& a0, const Scalar& s, bool reversed) {
  TensorPtr a = a0;
  TensorPtr out = other_dtypes(a, k, s, reversed);
  if (!out) {
    double v = s.as_double();
    // PyTorch casts the scalar of an add or sub to float16 first; mul and div read it whole.
    if (a->dt == DType::f16 && (k == Binary::add || k == Binary::sub))
      v = double(half_to_float(float_to_half(float(v))));
    out = scalar_new(a, k, v, reversed);
  }
  record_scalar(op, a, out, s);
  return out;
}
}  // namespace

TensorPtr op::add_scalar(const TensorPtr& a, const Scalar& s) {
  return simple(OpCode::add_scalar, Binary::add, a, s, false);
}
void Op_add_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g;
}

TensorPtr op::mul_scalar(const TensorPtr& a, const Scalar& s) {
  return simple(OpCode::mul_scalar, Binary::mul, a, s, false);
}
void Op_mul_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::mul, n.s, false);
}

TensorPtr op::div_scalar(const TensorPtr& a, const Scalar& s) {
  return simple(OpCode::div_scalar, Binary::div, a, s, false);
}
void Op_div_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scalar_new(g, Binary::div, n.s, false);
}

TensorPtr op::rsub_scalar(const TensorPtr& a, const Scalar& s) {
  binary_result(Binary::sub, s.dt, a->dt, a->dt);  // PyTorch's errors for a bool operand
  return simple(OpCode::rsub_scalar, Binary::sub, a, s, true);
}
void Op_rsub_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = unary_raw(OpCode::neg, g);
}

TensorPtr op::rdiv_scalar(const TensorPtr& a0, const Scalar& s) {
  // PyTorch computes s / x as reciprocal(x) * s: two roundings in float16. Integers become
  // floats first (the reciprocal's dtype).
  TensorPtr a = is_floating(a0->dt) ? a0 : to_dtype(a0, default_float());
  const double c = s.as_double();
  TensorPtr out =
      a->dt == DType::f16
          ? map1_new(a, [c](auto x) { return half_to_float(float_to_half(1.0f / x)) * float(c); })
          : map1_new(a, [c](auto x) {
              using T = decltype(x);
              return (T(1) / x) * T(c);
            });
  record_scalar(OpCode::rdiv_scalar, a, out, s);
  return out;
}
// The dtype's rounding of an intermediate result: PyTorch's backward formulas are chains of
// tensor ops, each rounded to the tensor's dtype (float16 computes in float32 between them).
namespace {
float r16(float v) {
  return half_to_float(float_to_half(v));
}
}  // namespace

// PyTorch's s / x is reciprocal(x) * s: the gradient runs back through the product (g * s) and
// the reciprocal (-g' * (r * r), r the rounded reciprocal).
void Op_rdiv_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double c = n.s;
  if (g->dt == DType::f16) {
    const float cf = float(c);
    gin[0] = map2_new(g, n.unpack(0), [cf](float gv, float x) {
      const float r = r16(1.0f / x);
      return -r16(gv * cf) * r16(r * r);
    });
    return;
  }
  gin[0] = map2_new(g, n.unpack(0), [c](auto gv, auto x) {
    using T = decltype(x);
    const T r = T(1) / x;
    return -(gv * T(c)) * (r * r);
  });
}

namespace {
// The exponents PyTorch's float32 pow kernel takes apart (0 and 1 are handled before any kernel,
// for every dtype); float16 sends the others through its generic pow.
float pow_special(float x, double e) {
  if (e == 0.0) return 1.0f;
  if (e == 1.0) return x;
  if (e == 2.0) return x * x;
  if (e == 3.0) return x * x * x;
  if (e == 0.5) return std::sqrt(x);
  if (e == -0.5) return 1.0f / std::sqrt(x);  // so -0.0 and -inf behave as there
  if (e == -1.0) return 1.0f / x;
  return 1.0f / (x * x);  // -2
}
// x ** e (or e ** x) through PyTorch's generic pow kernel; vector_loop false: its scalar code
// only.
TensorPtr pow_dense(const TensorPtr& a0, double e, bool reversed, bool vector_loop) {
  if (a0->dt == DType::f64) return typed_pow(a0, Scalar::of(e), reversed, vector_loop);
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), e, reversed, vector_loop] {
    vec::pow(a->dt, a->data(), e, reversed, out->data(), a->numel, vector_loop);
  });
  return out;
}

bool is_special(DType dt, double e) {
  if (e == 0.0 || e == 1.0) return true;
  return dt == DType::f32 &&
         (e == 2.0 || e == 3.0 || e == 0.5 || e == -0.5 || e == -1.0 || e == -2.0);
}

// x ** e (or e ** x when reversed) for a floating tensor, unrecorded. PyTorch walks a permuted
// x ** e in memory order; e ** x is a binary op with a contiguous output, whose loop runs its
// scalar code on every element of a strided x.
TensorPtr pow_raw(const TensorPtr& a0, double e, bool reversed) {
  if (reversed && !a0->is_contiguous()) return pow_dense(a0, e, true, false);
  return in_memory_order(a0, [e, reversed](const TensorPtr& a) {
    if (a->dt != DType::f64 && !reversed && is_special(a->dt, e))
      return map1_new(a, [e](float x) { return pow_special(x, e); });
    return pow_dense(a, e, reversed, true);
  });
}

// x ** s or s ** x for the integer dtypes, and the dtype it is computed in otherwise.
TensorPtr pow_other_dtypes(TensorPtr& a, const Scalar& s, bool reversed) {
  if (is_fast(a->dt)) return nullptr;
  DType rt = result_type({operand(*a), operand(s)});
  if (rt == DType::b8) rt = DType::i64;
  if (!is_floating(rt) && !reversed && s.dt != DType::f64 && s.i < 0)
    throw std::runtime_error("Integers to negative integer powers are not allowed.");
  a = to_dtype(a, rt);
  return is_floating(rt) ? nullptr : typed_pow(a, s, reversed);
}
}  // namespace

TensorPtr op::pow_scalar(const TensorPtr& a0, const Scalar& s) {
  TensorPtr a = a0;
  TensorPtr out = pow_other_dtypes(a, s, false);
  if (!out) out = pow_raw(a, s.as_double(), false);
  record_scalar(OpCode::pow_scalar, a, out, s);
  return out;
}
// PyTorch's: zeros for the exponent 0, else grad * (e * x.pow(e - 1)), each op rounded to the
// dtype (e - 1 taken in double, as the forward's exponent).
void Op_pow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double e = n.s;
  if (e == 0.0) {
    gin[0] = zeros(n.in_shape[0], g->dt);
  } else {
    TensorPtr p = pow_raw(n.unpack(0), e - 1.0, false);
    gin[0] = binary_new(Binary::mul, g, scalar_new(p, Binary::mul, e, false));
  }
}

TensorPtr op::rpow_scalar(const TensorPtr& a0, const Scalar& s) {
  TensorPtr a = a0;
  TensorPtr out = pow_other_dtypes(a, s, true);
  if (!out) out = pow_raw(a, s.as_double(), true);
  record_scalar(OpCode::rpow_scalar, a, out, s);
  return out;
}
// PyTorch's: grad * (y * log(s)), log taken in double; with s == 0, zero where the exponent is
// >= 0 (there y is 0 or 1, elsewhere inf or NaN).
void Op_rpow_scalar::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double lc = std::log(n.s);
  const bool zero_base = n.s == 0.0;
  if (g->dt == DType::f16) {
    const float l = float(lc);
    gin[0] = map2_new(g, n.unpack(0), [l, zero_base](float gv, float y) {
      return gv * (zero_base && y <= 1.0f ? 0.0f : r16(y * l));
    });
    return;
  }
  gin[0] = map2_new(g, n.unpack(0), [lc, zero_base](auto gv, auto y) {
    using T = decltype(y);
    return gv * (zero_base && y <= T(1) ? T(0) : y * T(lc));
  });
}

}  // namespace tg
