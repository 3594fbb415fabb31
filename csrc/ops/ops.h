// The forwards of the ops (ops/oplist.h has the list). Each records itself on the tape when grad
// mode is on and an input requires grad. `op::NAME` is the forward of op NAME, as bound to
// Python; the generic kinds' forwards are generated here from the list.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/oplist.h"
#include "ops/promote.h"

namespace tg {

// ---- the shared implementations of the generic kinds
enum class Binary : uint8_t { add, sub, mul, div };
TensorPtr binary(Binary kind, const TensorPtr& a, const TensorPtr& b);
TensorPtr unary(OpCode op, const TensorPtr& a);      // every op of kind unary
TensorPtr unary_raw(OpCode op, const TensorPtr& a);  // the same, never recorded on the tape
// sum/mean over `dims` (all when empty), keeping them as size 1 when keepdim.
TensorPtr reduce(OpCode op, const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim);

enum class Reduction : uint8_t { none = 0, mean = 1, sum = 2 };

// The second operand of a comparison (or of where): a tensor, or else the Python number s.
struct TensorOrScalar {
  TensorPtr t;
  Scalar s;
};

namespace op {
#define TG_FWD_unary(name)                    \
  inline TensorPtr name(const TensorPtr& a) { \
    return unary(OpCode::name, a);            \
  }
#define TG_FWD_binary(name)                                       \
  inline TensorPtr name(const TensorPtr& a, const TensorPtr& b) { \
    return binary(Binary::name, a, b);                            \
  }
#define TG_FWD_scalar(name) TensorPtr name(const TensorPtr& a, const Scalar& s);
#define TG_FWD_compare(name) TensorPtr name(const TensorPtr& a, const TensorOrScalar& b);
#define TG_FWD_reduce(name)                                                                   \
  inline TensorPtr name(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim) { \
    return reduce(OpCode::name, a, dims, keepdim);                                            \
  }
#define TG_FWD_custom(name)  // declared below, by hand
#define TG_FWD_view(name)    // declared below, by hand
#define TG_FWD(name, grad_name, kind, saves) TG_FWD_##kind(name)
TG_OPS(TG_FWD)
#undef TG_FWD

// The custom kind's forwards.
TensorPtr matmul(const TensorPtr& a, const TensorPtr& b);
TensorPtr linear(const TensorPtr& x, const TensorPtr& w, const std::optional<TensorPtr>& b);
TensorPtr reshape(const TensorPtr& a, const Shape& shape);  // a view when possible, else a copy

// The view kind's forwards (ops/view.cpp): the result shares a's storage. Arguments arrive
// normalised by the Python front end (dims in range, sizes resolved).
TensorPtr view(const TensorPtr& a, const Shape& shape);
TensorPtr permute(const TensorPtr& a, const Shape& perm);
TensorPtr transpose(const TensorPtr& a, int64_t dim0, int64_t dim1);
TensorPtr t(const TensorPtr& a);
TensorPtr select(const TensorPtr& a, int64_t dim, int64_t index);
TensorPtr slice(const TensorPtr& a, int64_t dim, int64_t start, int64_t end, int64_t step);
TensorPtr unsqueeze(const TensorPtr& a, int64_t dim);
TensorPtr squeeze(const TensorPtr& a, const std::optional<Shape>& dims);  // none: all size-1 dims
TensorPtr expand(const TensorPtr& a, const Shape& sizes);
TensorPtr as_strided(const TensorPtr& a, const Shape& sizes, const Shape& strides, int64_t offset);
TensorPtr mse_loss(const TensorPtr& a, const TensorPtr& b, Reduction r);
TensorPtr l1_loss(const TensorPtr& a, const TensorPtr& b, Reduction r);
TensorPtr cast(const TensorPtr& a, DType dt);
TensorPtr logical_not(const TensorPtr& a);
TensorPtr where(const TensorPtr& cond, const TensorOrScalar& a, const TensorOrScalar& b);
// idx: int64, shape B + (k,), entries in range (the Python front end checks them).
TensorPtr index(const TensorPtr& a, const TensorPtr& idx);
TensorPtr index_put(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate);
// `//` and `%` (ops/divmod.cpp): a and b of one dtype, broadcast. whole: float16 floor division's
// scalar divisor, read unrounded. remainder_scalar: b 0-dim, a Python number (RemainderBackward0).
TensorPtr floor_divide(const TensorPtr& a, const TensorPtr& b, std::optional<double> whole);
TensorPtr remainder(const TensorPtr& a, const TensorPtr& b);
TensorPtr remainder_scalar(const TensorPtr& a, const TensorPtr& b);
// ewise (ops/ewise.cpp, ops/activation.cpp). clamp's api: 0 clamp, 1 clamp_min, 2 clamp_max.
TensorPtr clamp(const TensorPtr& a, const std::optional<Scalar>& lo,
                const std::optional<Scalar>& hi, int64_t api);
TensorPtr maximum(const TensorPtr& a, const TensorPtr& b);
TensorPtr minimum(const TensorPtr& a, const TensorPtr& b);
TensorPtr pow(const TensorPtr& base, const TensorPtr& exponent);
TensorPtr leaky_relu(const TensorPtr& a, double slope);
TensorPtr elu(const TensorPtr& a, double alpha);
TensorPtr gelu(const TensorPtr& a, int64_t approximate);  // 0 'none', 1 'tanh'
TensorPtr silu(const TensorPtr& a);
TensorPtr softplus(const TensorPtr& a, double beta, double threshold);
TensorPtr hardtanh(const TensorPtr& a, const Scalar& lo, const Scalar& hi);
// ewise2 (ops/ewise2.cpp). clamp_tensor: tensor bounds, broadcast; api as clamp's.
TensorPtr clamp_tensor(const TensorPtr& a, const std::optional<TensorPtr>& lo,
                       const std::optional<TensorPtr>& hi, int64_t api);
TensorPtr round_decimals(const TensorPtr& a, int64_t decimals);
// sample (fresh) recorded with zero gradients to a and b: kind 1-3 NormalBackward1-3, 4
// BernoulliBackward0.
TensorPtr random_grad(const TensorPtr& sample, const std::optional<TensorPtr>& a,
                      const std::optional<TensorPtr>& b, int64_t kind);
// The selecting reductions (ops/reduce_select.cpp): dims normalised by the front end.
TensorPtr amax(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim);
TensorPtr amin(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim);
TensorPtr max_all(const TensorPtr& a);
TensorPtr min_all(const TensorPtr& a);
TensorPtr max_dim(const TensorPtr& a, int64_t dim, bool keepdim);  // the values; argmax: indices
TensorPtr min_dim(const TensorPtr& a, int64_t dim, bool keepdim);
TensorPtr argmax(const TensorPtr& a, const std::optional<int64_t>& dim, bool keepdim);
TensorPtr argmin(const TensorPtr& a, const std::optional<int64_t>& dim, bool keepdim);
// Running sums along dim, in dtype (default: a's, int64 for the integers and bool).
TensorPtr cumsum(const TensorPtr& a, int64_t dim, const std::optional<DType>& dtype);
// log(sum(exp(a))) over dims (all when none), PyTorch's composition (ops/reduce_lse.cpp).
TensorPtr logsumexp(const TensorPtr& a, const std::optional<Shape>& dims, bool keepdim);
// var and std over dims (all when none) with `correction` (ops/reduce_var.cpp).
TensorPtr var(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
              bool keepdim);
TensorPtr std_dev(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                  bool keepdim);
// One output of var_mean / std_mean (which: 0 var, 1 std, 2 var_mean's mean, 3 std_mean's mean):
// Welford's update for every reduction (ops/reduce_var.cpp).
TensorPtr var_mean(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                   bool keepdim, int64_t which);
// nnloss (ops/nnloss.cpp). dim in range (0 for a 0-dim tensor); target int64 of the input's
// shape without its class dim; ignore_index: a target that adds nothing.
TensorPtr softmax(const TensorPtr& a, int64_t dim);
TensorPtr log_softmax(const TensorPtr& a, int64_t dim);
TensorPtr nll_loss(const TensorPtr& x, const TensorPtr& target, const std::optional<TensorPtr>& w,
                   Reduction r, int64_t ignore_index);
TensorPtr nll_loss2d(const TensorPtr& x, const TensorPtr& target, const std::optional<TensorPtr>& w,
                     Reduction r, int64_t ignore_index);
// weight (num, dim) rows picked by int64/int32 indices; padding_idx (or -1) gets no gradient.
TensorPtr embedding(const TensorPtr& weight, const TensorPtr& indices, int64_t padding_idx);
// ops/shape.cpp. cat: ts of one dtype, shapes checked, dim in range (of the result for stack).
TensorPtr cat(const std::vector<TensorPtr>& ts, int64_t dim, bool stack);
// idx: the full coordinates in a (int64, shape B + (a.dim(),)) of each element of the result.
TensorPtr repeat(const TensorPtr& a, const TensorPtr& idx, const Shape& repeats);
TensorPtr take(const TensorPtr& a, const TensorPtr& idx, int64_t kind);  // kind: a TakeKind
// a copy of a with v (shape B, or a 0-dim value) written or added at idx (as take's).
TensorPtr put(const TensorPtr& a, const TensorPtr& idx, const TensorPtr& v, bool accumulate,
              bool value);
// losses (ops/loss_bce.cpp): input and target of one shape, weights expanded to it.
TensorPtr binary_cross_entropy(const TensorPtr& x, const TensorPtr& y,
                               const std::optional<TensorPtr>& w, Reduction r);
TensorPtr binary_cross_entropy_with_logits(const TensorPtr& x, const TensorPtr& y,
                                           const std::optional<TensorPtr>& w,
                                           const std::optional<TensorPtr>& pw, Reduction r);
TensorPtr smooth_l1_loss(const TensorPtr& x, const TensorPtr& y, Reduction r, double beta);
TensorPtr huber_loss(const TensorPtr& x, const TensorPtr& y, Reduction r, double delta);
// prodnorm (ops/reduce_prod.cpp): the product of all elements, or along dim (in range, 0 for a
// 0-dim tensor); integers and bool give int64.
TensorPtr prod_all(const TensorPtr& a);
TensorPtr prod_dim(const TensorPtr& a, int64_t dim, bool keepdim);
// mm2 (ops/addmm.cpp): beta * input + alpha * (a @ b), arguments checked by the front end; input
// of the operands' dtype, broadcastable to the result.
TensorPtr addmv(const TensorPtr& mat, const TensorPtr& vec, const TensorPtr& input, double beta,
                double alpha);
TensorPtr baddbmm(const TensorPtr& b1, const TensorPtr& b2, const TensorPtr& input, double beta,
                  double alpha);
TensorPtr addbmm(const TensorPtr& b1, const TensorPtr& b2, const TensorPtr& input, double beta,
                 double alpha);
// The ord-norm over `dims` (all when none or empty), computed in `dtype` when given.
TensorPtr vector_norm(const TensorPtr& a, double ord, const std::optional<Shape>& dims,
                      bool keepdim, const std::optional<DType>& dtype);
// ---- conv (conv.cpp, pool.cpp, bnorm.cpp); arguments normalized by the front end
// (python/tapegrad/nn/_functional_conv.py): stride (sh, sw), padding (top, left, bottom, right),
// dilation (dh, dw); x (N, C, L) with w (OC, C/groups, K) is a 1-D convolution.
TensorPtr convolution(const TensorPtr& x, const TensorPtr& w, const std::optional<TensorPtr>& b,
                      const Shape& stride, const Shape& padding, const Shape& dilation,
                      int64_t groups);
TensorPtr max_pool2d(const TensorPtr& x, const Shape& kernel, const Shape& stride,
                     const Shape& padding, const Shape& dilation, bool ceil_mode);
TensorPtr max_pool2d_indices(const TensorPtr& x, const Shape& kernel, const Shape& stride,
                             const Shape& padding, const Shape& dilation, bool ceil_mode);
// divisor_override 0: none
TensorPtr avg_pool2d(const TensorPtr& x, const Shape& kernel, const Shape& stride,
                     const Shape& padding, bool ceil_mode, bool count_include_pad,
                     int64_t divisor_override);
TensorPtr adaptive_avg_pool2d(const TensorPtr& x, const Shape& output_size);
// Updates running_mean and running_var in place when training.
TensorPtr native_batch_norm(const TensorPtr& x, const std::optional<TensorPtr>& w,
                            const std::optional<TensorPtr>& b,
                            const std::optional<TensorPtr>& running_mean,
                            const std::optional<TensorPtr>& running_var, bool training,
                            double momentum, double eps);
TensorPtr native_layer_norm(const TensorPtr& x, const std::optional<TensorPtr>& w,
                            const std::optional<TensorPtr>& b, int64_t normalized_ndim, double eps);
}  // namespace op

// Which public op a take stands for (its grad_fn name and backward). index_select's gradient
// adds float16 in float and rounds once, as PyTorch's index_add for dim 0 or the last dim of a
// tensor of two dims or more; index_select_stepwise rounds after each addition (its other cases).
enum class TakeKind : int {
  gather = 0,
  flip = 1,
  roll = 2,
  index_select = 3,
  masked_select = 4,
  index_select_stepwise = 5
};

// ---- helpers shared by ops
Shape broadcast_shapes(const Shape& a, const Shape& b);
TensorPtr sum_to(const TensorPtr& g, const Shape& target);  // undo broadcasting, f32 accumulate
// mean's gradient: g (the kept shape, keepdim or not) spread over `in` and divided by count.
TensorPtr mean_spread(const Shape& in, unsigned mask, double count, const TensorPtr& g);
// a itself, or a copy converted to dt recorded on the tape (a cast).
TensorPtr to_dtype(const TensorPtr& a, DType dt);
// "float", "double", "long int", ...: the C++ type names in some of PyTorch's messages.
const char* cpp_name(DType dt);

}  // namespace tg
