#include "optim.h"

#include <cmath>
#include <type_traits>

#include "kernels.h"

namespace tg {

namespace {
// PyTorch's float32 add/lerp/addcmul kernels fuse the multiply-add. a*b of two floats is exact in
// double, so this rounds once more only in ~2^-29 of cases, exactly as the NumPy reference does
// (backends/numpy_optim.py), keeping the two backends bit-identical.
inline float fused(float a, float b, float c) {
  return float(double(a) * double(b) + double(c));
}

void check_same(const TensorImpl& p, const TensorImpl& t, const char* what) {
  if (t.shape != p.shape || t.dt != p.dt)
    throw std::runtime_error(std::string("optimizer: ") + what + " of " + describe(t) +
                             " does not match the parameter's " + describe(p));
}
}  // namespace

// Every line below is one PyTorch tensor op: computed in float32, rounded to the parameter dtype
// (r). In float16, `a.add(b, alpha=s)` rounds alpha and the product to float16 (PyTorch's
// element-wise path); in float32 it is one fused multiply-add. backends/numpy_optim.py reads
// the same, line for line.
template <class T>
float add_alpha(float a, float b, double alpha) {
  if (std::is_same<T, float>::value) return fused(float(alpha), b, a);
  auto r = [](float x) { return to_f32(from_f32<T>(x)); };
  return r(a + r(r(float(alpha)) * b));
}

TensorPtr sgd_update(TensorImpl& p, const TensorImpl& g, TensorPtr buf, const SgdOpts& o) {
  check_same(p, g, "grad");
  if (buf) check_same(p, *buf, "momentum buffer");
  const bool first = o.momentum != 0 && !buf;
  if (first) buf = empty(p.shape, p.dt);
  dispatch(p.dt, [&](auto tag) {
    using T = decltype(tag);
    auto r = [](float x) { return to_f32(from_f32<T>(x)); };
    auto add = add_alpha<T>;
    const float mom = float(o.momentum);
    T* pp = p.as<T>();
    const T* gp = g.as<T>();
    T* bp = buf ? buf->as<T>() : nullptr;
    for (int64_t i = 0; i < p.numel; ++i) {
      float d = to_f32(gp[i]);
      if (o.maximize) d = -d;
      const float pv = to_f32(pp[i]);
      if (o.weight_decay != 0) d = add(d, pv, o.weight_decay);
      if (o.momentum != 0) {
        float b = first ? d : add(r(to_f32(bp[i]) * mom), d, 1.0 - o.dampening);
        bp[i] = from_f32<T>(b);
        d = o.nesterov ? add(d, b, o.momentum) : b;
      }
      pp[i] = from_f32<T>(add(pv, d, -o.lr));
    }
    return 0;
  });
  p.bump_version();
  if (buf) buf->bump_version();
  return buf;
}

void adam_update(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v, TensorImpl& step,
                 const AdamOpts& o) {
  check_same(p, g, "grad");
  check_same(p, m, "exp_avg");
  check_same(p, v, "exp_avg_sq");
  if (step.dt != DType::f32 || step.numel != 1)
    throw ValueError("adam_update: step must be a 1-element float32 tensor");
  float& count = step.as<float>()[0];
  count += 1.0f;
  step.bump_version();
  const double t = double(count);
  const double bc1 = 1.0 - std::pow(o.beta1, t);
  const double bc2 = 1.0 - std::pow(o.beta2, t);
  const float step_size = float(-(o.lr / bc1));
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float w = float(1.0 - o.beta1), b2 = float(o.beta2), one_m_b2 = float(1.0 - o.beta2);
  dispatch(p.dt, [&](auto tag) {
    using T = decltype(tag);
    auto r = [](float x) { return to_f32(from_f32<T>(x)); };
    auto add = add_alpha<T>;
    const float eps = r(float(o.eps));
    T* pp = p.as<T>();
    const T* gp = g.as<T>();
    T* mp = m.as<T>();
    T* vp = v.as<T>();
    for (int64_t i = 0; i < p.numel; ++i) {
      const float pv = to_f32(pp[i]);
      float d = to_f32(gp[i]);
      if (o.maximize) d = -d;
      if (o.weight_decay != 0) d = add(d, pv, o.weight_decay);
      float mv = to_f32(mp[i]);
      mv = std::fabs(w) < 0.5f ? r(fused(w, d - mv, mv)) : r(fused(w - 1.0f, d - mv, d));  // lerp_
      float vv = r(to_f32(vp[i]) * b2);
      vv = r(fused(one_m_b2 * d, d, vv));  // addcmul_
      float den = r(std::sqrt(vv));
      den = r(den / bc2_sqrt);
      den = r(den + eps);
      mp[i] = from_f32<T>(mv);
      vp[i] = from_f32<T>(vv);
      pp[i] = from_f32<T>((pv + (step_size * mv) / den));  // addcdiv_
    }
    return 0;
  });
  p.bump_version();
  m.bump_version();
  v.bump_version();
}

}  // namespace tg
