// var and std, as PyTorch's CPU kernels: a float32/float64 reduction to one value takes two
// passes (the mean, as mean() gives it, then the squared deviations summed in double, in memory
// order); every other reduction runs Welford's update in double along each lane. The result is
// rounded once to the input's dtype. The backward is PyTorch's formula, op by op:
//   var: (2 / (n - correction)) * g * (x - x.mean(dims, keepdim=True))
//   std: the same for g / (2 * result), 0 where the result is 0.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/capture.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

unsigned mask_of(const Shape& s, const std::optional<Shape>& dims) {
  if (!dims) return (1u << s.n) - 1;
  unsigned mask = 0;
  for (int i = 0; i < dims->n; ++i) {
    const int64_t d = dims->d[i];
    if (d < 0 || d >= std::max<int>(s.n, 1))
      throw IndexError("Dimension out of range (got " + std::to_string(d) + ")");
    if (s.n) mask |= 1u << d;
  }
  return mask;
}

Shape dims_of(const Shape& s, unsigned mask) {
  Shape d;
  for (int i = 0; i < s.n; ++i)
    if (mask & (1u << i)) d.push(i);
  return d;
}

// The lanes of t in the order PyTorch's TensorIterator visits them: the reduced dims by
// decreasing stride (memory order for a permuted tensor), the kept dims as they are.
std::vector<int64_t> iter_lanes(const TensorImpl& t, unsigned mask, int64_t* inner) {
  Shape s, st;
  std::vector<int> red;
  for (int d = 0; d < t.shape.n; ++d) {
    if (mask & (1u << d)) {
      red.push_back(d);
    } else {
      s.push(t.shape.d[d]);
      st.push(t.strides.d[d]);
    }
  }
  const int kept = s.n;
  std::stable_sort(red.begin(), red.end(),
                   [&](int x, int y) { return t.strides.d[x] > t.strides.d[y]; });
  for (int d : red) {
    s.push(t.shape.d[d]);
    st.push(t.strides.d[d]);
  }
  const unsigned m = ((1u << red.size()) - 1) << kept;
  return lane_offsets(s, st, m, inner);
}

double finish(double m2, double n, double correction, bool take_sqrt) {
  const double divisor = n > correction ? n - correction : 0.0;
  const double v = m2 / divisor;
  return take_sqrt ? std::sqrt(v) : v;
}

// welford: Welford's update even for a reduction to one value (var_mean's kernel); want_mean:
// its mean instead (NaN for no elements).
TensorPtr var_forward(const TensorPtr& a, unsigned mask, double correction, bool keepdim,
                      bool take_sqrt, bool welford = false, bool want_mean = false) {
  auto out = empty(kept_shape(a->shape, mask, keepdim), a->dt);
  const bool all = out->numel == 1 && a->dt != DType::f16 && !welford;
  TensorPtr m;  // the first pass: mean() as PyTorch's, read in double
  if (all && a->numel) {
    NoGrad guard;
    m = reduce(OpCode::mean, a, std::nullopt, false);
  }
  launch({a.get(), out.get(), m.get()},
         [a = a.get(), out = out.get(), m = m.get(), mask, correction, take_sqrt, all, want_mean] {
           visit(a->dt, [&](auto tag) {
             using T = decltype(tag);
             if constexpr (kFloating<T>) {
               const T* x = a->as<T>();
               T* q = out->as<T>();
               if (all) {  // PyTorch's two passes, the deviations in memory order
                 const double mean = m ? double(load(m->as<T>()[0])) : 0.0;
                 int64_t inner = 1;
                 std::vector<int64_t> off =
                     lane_offsets(a->shape, a->strides, (1u << a->shape.n) - 1, &inner);
                 std::sort(off.begin(), off.end());
                 double s = 0;
                 for (int64_t o : off) {
                   const double dx = double(load(x[o])) - mean;
                   s += dx * dx;
                 }
                 q[0] = cvt<T>(finish(s, double(a->numel), correction, take_sqrt));
                 return 0;
               }
               int64_t inner = 1;
               const std::vector<int64_t> off = iter_lanes(*a, mask, &inner);
               for (int64_t r = 0; r < out->numel; ++r) {
                 double mu = 0, m2 = 0, n = 0;
                 for (int64_t j = 0; j < inner; ++j) {
                   const double v = double(load(x[off[size_t(r * inner + j)]]));
                   const double delta = v - mu;
                   n += 1;
                   mu += delta / n;
                   m2 += delta * (v - mu);
                 }
                 if (want_mean)
                   q[r] = cvt<T>(inner ? mu : std::numeric_limits<double>::quiet_NaN());
                 else
                   q[r] = cvt<T>(finish(m2, n, correction, take_sqrt));
               }
             }
             return 0;
           });
         });
  return out;
}

TensorPtr var_op(OpCode op, const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                 bool keepdim) {
  if (!is_floating(a->dt))
    throw std::runtime_error("std and var only support floating point and complex dtypes");
  const unsigned mask = mask_of(a->shape, dims);
  TensorPtr out = var_forward(a, mask, correction, keepdim, op == OpCode::std_dev);
  if (Node* n = record(op, out, {a.get()})) {
    n->a1.push(int64_t(mask));
    n->i1 = (keepdim ? 1 : 0) | (dims ? 0 : 2);
    n->s = correction;
  }
  return out;
}

// PyTorch's var_backward for g (the kept shape, keepdim or not).
TensorPtr var_back(const Node& n, const TensorPtr& x, const TensorPtr& g0) {
  const unsigned mask = unsigned(n.a1.d[0]);
  const bool all = (n.i1 & 2) || x->shape.n == 0;
  double count = 1;
  for (int d = 0; d < x->shape.n; ++d)
    if (mask & (1u << d)) count *= double(x->shape.d[d]);
  if (all) {
    const double dof = double(x->numel) - n.s;
    TensorPtr m = reduce(OpCode::mean, x, std::nullopt, false);
    if (dof <= 0) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      const double inf = std::numeric_limits<double>::infinity();
      TensorPtr w =
          op::where(op::eq(x, {m, {}}), {nullptr, Scalar::of(nan)}, {nullptr, Scalar::of(inf)});
      return binary(Binary::mul, g0, w);
    }
    TensorPtr t = op::mul_scalar(g0, Scalar::of(2.0 / dof));
    return binary(Binary::mul, t, binary(Binary::sub, x, m));
  }
  const Shape kept = kept_shape(x->shape, mask, true);
  TensorPtr g = alias(*dense(g0), kept);
  TensorPtr m = reduce(OpCode::mean, x, dims_of(x->shape, mask), true);
  TensorPtr t = op::mul_scalar(g, Scalar::of(2.0 / (count - n.s)));
  return binary(Binary::mul, t, binary(Binary::sub, x, m));
}

}  // namespace

TensorPtr op::var(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                  bool keepdim) {
  return var_op(OpCode::var, a, dims, correction, keepdim);
}
TensorPtr op::std_dev(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                      bool keepdim) {
  return var_op(OpCode::std_dev, a, dims, correction, keepdim);
}

// The saved input with its own strides: PyTorch's backward reads self as it lies, and the order
// of its mean (and of the recomputed std) follows the layout.
TensorPtr saved_input(const Node& n) {
  n.unpack(0);  // the version check
  return n.as_saved(0);
}

void Op_var::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  NoGrad guard;
  gin[0] = var_back(n, saved_input(n), g);
}

namespace {
// PyTorch's std_backward: var's for g / (2 * std), 0 where std is 0. The std again (the rows
// save only the input), by the kernel that made it.
TensorPtr std_back(const Node& n, const TensorPtr& x, const TensorPtr& g, bool welford) {
  TensorPtr r = var_forward(x, unsigned(n.a1.d[0]), n.s, (n.i1 & 1) != 0, true, welford);
  TensorPtr gv = binary(Binary::div, g, op::mul_scalar(r, Scalar::of(2.0)));
  gv = op::where(op::eq(r, {nullptr, Scalar::of(0.0)}), {nullptr, Scalar::of(0.0)}, {gv, {}});
  return var_back(n, x, gv);
}
}  // namespace

void Op_std_dev::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  NoGrad guard;
  gin[0] = std_back(n, saved_input(n), g, false);
}

// ---------------------------------------------------------------- var_mean, std_mean

TensorPtr op::var_mean(const TensorPtr& a, const std::optional<Shape>& dims, double correction,
                       bool keepdim, int64_t which) {
  if (which < 0 || which > 3) throw std::invalid_argument("var_mean: which is 0 to 3");
  if (!is_floating(a->dt))
    throw std::runtime_error(std::string(which & 1 ? "std_mean" : "var_mean") +
                             " only support floating point and complex dtypes");
  const unsigned mask = mask_of(a->shape, dims);
  TensorPtr out = var_forward(a, mask, correction, keepdim, which == 1, true, which >= 2);
  if (Node* n = record(OpCode::var_mean, out, {a.get()})) {
    n->a1.push(int64_t(mask));
    n->i1 = (keepdim ? 1 : 0) | (dims ? 0 : 2) | int(which << 2);
    n->s = correction;
  }
  return out;
}

// PyTorch's var_mean_backward / std_mean_backward, one output's part each: the engine adds the
// two parts where both outputs have gradients, as PyTorch's node does (one addition).
void Op_var_mean::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  NoGrad guard;
  const int which = n.i1 >> 2;
  const unsigned mask = unsigned(n.a1.d[0]);
  if (which >= 2) {
    const Shape& in = n.in_shape[0];
    double count = 1;
    for (int d = 0; d < in.n; ++d)
      if (mask & (1u << d)) count *= double(in.d[d]);
    gin[0] = mean_spread(in, mask, count, g);
    return;
  }
  const TensorPtr x = saved_input(n);
  gin[0] = which == 0 ? var_back(n, x, g) : std_back(n, x, g, true);
}

std::string var_mean_name(const Node& n) {
  return ((n.i1 >> 2) & 1) ? "StdMeanBackward0" : n.op->grad_name;
}

}  // namespace tg
