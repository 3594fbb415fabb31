// The activations of torch.nn.functional: leaky_relu, elu, gelu, silu, softplus and hardtanh
// (relu6 is hardtanh(0, 6), as in PyTorch). Each follows the formula of PyTorch's scalar CPU code
// (ATen's cpu/Activation.cpp, Elu.h, Gelu.h) in the dtype's compute type (float for float16,
// rounded once at the end), with the C library's float functions where it calls them.
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/cpu.h"
#include "kernels/ewise_vec.h"
#include "ops/elementwise.h"
#include "ops/ewise.h"
#include "ops/typed.h"

namespace tg {

namespace {
// PyTorch's error for an activation without integer kernels.
void floating_only(const TensorPtr& a, const char* kernel) {
  if (!is_floating(a->dt))
    throw NotImplemented(std::string("\"") + kernel + "\" not implemented for '" +
                         torch_name(a->dt) + "'");
}

TensorPtr recorded(OpCode op, const TensorPtr& a, TensorPtr out, double s = 0, double s2 = 0,
                   int i1 = 0) {
  if (Node* n = record(op, out, {a.get()})) {
    n->s = s;
    n->s2 = s2;
    n->i1 = i1;
  }
  return out;
}

// M_SQRT1_2, M_2_SQRTPI * M_SQRT1_2 * 0.5 and M_SQRT2 * M_2_SQRTPI * 0.5, as double products.
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kPdfScale = 1.12837916709551257390 * 0.70710678118654752440 * 0.5;
constexpr double kTanhBeta = 1.41421356237309504880 * 1.12837916709551257390 * 0.5;
constexpr double kKappa = 0.044715;
}  // namespace

TensorPtr op::leaky_relu(const TensorPtr& a, double slope) {
  floating_only(a, "leaky_relu_cpu");
  TensorPtr out = map1_new(a, [slope](auto x) {
    using T = decltype(x);
    return x > T(0) ? x : x * T(slope);
  });
  return recorded(OpCode::leaky_relu, a, out, slope);
}
void Op_leaky_relu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double slope = n.s;
  gin[0] = map2_new(g, n.unpack(0), [slope](auto gv, auto x) {
    using T = decltype(x);
    return x > T(0) ? gv : gv * T(slope);
  });
}

// F.elu: scale and input_scale 1.
TensorPtr op::elu(const TensorPtr& a, double alpha) {
  floating_only(a, "elu_cpu");
  TensorPtr out = map1_new(a, [alpha](auto x) {
    using T = decltype(x);
    return x < T(0) ? T(std::expm1(x)) * T(alpha) : x;
  });
  return recorded(OpCode::elu, a, out, alpha);
}
// PyTorch's kernels test x > 0: a NaN input takes the negative branch (a NaN gradient).
void Op_elu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double alpha = n.s;
  gin[0] = map2_new(g, n.unpack(0), [alpha](auto gv, auto x) {
    using T = decltype(x);
    return x > T(0) ? gv : gv * T(1) * T(alpha) * T(std::exp(x));
  });
}

// approximate: 0 'none' (erf), 1 'tanh'.
TensorPtr op::gelu(const TensorPtr& a, int64_t approximate) {
  floating_only(a, "GeluKernelImpl");
  TensorPtr out = approximate ? map1_new(a,
                                         [](auto x) {
                                           using T = decltype(x);
                                           const T cube = x * x * x;
                                           const T inner = T(kTanhBeta) * (x + T(kKappa) * cube);
                                           return T(0.5) * x * (T(1) + T(std::tanh(inner)));
                                         })
                              : map1_new(a, [](auto x) {
                                  using T = decltype(x);
                                  return x * T(0.5) * (T(1) + T(std::erf(x * T(kSqrtHalf))));
                                });
  return recorded(OpCode::gelu, a, out, 0, 0, int(approximate != 0));
}
void Op_gelu::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.i1) {
    gin[0] = map2_new(g, n.unpack(0), [](auto dy, auto x) {
      using T = decltype(x);
      const T sq = x * x, cube = sq * x;
      const T inner = T(kTanhBeta) * (x + T(kKappa) * cube);
      const T th = T(std::tanh(inner));
      const T left = T(0.5) * x, right = T(1) + th;
      const T left_d = T(0.5) * right;
      const T tanh_d = T(1) - th * th;
      const T inner_d = T(kTanhBeta) * (T(1) + T(3) * T(kKappa) * sq);
      return dy * (left_d + left * tanh_d * inner_d);
    });
    return;
  }
  gin[0] = map2_new(g, n.unpack(0), [](auto dy, auto x) {
    using T = decltype(x);
    const T cdf = T(0.5) * (T(1) + T(std::erf(x * T(kSqrtHalf))));
    const T pdf = T(kPdfScale) * T(std::exp(x * x * T(-0.5)));
    return dy * (cdf + x * pdf);
  });
}

// float32 and float16 through kernels/ewise_vec.h (SLEEF's exp where PyTorch's vector code runs,
// the input walked in memory order as PyTorch's loop does); float64 the C library's exp.
TensorPtr op::silu(const TensorPtr& a) {
  floating_only(a, "silu_cpu");
  TensorPtr out = a->dt == DType::f64 ? map1_new(a,
                                                 [](auto x) {
                                                   using T = decltype(x);
                                                   return x / (T(1) + T(std::exp(-x)));
                                                 })
                                      : in_memory_order(a, [](const TensorPtr& flat) {
                                          TensorPtr keep;
                                          const TensorPtr& d = dense_ref(flat, keep);
                                          auto y = empty(d->shape, d->dt);
                                          launch({d.get(), y.get()}, [d = d.get(), y = y.get()] {
                                            vec::silu(d->dt, d->data(), y->data(), d->numel);
                                          });
                                          return y;
                                        });
  return recorded(OpCode::silu, a, out);
}
void Op_silu::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const TensorPtr x0 = n.unpack(0);
  if (g0->dt == DType::f64) {
    gin[0] = map2_new(g0, x0, [](auto dy, auto x) {
      using T = decltype(x);
      const T sig = T(1) / (T(1) + T(std::exp(-x)));
      return dy * sig * (T(1) + x * (T(1) - sig));
    });
    return;
  }
  TensorPtr kg, kx;
  const TensorPtr &g = dense_ref(g0, kg), &x = dense_ref(x0, kx);
  auto gx = empty(x->shape, x->dt);
  launch({g.get(), x.get(), gx.get()}, [g = g.get(), x = x.get(), gx = gx.get()] {
    vec::silu_grad(x->dt, g->data(), x->data(), gx->data(), x->numel);
  });
  gin[0] = gx;
}

TensorPtr op::softplus(const TensorPtr& a, double beta, double threshold) {
  floating_only(a, "softplus_cpu");
  TensorPtr out = map1_new(a, [beta, threshold](auto x) {
    using T = decltype(x);
    const T b = T(beta);
    return x * b > T(threshold) ? x : T(std::log1p(T(std::exp(x * b)))) / b;
  });
  return recorded(OpCode::softplus, a, out, beta, threshold);
}
void Op_softplus::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const double beta = n.s, threshold = n.s2;
  gin[0] = map2_new(g, n.unpack(0), [beta, threshold](auto gv, auto x) {
    using T = decltype(x);
    const T z = T(std::exp(x * T(beta)));
    return x * T(beta) > T(threshold) ? gv : gv * z / (z + T(1));
  });
}

// PyTorch's hardtanh is its clamp (integers too, in their own dtype).
TensorPtr op::hardtanh(const TensorPtr& a, const Scalar& lo, const Scalar& hi) {
  if (a->dt == DType::b8) throw NotImplemented("\"clamp_scalar_cpu\" not implemented for 'Bool'");
  TensorPtr out = clamp_values(a, lo, hi);
  if (!is_floating(a->dt)) return out;
  return recorded(OpCode::hardtanh, a, out, lo.as_double(), hi.as_double());
}
void Op_hardtanh::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  double lo = n.s, hi = n.s2;
  if (g->dt == DType::f16) {  // the bounds in the dtype
    lo = double(half_to_float(float_to_half(float(lo))));
    hi = double(half_to_float(float_to_half(float(hi))));
  }
  gin[0] = map2_new(g, n.unpack(0), [lo, hi](auto gv, auto x) {
    using T = decltype(x);
    return x > T(lo) && x < T(hi) ? gv : T(0);  // NaN: 0
  });
}

}  // namespace tg
