#include "ops/inplace.h"

#include "autograd/capture.h"
#include "kernels/kernels.h"

namespace tg {

namespace {
TensorPtr out_of_place(Binary kind, const TensorPtr& a, const TensorPtr& other, double s) {
  if (other) return binary(kind, a, other);
  switch (kind) {
    case Binary::add:
      return op::add_scalar(a, s);
    case Binary::sub:
      return op::add_scalar(a, -s);
    case Binary::mul:
      return op::mul_scalar(a, s);
    case Binary::div:
      return op::div_scalar(a, s);
  }
  return nullptr;
}

// Write r's values into a's buffer (converting dtype), so every alias of a sees them.
void overwrite(const TensorPtr& a, TensorPtr r) {
  if (r->shape != a->shape)
    throw std::runtime_error("output with shape " + a->shape.str() +
                             " doesn't match the broadcast shape " + r->shape.str());
  launch({a.get(), r.get()}, [a = a.get(), r = r.get()] { convert_into(*r, *a); });
  a->bump_version();
}

// The history `a` keeps after being overwritten by a value that carries none.
void drop_history(TensorImpl& a) {
  a.grad_fn.reset();
  a.requires_grad = false;
}
}  // namespace

void inplace_binary(Binary kind, const TensorPtr& a, const TensorPtr& other, double s) {
  bool recording = grad_enabled() && (a->requires_grad || (other && other->requires_grad));
  if (!recording) {
    overwrite(a, out_of_place(kind, a, other, s));
    return;
  }
  check_inplace_leaf(*a);
  // The op reads a's old values: give it a snapshot that carries a's history, so the saved
  // input is not the buffer we are about to overwrite.
  auto old = copy_of(*a);
  old->requires_grad = a->requires_grad;
  old->grad_fn = a->grad_fn;
  TensorPtr r = out_of_place(kind, old, other, s);
  if (r->dt != a->dt) r = op::cast(r, a->dt);
  overwrite(a, r);
  a->grad_fn = r->grad_fn;
  a->requires_grad = r->requires_grad;
}

void fill(const TensorPtr& a, double v) {
  if (grad_enabled() && a->requires_grad) {
    check_inplace_leaf(*a);
    drop_history(*a);
  }
  const float f = float(v);
  launch({a.get()}, [a = a.get(), f] {
    dispatch(a->dt, [&](auto tag) {
      using T = decltype(tag);
      const T val = from_f32<T>(f);
      T* q = a->as<T>();
      for (int64_t i = 0; i < a->numel; ++i)
        q[i] = val;
      return 0;
    });
  });
  a->bump_version();
}

void copy_into(const TensorPtr& a, const TensorPtr& src) {
  bool recording = grad_enabled() && (a->requires_grad || src->requires_grad);
  if (recording) check_inplace_leaf(*a);
  TensorPtr r = src;
  if (r->shape != a->shape) {
    if (recording && src->requires_grad)
      throw std::runtime_error("copy_: broadcasting a tensor that requires grad is not supported");
    Shape bs = broadcast_shapes(a->shape, src->shape);
    if (bs != a->shape)
      throw std::runtime_error("output with shape " + a->shape.str() +
                               " doesn't match the broadcast shape " + bs.str());
    auto z = zeros(a->shape, src->dt);
    r = binary(Binary::add, z, src);
  }
  if (recording && src->requires_grad) {
    TensorPtr c = op::cast(r, a->dt);  // ToCopyBackward0 carries the gradient to src
    overwrite(a, c);
    a->grad_fn = c->grad_fn;
    a->requires_grad = true;
    return;
  }
  overwrite(a, r);
  if (recording) drop_history(*a);
}

}  // namespace tg
