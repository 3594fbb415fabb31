// Small pieces shared by the reductions (reduce_*.cpp) and by ops whose backward runs other ops
// (addmm.cpp).
#pragma once
#include <algorithm>
#include <vector>

#include "autograd/autograd.h"
#include "core/tensor.h"

namespace tg {

// Grad mode off for a scope: a backward built from other ops records nothing.
struct NoGrad {
  bool was = grad_enabled();
  NoGrad() { set_grad_enabled(false); }
  ~NoGrad() { set_grad_enabled(was); }
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;
};

// The shape of a reduction over the dims in `mask`: dropped, or kept as 1.
inline Shape kept_shape(const Shape& s, unsigned mask, bool keepdim) {
  Shape os;
  for (int d = 0; d < s.n; ++d) {
    if (!(mask & (1u << d)))
      os.push(s.d[d]);
    else if (keepdim)
      os.push(1);
  }
  return os;
}

// The reduced dims, outermost first: TensorIterator puts them innermost by increasing stride.
inline std::vector<int> reduced_by_stride(const TensorImpl& t, unsigned mask) {
  std::vector<int> red;
  for (int d = 0; d < t.shape.n; ++d)
    if (mask & (1u << d)) red.push_back(d);
  std::stable_sort(red.begin(), red.end(),
                   [&](int x, int y) { return t.strides.d[x] > t.strides.d[y]; });
  return red;
}

// reduce_select.cpp: the offset of each output's lane in PyTorch's visiting order; *inner gets
// the lane's length.
std::vector<int64_t> lane_offsets(const Shape& shape, const Shape& strides, unsigned mask,
                                  int64_t* inner);

}  // namespace tg
