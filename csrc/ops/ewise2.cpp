// clamp with tensor bounds, round with decimals, and the zero-gradient nodes of the random
// functions: PyTorch's kernels and backward formulas (ATen's clamp/round_decimals CPU kernels,
// derivatives.yaml).
#include <cmath>
#include <stdexcept>
#include <string>

#include "ops/elementwise.h"
#include "ops/oplist.h"
#include "ops/typed.h"

namespace tg {

namespace {
// What a clamp_tensor node remembers (Node::i1): the call (PyTorch names the three apart) and
// which bounds it has.
constexpr int kApiMask = 3, kHasLo = 4, kHasHi = 8;

// fn(v0, v1, v2, v3) per element of the inputs' broadcast shape, computed in the compute type of
// dtype dt (float for float16) and stored as dt. An absent input (null) reads as input 0.
template <class Fn>
TensorPtr zip4(DType dt, const TensorPtr* in, Fn fn) {
  const TensorImpl* t[4];
  Shape shape = in[0]->shape;
  for (int j = 0; j < 4; ++j) {
    t[j] = in[j] ? in[j].get() : in[0].get();
    shape = broadcast_shapes(shape, t[j]->shape);
  }
  auto out = empty(shape, dt);
  launch({t[0], t[1], t[2], t[3], out.get()}, [fn, t, out = out.get()] {
    visit(out->dt, [&](auto tag) {
      using T = decltype(tag);
      int64_t st[4][kMaxDims];
      for (int j = 0; j < 4; ++j)
        strides_over(*t[j], out->shape, st[j]);
      const T *p0 = t[0]->as<T>(), *p1 = t[1]->as<T>(), *p2 = t[2]->as<T>(), *p3 = t[3]->as<T>();
      T* q = out->as<T>();
      each<4>(out->shape, st, [&](int64_t o, const int64_t* off) {
        q[o] = cvt<T>(fn(load(p0[off[0]]), load(p1[off[1]]), load(p2[off[2]]), load(p3[off[3]])));
      });
      return 0;
    });
  });
  return out;
}

// PyTorch's NaN-propagating maximum (mx) or minimum as its vector code computes it (a tie gives
// the second operand, the bound).
template <class T>
T extreme(bool mx, T x, T y) {
  if constexpr (!std::is_integral<T>::value) {
    if (x != x) return x;
    if (y != y) return y;
  }
  if (x == y) return y;
  return (mx ? x < y : y < x) ? y : x;
}
}  // namespace

// clamp.Tensor: maximum with the lower bound, then minimum with the upper (a one-sided call is
// ATen's maximum or minimum); clamp_min/clamp_max.Tensor are the same kernels.
TensorPtr op::clamp_tensor(const TensorPtr& a0, const std::optional<TensorPtr>& lo0,
                           const std::optional<TensorPtr>& hi0, int64_t api) {
  if (!lo0 && !hi0)
    throw std::runtime_error("torch.clamp: At least one of 'min' or 'max' must not be None");
  const bool has_lo = bool(lo0), has_hi = bool(hi0);
  DType rt;
  if (has_lo && has_hi)
    rt = result_type({operand(**lo0), operand(*a0), operand(**hi0)});
  else
    rt = result_type({operand(*a0), operand(has_lo ? **lo0 : **hi0)});
  if (rt == DType::b8 && has_lo && has_hi)
    throw NotImplemented("\"clamp_cpu\" not implemented for 'Bool'");
  TensorPtr in[4] = {to_dtype(a0, rt), has_lo ? to_dtype(*lo0, rt) : nullptr,
                     has_hi ? to_dtype(*hi0, rt) : nullptr, nullptr};
  TensorPtr out = zip4(rt, in, [has_lo, has_hi](auto x, auto l, auto h, auto) {
    if (has_lo) x = extreme(true, x, l);
    if (has_hi) x = extreme(false, x, h);
    return x;
  });
  if (Node* n = record(OpCode::clamp_tensor, out, {in[0].get(), in[1].get(), in[2].get()})) {
    for (int j = 0; j < 3; ++j)
      if (in[j]) n->save(j, *in[j]);
    n->i1 = int(api & kApiMask) | (has_lo ? kHasLo : 0) | (has_hi ? kHasHi : 0);
  }
  return out;
}

// PyTorch's clamp_backward and clamp_backward_min_max: x keeps the gradient where
// lo <= x <= hi (ties go to x); lo gets it where x < lo (and lo < hi), hi where x > hi (or
// hi < lo). Each is then summed to its input's shape.
void Op_clamp_tensor::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const bool has_lo = n.i1 & kHasLo, has_hi = n.i1 & kHasHi, both = has_lo && has_hi;
  const TensorPtr in[4] = {g, n.unpack(0), has_lo ? n.unpack(1) : nullptr,
                           has_hi ? n.unpack(2) : nullptr};
  for (int i = 0; i < 3; ++i) {
    if (!n.in_requires[i]) continue;
    TensorPtr gi = zip4(g->dt, in, [=](auto gv, auto x, auto l, auto h) {
      using T = decltype(gv);
      bool keep;
      if (i == 0)
        keep = (!has_lo || x >= l) && (!has_hi || x <= h);
      else if (i == 1)
        keep = x < l && (!both || l < h);
      else
        keep = x > h || (both && h < l);
      return keep ? gv : T(0);
    });
    gin[i] = sum_to(gi, n.in_shape[i]);
  }
}

std::string clamp_tensor_name(const Node& n) {
  const int api = n.i1 & kApiMask;
  return api == 1 ? "ClampMinBackward1" : api == 2 ? "ClampMaxBackward1" : n.op->grad_name;
}

// ---------------------------------------------------------------- round(decimals=)

// ATen's round_decimals kernel (scalar code only): x * 10^d rounded half to even, divided by
// 10^d, in float for float16 and float32; a negative d divides first. 10^d is a double rounded
// to the compute type, so |d| past its range gives inf and then NaN, as PyTorch.
TensorPtr op::round_decimals(const TensorPtr& a, int64_t decimals) {
  if (!is_floating(a->dt))
    throw NotImplemented(std::string(decimals == 0 ? "\"round_vml_cpu" : "\"round_cpu") +
                         "\" not implemented for '" + torch_name(a->dt) + "'");
  const bool neg = decimals < 0;
  const double p = std::pow(10.0, std::fabs(double(decimals)));  // no overflow at INT64_MIN
  TensorPtr out = map1_new(a, [neg, p](auto x) {
    using C = decltype(x);
    const C t = C(p);
    return neg ? C(std::nearbyint(x / t) * t) : C(std::nearbyint(x * t) / t);
  });
  record(OpCode::round_decimals, out, {a.get()});
  return out;
}

void Op_round_decimals::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = zeros(n.in_shape[0], g->dt);
}

// ---------------------------------------------------------------- the random functions' nodes

// The sample (which never requires grad), recorded as drawn from a and b (either may be absent)
// by a node whose gradients are zeros: PyTorch's NormalBackward1-3 (kind 1-3) and
// BernoulliBackward0 (kind 4).
TensorPtr op::random_grad(const TensorPtr& sample, const std::optional<TensorPtr>& a,
                          const std::optional<TensorPtr>& b, int64_t kind) {
  if (kind < 1 || kind > 4) throw std::invalid_argument("random_grad: kind is 1 to 4");
  if (sample->requires_grad) throw std::invalid_argument("random_grad: the sample requires grad");
  TensorPtr out = alias(*sample);
  if (Node* n = record(OpCode::random_grad, out,
                       {sample.get(), a ? a->get() : nullptr, b ? b->get() : nullptr}))
    n->i1 = int(kind);
  return out;
}

void Op_random_grad::backward(Node& n, const TensorPtr&, TensorPtr* gin) {
  for (int i = 1; i < 3; ++i)
    if (n.in_requires[i]) gin[i] = zeros(n.in_shape[i], n.in_dt[i]);
}

std::string random_grad_name(const Node& n) {
  return n.i1 == 4 ? "BernoulliBackward0" : "NormalBackward" + std::to_string(n.i1);
}

}  // namespace tg
