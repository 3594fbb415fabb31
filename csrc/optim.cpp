#include "optim.h"

#include <cmath>

#include "kernels.h"

namespace tg {

namespace {
void check_same(const TensorImpl& p, const TensorImpl& t, const char* what) {
  if (t.shape != p.shape || t.dt != p.dt)
    throw std::runtime_error(std::string("optimizer: ") + what + " of " + describe(t) +
                             " does not match the parameter's " + describe(p));
}
}  // namespace

TensorPtr sgd_update(TensorImpl& p, const TensorImpl& g, TensorPtr buf, const SgdOpts& o) {
  check_same(p, g, "grad");
  if (buf) check_same(p, *buf, "momentum buffer");
  const bool first = o.momentum != 0 && !buf;
  if (first) buf = empty(p.shape, p.dt);
  const float wd = float(o.weight_decay), mom = float(o.momentum);
  const float keep = float(1.0 - o.dampening), neg_lr = float(-o.lr);
  dispatch(p.dt, [&](auto tag) {
    using T = decltype(tag);
    auto r = [](float x) { return to_f32(from_f32<T>(x)); };  // round to the parameter dtype
    T* pp = p.as<T>();
    const T* gp = g.as<T>();
    T* bp = buf ? buf->as<T>() : nullptr;
    for (int64_t i = 0; i < p.numel; ++i) {
      float d = to_f32(gp[i]);
      if (o.maximize) d = -d;
      float pv = to_f32(pp[i]);
      if (wd != 0) d = r(d + wd * pv);
      if (mom != 0) {
        float b = first ? d : r(r(to_f32(bp[i]) * mom) + keep * d);
        bp[i] = from_f32<T>(b);
        d = o.nesterov ? r(d + mom * b) : b;
      }
      pp[i] = from_f32<T>(pv + neg_lr * d);
    }
    return 0;
  });
  p.bump_version();
  if (buf) buf->bump_version();
  return buf;
}

void adam_update(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v,
                 const AdamOpts& o) {
  check_same(p, g, "grad");
  check_same(p, m, "exp_avg");
  check_same(p, v, "exp_avg_sq");
  const double bc1 = 1.0 - std::pow(o.beta1, double(o.step));
  const double bc2 = 1.0 - std::pow(o.beta2, double(o.step));
  const float step_size = float(-(o.lr / bc1));
  const float bc2_sqrt = float(std::sqrt(bc2));
  const float w = float(1.0 - o.beta1), b2 = float(o.beta2), one_m_b2 = float(1.0 - o.beta2);
  const float eps = float(o.eps), wd = float(o.weight_decay);
  dispatch(p.dt, [&](auto tag) {
    using T = decltype(tag);
    auto r = [](float x) { return to_f32(from_f32<T>(x)); };
    T* pp = p.as<T>();
    const T* gp = g.as<T>();
    T* mp = m.as<T>();
    T* vp = v.as<T>();
    for (int64_t i = 0; i < p.numel; ++i) {
      float pv = to_f32(pp[i]);
      float gv = to_f32(gp[i]);
      if (o.maximize) gv = -gv;
      if (wd != 0) gv = r(gv + wd * pv);
      float mv = to_f32(mp[i]);
      mv = r(w < 0.5f ? mv + w * (gv - mv) : gv - (gv - mv) * (1.0f - w));  // lerp_
      float vv = r(to_f32(vp[i]) * b2);
      vv = r(vv + one_m_b2 * gv * gv);  // addcmul_
      float den = r(r(r(std::sqrt(vv)) / bc2_sqrt) + eps);
      mp[i] = from_f32<T>(mv);
      vp[i] = from_f32<T>(vv);
      pp[i] = from_f32<T>(pv + step_size * mv / den);  // addcdiv_
    }
    return 0;
  });
  p.bump_version();
  m.bump_version();
  v.bump_version();
}

}  // namespace tg
