// The unary ops: one generic forward through the vector kernels (kernels/vec.h), and each op's
// backward. An op's row in the op list says what the forward saves.
#include <stdexcept>
#include <string>

#include "ops/elementwise.h"

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
  vec::Un u = to_un(op);
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [u, a = a.get(), out = out.get()] {
    vec::unary(u, a->dt, a->data(), out->data(), a->numel);
  });
  return out;
}

TensorPtr unary(OpCode op, const TensorPtr& a) {
  auto out = unary_raw(op, a);
  record(op, out, {a.get()});
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

// As PyTorch: the derivative rounded to the dtype first, then the product.
void Op_sin::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, unary_raw(OpCode::cos, n.unpack(0)));
}
void Op_cos::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = binary_new(Binary::mul, g, unary_raw(OpCode::neg, unary_raw(OpCode::sin, n.unpack(0))));
}

}  // namespace tg
