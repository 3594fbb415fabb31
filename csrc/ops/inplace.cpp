#include "ops/inplace.h"

#include "autograd/capture.h"
#include "autograd/views.h"
#include "kernels/kernels.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

namespace {
TensorPtr out_of_place(Binary kind, const TensorPtr& a, const TensorPtr& other, const Scalar& s) {
  if (other) return binary(kind, a, other);
  switch (kind) {
    case Binary::add:
      return op::add_scalar(a, s);
    case Binary::sub:
      return sub_scalar(a, s);
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

// a's history after its values became r's: r's own, or for a view the base's, rewritten.
void take_history(TensorImpl& a, const TensorPtr& r) {
  if (a.view_base) {
    rebase_view(a, r);
  } else if (r) {
    a.grad_fn = r->grad_fn;
    a.requires_grad = r->requires_grad;
  } else {
    drop_history(a);
  }
}

// Writing through an expanded view would write one element several times (PyTorch refuses too).
void check_no_overlap(const TensorImpl& a) {
  for (int i = 0; i < a.shape.n; ++i)
    if (a.strides.d[i] == 0 && a.shape.d[i] > 1)
      throw std::runtime_error(
          "unsupported operation: more than one element of the written-to tensor refers to a "
          "single memory location. Please clone() the tensor before performing the operation.");
}

void check_recordable(const TensorImpl& a) {
  check_inplace_leaf(a);
  check_view_tracked(a);
}

// PyTorch refuses an in-place op whose result dtype cannot be written back (a float result into an
// integer tensor, ...).
void check_result_dtype(Binary kind, const TensorImpl& a, const TensorPtr& other, const Scalar& s) {
  if (is_fast(a.dt) && (!other || other->dt == a.dt)) return;
  const Operand o = other ? operand(*other) : operand(s);
  const DType rt = binary_result(kind, a.dt, o.dt, result_type({operand(a), o}));
  if (!can_cast(rt, a.dt))
    throw std::runtime_error(std::string("result type ") + torch_name(rt) +
                             " can't be cast to the desired output type " + torch_name(a.dt));
}
}  // namespace

TensorPtr sub_scalar(const TensorPtr& a, const Scalar& s) {
  binary_result(Binary::sub, a->dt, s.dt, a->dt);  // PyTorch's errors for a bool operand
  TensorPtr out = op::add_scalar(a, s.negated());
  if (out->grad_fn && out->grad_fn->op == &info(OpCode::add_scalar))
    out->grad_fn->i1 = 1;  // named SubBackward0, as PyTorch's node
  return out;
}

void inplace_binary(Binary kind, const TensorPtr& a, const TensorPtr& other, const Scalar& s) {
  check_result_dtype(kind, *a, other, s);
  check_no_overlap(*a);
  refresh_view(*a);
  bool recording = grad_enabled() && (a->requires_grad || (other && other->requires_grad));
  if (!recording) {
    overwrite(a, out_of_place(kind, a, other, s));
    return;
  }
  check_recordable(*a);
  // The op reads a's old values: give it a snapshot that carries a's history, so the saved
  // input is not the buffer we are about to overwrite.
  auto old = copy_of(*a);
  old->requires_grad = a->requires_grad;
  old->grad_fn = a->grad_fn;
  TensorPtr r = out_of_place(kind, old, other, s);
  if (r->dt != a->dt) r = op::cast(r, a->dt);
  overwrite(a, r);
  take_history(*a, r);
}

void fill(const TensorPtr& a, const Scalar& v) {
  check_no_overlap(*a);
  refresh_view(*a);
  const bool recording = grad_enabled() && a->requires_grad;
  if (recording) check_recordable(*a);
  if (is_fast(a->dt)) {
    const float f = float(v.as_double());
    launch({a.get()}, [a = a.get(), f] { fill_value(*a, f); });
  } else {
    launch({a.get()}, [a = a.get(), v] { typed_fill(*a, v); });
  }
  a->bump_version();
  if (recording) take_history(*a, nullptr);
}

void copy_into(const TensorPtr& a, const TensorPtr& src) {
  check_no_overlap(*a);
  refresh_view(*a);
  bool recording = grad_enabled() && (a->requires_grad || src->requires_grad);
  if (recording) check_recordable(*a);
  TensorPtr r = src;
  if (r->shape != a->shape) {  // src broadcast to a's shape: an expanded view, on the tape
    Shape bs = broadcast_shapes(a->shape, src->shape);
    if (bs != a->shape)
      throw std::runtime_error("output with shape " + a->shape.str() +
                               " doesn't match the broadcast shape " + bs.str());
    r = op::expand(src, a->shape);
  }
  if (recording && src->requires_grad) {
    TensorPtr c = op::cast(r, a->dt);  // ToCopyBackward0 carries the gradient to src
    overwrite(a, c);
    take_history(*a, c);
    return;
  }
  overwrite(a, r);
  if (recording) take_history(*a, nullptr);
}

namespace {
// a := make(a) for an op that writes some of a's places (index_put, put), with a's history.
template <class F>
void write_places(const TensorPtr& a, const TensorPtr& v, F make) {
  check_no_overlap(*a);
  refresh_view(*a);
  const bool recording = grad_enabled() && (a->requires_grad || v->requires_grad);
  if (!recording) {
    overwrite(a, make(a));
    return;
  }
  check_recordable(*a);
  auto old = copy_of(*a);  // what the op reads, carrying a's history
  old->requires_grad = a->requires_grad;
  old->grad_fn = a->grad_fn;
  TensorPtr r = make(old);
  overwrite(a, r);
  take_history(*a, r);
}
}  // namespace

void index_put_(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate) {
  write_places(a, v, [&](const TensorPtr& x) { return op::index_put(x, idx, v, accumulate); });
}

void put_(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate,
          bool value) {
  write_places(a, v, [&](const TensorPtr& x) { return op::put(x, idx, v, accumulate, value); });
}

}  // namespace tg
