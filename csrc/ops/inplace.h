// In-place entry points: they bump the version counter and keep the tape honest.
#pragma once
#include "ops/ops.h"

namespace tg {
// a (kind)= other, where other is a tensor (may be null) or the scalar s.
void inplace_binary(Binary kind, const TensorPtr& a, const TensorPtr& other, double s);
void fill(const TensorPtr& a, double v);
void copy_into(const TensorPtr& a, const TensorPtr& src);
}  // namespace tg
