// A matmul's unrounded result, for ops that scale and add to it before rounding once (addmv,
// baddbmm, addbmm: ops/addmm.cpp).
#pragma once
#include "core/tensor.h"

namespace tg {

// a @ b (matmul's shapes and summation order) in the accumulator's dtype: float32 for float16
// operands, else the operands' own; never recorded.
TensorPtr matmul_acc(const TensorPtr& a, const TensorPtr& b);

}  // namespace tg
