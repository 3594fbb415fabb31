// Helpers shared by the elementwise ops (binary.cpp, scalar.cpp, unary.cpp): fresh outputs
// computed by a kernel launch, never recorded on the tape (backward formulas use them too).
#pragma once
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "kernels/vec.h"
#include "ops/ops.h"

namespace tg {

inline vec::Bin to_vec(Binary k) {
  return vec::Bin(int(k));
}

// a (k) b with broadcasting, through the vector kernels where the layout allows.
TensorPtr binary_new(Binary k, const TensorPtr& a, const TensorPtr& b);
// x (k) s, or s (k) x when reversed (s rounded to float32 for the float dtypes).
TensorPtr scalar_new(const TensorPtr& a, Binary k, double s, bool reversed);
// The dtype of `a (kind) b` for operands of dtypes a and b promoting to `promoted`; raises
// PyTorch's error for bool - bool.
DType binary_result(Binary kind, DType a, DType b, DType promoted);

// The helpers read their inputs through dense(): views are copied first.
template <class Fn>
TensorPtr map1_new(const TensorPtr& a0, Fn fn) {
  TensorPtr keep;
  const TensorPtr& a = dense_ref(a0, keep);
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [fn, a = a.get(), out = out.get()] { map1(*a, *out, fn); });
  return out;
}

template <class Fn>
TensorPtr map2_new(const TensorPtr& a0, const TensorPtr& b0, Fn fn) {
  TensorPtr ka, kb;
  const TensorPtr &a = dense_ref(a0, ka), &b = dense_ref(b0, kb);
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  launch({a.get(), b.get(), out.get()},
         [fn, a = a.get(), b = b.get(), out = out.get()] { map2(*a, *b, *out, fn); });
  return out;
}

}  // namespace tg
