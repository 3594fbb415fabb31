// Plain loops over any dtype (float64, the integers, bool, and float16/float32 where an op has no
// vector kernel). Inputs may be strided and broadcast; outputs are fresh and contiguous; nothing
// here records on the tape (the ops in binary.cpp, unary.cpp, ... do).
#pragma once
#include <optional>

#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/promote.h"

namespace tg {

// a (k) b for one element of T, as PyTorch computes it (bool: add is or, mul is and; integers
// wrap; integer true division never reaches here: it is promoted first).
template <class T>
inline T apply(Binary k, T x, T y) {
  if constexpr (std::is_same<T, bool>::value) {
    return k == Binary::mul ? (x && y) : (x || y);  // add: or, mul: and (sub/div never reach)
  } else if constexpr (std::is_integral<T>::value) {
    switch (k) {
      case Binary::add:
        return wrap_add(x, y);
      case Binary::sub:
        return wrap_sub(x, y);
      case Binary::mul:
        return wrap_mul(x, y);
      case Binary::div:
        break;
    }
    throw std::logic_error("integer true division reached a kernel");
  } else {
    switch (k) {
      case Binary::add:
        return x + y;
      case Binary::sub:
        return x - y;
      case Binary::mul:
        return x * y;
      case Binary::div:
        return x / y;
    }
    return x;
  }
}

enum class Compare : uint8_t { eq, ne, lt, le, gt, ge, land, lor, lxor };

// A 0-dim tensor of dtype dt holding s (PyTorch's conversion).
TensorPtr scalar_tensor(const Scalar& s, DType dt);
// a (k) b, both of the result's dtype, broadcast.
TensorPtr typed_binary(Binary k, const TensorPtr& a, const TensorPtr& b);
// a (k) b of one dtype, broadcast; a bool result.
TensorPtr typed_compare(Compare k, const TensorPtr& a, const TensorPtr& b);
// The unary op on float64 or an integer dtype (the op's own dtype rules are checked by callers).
TensorPtr typed_unary(OpCode op, const TensorPtr& a);
// x ** e (or e ** x when reversed) for float64 and the integers.
// vector_loop false: float64 as PyTorch's loop computes a strided s ** x (its scalar code only).
TensorPtr typed_pow(const TensorPtr& x, const Scalar& e, bool reversed, bool vector_loop = true);
// Sum over the dims in mask (bit d), as dtype `out_dt`; the kept dims in order (keepdim: as 1s).
TensorPtr typed_sum(const TensorPtr& a, unsigned mask, bool keepdim, DType out_dt);
// cond ? a : b, broadcast three ways; a and b of one dtype.
TensorPtr typed_where(const TensorPtr& cond, const TensorPtr& a, const TensorPtr& b);
// a[idx[..., 0], ..., idx[..., k-1]]: shape B + a.shape[k:] for idx of shape B + (k,).
// Throws unless idx is int64 of shape B + (k,) with 1 <= k <= a.dim().
void check_index(const TensorImpl& a, const TensorImpl& idx);
TensorPtr typed_index(const TensorPtr& a, const TensorPtr& idx);
// `out` (contiguous, a's shape) with v (broadcast to B + a.shape[k:]) written or added at idx,
// in index order.
void typed_index_put(TensorImpl& out, const TensorImpl& idx, const TensorImpl& v, bool accumulate);
// C[M,N] (dtype dt, leading dimension ldc) = (accumulate ? C : 0) + A @ B, for float64 and the
// integers (the dtypes without a GEMM); A and B of dtype dt.
struct MatRef;
void typed_gemm(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, void* C,
                DType dt, int64_t ldc, bool accumulate);
// dst <- src converted (any dtypes, same shape, either strided).
void typed_convert(const TensorImpl& src, TensorImpl& dst);
void typed_fill(TensorImpl& t, const Scalar& v);
// dst += src (same shape and dtype; either strided).
void typed_add_into(TensorImpl& dst, const TensorImpl& src);

}  // namespace tg
