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

// Whether t's strides are a permutation of a dense layout's: every element in one gap-free block
// starting at t's offset.
inline bool is_permuted_dense(const TensorImpl& t) {
  int order[kMaxDims];
  int n = 0;
  for (int i = 0; i < t.shape.n; ++i) {
    if (t.shape.d[i] == 1) continue;
    if (t.strides.d[i] <= 0) return false;
    int j = n++;
    for (; j > 0 && t.strides.d[order[j - 1]] < t.strides.d[i]; --j)
      order[j] = order[j - 1];
    order[j] = i;
  }
  int64_t expect = 1;
  for (int k = n - 1; k >= 0; --k) {
    if (t.strides.d[order[k]] != expect) return false;
    expect *= t.shape.d[order[k]];
  }
  return true;
}

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

// PyTorch's elementwise loop walks an input whose strides are a permutation of a dense layout
// (a transpose, a permute) in memory order, so where its vector code stops and its scalar tail
// starts depends on the layout. For the ops whose two differ (sigmoid, pow): fn(flat) computes on
// a contiguous tensor; this runs it on a's elements in memory order and returns the result in
// a's logical (row-major) order.
template <class Fn>
TensorPtr in_memory_order(const TensorPtr& a, Fn fn) {
  if (a->is_contiguous() || !is_permuted_dense(*a)) return fn(a);
  TensorPtr flat = alias(*a);
  flat->shape = Shape{a->numel};
  flat->strides = Shape{1};
  TensorPtr r = fn(flat);
  TensorPtr v = alias(*r);
  v->shape = a->shape;
  v->strides = a->strides;
  return dense(v);
}

}  // namespace tg
