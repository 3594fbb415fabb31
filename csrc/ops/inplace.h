// In-place entry points: they bump the version counter and keep the tape honest.
#pragma once
#include "ops/ops.h"

namespace tg {
// a (kind)= other, where other is a tensor (may be null) or the scalar s.
void inplace_binary(Binary kind, const TensorPtr& a, const TensorPtr& other, const Scalar& s);
void fill(const TensorPtr& a, const Scalar& v);
// a[idx] = v (or += v when accumulate): op::index_put written into a's storage.
void index_put_(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate);
// a.scatter_(...) / scatter_add_(...): op::put's values written into a (its arguments).
void put_(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate,
          bool value);
// a - s: PyTorch's error for bool - bool, else a + (-s).
TensorPtr sub_scalar(const TensorPtr& a, const Scalar& s);
void copy_into(const TensorPtr& a, const TensorPtr& src);
}  // namespace tg
