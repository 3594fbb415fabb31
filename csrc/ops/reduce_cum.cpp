// cumsum along one dim, as PyTorch's CPU loop: the input converted to the result's dtype first,
// then one running sum per lane in the CPU accumulation type (double for float32, float for
// float16, int64 for the integers), each partial sum rounded to the result's dtype.
#include <vector>

#include "autograd/capture.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

template <class T>
struct CumAcc {
  using type = int64_t;
};
template <>
struct CumAcc<float> {
  using type = double;
};
template <>
struct CumAcc<double> {
  using type = double;
};
template <>
struct CumAcc<half> {
  using type = float;
};
template <>
struct CumAcc<bool> {
  using type = bool;
};

// A fresh tensor: the running sums of x along `dim` (backwards when `reverse`).
TensorPtr running_sum(const TensorPtr& x, int64_t dim, bool reverse) {
  auto out = empty(x->shape, x->dt);
  launch({x.get(), out.get()}, [x = x.get(), out = out.get(), dim, reverse] {
    const unsigned mask = x->shape.n ? 1u << dim : 0u;
    int64_t inner = 1;
    const std::vector<int64_t> src = lane_offsets(x->shape, x->strides, mask, &inner);
    int64_t in2 = 1;
    const std::vector<int64_t> dst = lane_offsets(out->shape, out->strides, mask, &in2);
    const int64_t rows = inner ? x->numel / inner : 0;
    visit(x->dt, [&](auto tag) {
      using T = decltype(tag);
      using A = typename CumAcc<T>::type;
      const T* p = x->as<T>();
      T* q = out->as<T>();
      for (int64_t r = 0; r < rows; ++r) {
        A acc = A(0);
        for (int64_t k = 0; k < inner; ++k) {
          const int64_t j = r * inner + (reverse ? inner - 1 - k : k);
          if constexpr (std::is_same<T, bool>::value)
            acc = acc || p[src[size_t(j)]];
          else if constexpr (std::is_integral<A>::value)  // wraps, as PyTorch's int64
            acc = A(uint64_t(acc) + uint64_t(int64_t(p[src[size_t(j)]])));
          else
            acc = A(acc + A(load(p[src[size_t(j)]])));
          q[dst[size_t(j)]] = cvt<T>(acc);
        }
      }
      return 0;
    });
  });
  return out;
}

}  // namespace

TensorPtr op::cumsum(const TensorPtr& a, int64_t dim, const std::optional<DType>& dtype) {
  if (dim < 0 || dim >= std::max<int>(a->shape.n, 1))
    throw IndexError("Dimension out of range (got " + std::to_string(dim) + ")");
  const DType dt = dtype ? *dtype : (is_floating(a->dt) ? a->dt : DType::i64);
  TensorPtr x = a;
  if (dt != a->dt) x = convert(*a, dt);
  TensorPtr out = running_sum(x, dim, false);
  if (Node* n = record(OpCode::cumsum, out, {a.get()})) n->i1 = int(dim);
  return out;
}

// PyTorch's cumsum_backward: the gradient in the input's dtype, then its running sums from the
// end (the gradient itself when there is nothing to sum).
void Op_cumsum::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const Shape& in = n.in_shape[0];
  TensorPtr gc = g->dt == n.in_dt[0] ? g : convert(*g, n.in_dt[0]);
  if (in.numel() <= 1 || (in.n && in.d[n.i1] == 1)) {
    gin[0] = gc;
    return;
  }
  gin[0] = running_sum(gc, n.i1, true);
}

}  // namespace tg
