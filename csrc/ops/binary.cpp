// Elementwise binary ops with broadcasting (add, sub, mul, div), with PyTorch's type promotion.
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "kernels/vec.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

// ---------------------------------------------------------------- binary
namespace {
OpCode op_of(Binary k) {
  switch (k) {
    case Binary::add:
      return OpCode::add;
    case Binary::sub:
      return OpCode::sub;
    case Binary::mul:
      return OpCode::mul;
    case Binary::div:
      return OpCode::div;
  }
  return OpCode::count;
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

}  // namespace

TensorPtr binary_new(Binary k, const TensorPtr& a0, const TensorPtr& b0) {
  if (!is_fast(a0->dt)) return typed_binary(k, a0, b0);
  TensorPtr ka, kb;
  const TensorPtr &a = dense_ref(a0, ka), &b = dense_ref(b0, kb);
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  launch({a.get(), b.get(), out.get()},
         [k, a = a.get(), b = b.get(), out = out.get()] { binary_into(k, *a, *b, *out); });
  return out;
}

namespace {
TensorPtr reduced(const TensorPtr& g, const Node& n, int i) {
  return sum_to(g, n.in_shape[i]);
}
}  // namespace

DType binary_result(Binary kind, DType a, DType b, DType promoted) {
  if (kind == Binary::sub && a == DType::b8 && b == DType::b8)
    throw std::runtime_error(
        "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
        "`logical_xor()` operator instead.");
  if (kind == Binary::sub && (a == DType::b8 || b == DType::b8))
    throw std::runtime_error(
        "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
        "invert a mask, use the `~` or `logical_not()` operator instead.");
  if (kind == Binary::div && !is_floating(promoted)) return default_float();  // true division
  return promoted;
}

namespace {
// A one-element tensor's value as float, converted from its own dtype.
float whole_value(const TensorImpl& b) {
  return visit(b.dt, [&](auto tag) { return cvt<float>(*b.as<decltype(tag)>()); });
}

// float16 a (k) b for a one-element b, with b's value read whole: PyTorch's mul and div kernels
// for float16 take a scalar divisor or factor at its original precision, in float, instead of
// b's float16 cast. b is read at every launch (a replay sees its new value).
TensorPtr with_whole(Binary k, const TensorPtr& a0, const TensorImpl* b) {
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, DType::f16);
  launch({a.get(), b, out.get()}, [a = a.get(), b, out = out.get(), k] {
    vec::scalar(to_vec(k), DType::f16, a->data(), whole_value(*b), false, out->data(), a->numel);
  });
  return out;
}
}  // namespace

TensorPtr binary(Binary kind, const TensorPtr& a0, const TensorPtr& b0) {
  TensorPtr a = a0, b = b0;
  if (a->dt != b->dt || !is_fast(a->dt)) {  // the inputs cast to the result type, on the tape
    const DType rt = binary_result(kind, a->dt, b->dt, result_type({operand(*a), operand(*b)}));
    const bool whole = rt == DType::f16 && b->dt != DType::f16 && b->numel == 1 &&
                       (kind == Binary::mul || kind == Binary::div);
    a = to_dtype(a, rt);
    TensorPtr b_whole = b;
    b = to_dtype(b, rt);
    if (whole && a->shape == broadcast_shapes(a->shape, b->shape)) {
      TensorPtr out = with_whole(kind, a, b_whole.get());
      if (Node* n = record(op_of(kind), out, {a.get(), b.get()})) {
        n->i1 = 1;  // backward reads b whole too: the original is kept in slot 2
        n->saved[2].save(*b_whole);
      }
      return out;
    }
  }
  TensorPtr out = binary_new(kind, a, b);
  record(op_of(kind), out, {a.get(), b.get()});
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
  if (n.in_requires[0] && n.i1 == 1) gin[0] = with_whole(Binary::mul, g, n.unpack(2).get());
  if (n.in_requires[0] && n.i1 != 1)
    gin[0] = reduced(binary_new(Binary::mul, g, n.unpack(1)), n, 0);
  if (n.in_requires[1]) gin[1] = reduced(binary_new(Binary::mul, g, n.unpack(0)), n, 1);
}

void Op_div::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.i1 == 1) {  // b read whole (see binary)
    TensorPtr bw = n.unpack(2);
    if (n.in_requires[0]) gin[0] = with_whole(Binary::div, g, bw.get());
    if (n.in_requires[1]) {
      auto q = with_whole(Binary::div, with_whole(Binary::div, n.unpack(0), bw.get()), bw.get());
      gin[1] = reduced(map2_new(g, q, [](auto gv, auto qv) { return -gv * qv; }), n, 1);
    }
    return;
  }
  TensorPtr b = n.unpack(1);
  if (n.in_requires[0]) gin[0] = reduced(binary_new(Binary::div, g, b), n, 0);
  if (n.in_requires[1]) {
    TensorPtr a = n.unpack(0);
    // PyTorch's -g * ((a / b) / b), each division rounded to the dtype (float16 included).
    auto q = binary_new(Binary::div, binary_new(Binary::div, a, b), b);
    gin[1] = reduced(map2_new(g, q, [](auto gv, auto qv) { return -gv * qv; }), n, 1);
  }
}

}  // namespace tg
