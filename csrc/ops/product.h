// A matmul's unrounded result, for ops that scale and add to it before rounding once (addmv,
// baddbmm, addbmm: ops/addmm.cpp).
#pragma once
#include "core/tensor.h"
#include "kernels/gemm.h"
#include "kernels/gemm16.h"
#include "kernels/kernels.h"

namespace tg {

// a @ b (matmul's shapes and summation order) in the accumulator's dtype: float32 for float16
// operands, else the operands' own; never recorded.
TensorPtr matmul_acc(const TensorPtr& a, const TensorPtr& b);

// Where a product goes: float32 for the GEMM (float32 and float16 operands), else the operands'
// own dtype (float64 and the integers: plain loops).
struct Out {
  void* p;
  DType dt;
  Out at(int64_t elems) const { return {static_cast<char*>(p) + size_t(elems) * itemsize(dt), dt}; }
};

// c (+)= A[M,K] @ B[K,N] with leading dimension ldc: the GEMM for float32 (and float16 operands
// of other orders), gemm_f16 in `order` when both are float16, plain loops for float64.
void product(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, Out c, int64_t ldc,
             bool accumulate, F16Order order);

// Run a product into `out`: directly when out is float32 or has no GEMM, else (float16) through
// float32 scratch.
template <class F>
void into_out(TensorImpl& out, int64_t n, F&& f) {
  if (out.dt != DType::f16) {
    f(Out{out.data(), out.dt});
  } else {
    Scratch c(n);
    f(Out{c.data(), DType::f32});
    store_f32(c.data(), out);
  }
}

}  // namespace tg
