#include "kernels/optim.h"

#include <cmath>
#include <type_traits>

#include "core/threads.h"
#include "kernels/kernels.h"

namespace tg {

namespace {
// PyTorch's float32 add/lerp/addcmul kernels fuse the multiply-add. a*b of two floats is exact in
// double, so this rounds once more only in ~2^-29 of cases, exactly as the NumPy reference does
// (backends/numpy_ref/optim.py), keeping the two backends bit-identical.
inline float fused(float a, float b, float c) {
  return float(double(a) * double(b) + double(c));
}

void check_same(const TensorImpl& p, const TensorImpl& t, const char* what) {
  if (t.shape != p.shape || t.dt != p.dt)
    throw std::runtime_error(std::string("optimizer: ") + what + " of " + describe(t) +
                             " does not match the parameter's " + describe(p));
}
}  // namespace

// Every step below is one PyTorch tensor op: computed in float32 and rounded to the parameter
// dtype (R). In float16, `a.add(b, alpha=s)` rounds alpha and the product to float16 (PyTorch's
// element-wise path); in float32 it is one fused multiply-add. backends/numpy_ref/optim.py reads
// the same, step for step. The work goes block by block so float16 loads, stores and roundings
// use the vector conversions.
namespace {
constexpr int64_t kB = 256;

struct Block {
  DType dt;
  int64_t i0, m;
  void load(const TensorImpl& t, float* dst) const {
    if (dt == DType::f32)
      std::memcpy(dst, t.as<float>() + i0, size_t(m) * 4);
    else
      widen_block(t.as<uint16_t>() + i0, dst, m);
  }
  void store(const float* src, TensorImpl& t) const {
    if (dt == DType::f32)
      std::memcpy(t.as<float>() + i0, src, size_t(m) * 4);
    else
      narrow_block(src, t.as<uint16_t>() + i0, m);
  }
  void round(float* x) const {  // to the dtype and back (nothing to do for float32)
    if (dt == DType::f32) return;
    uint16_t tmp[kB];
    narrow_block(x, tmp, m);
    widen_block(tmp, x, m);
  }
  // a <- a + alpha * b, as PyTorch's add(b, alpha=alpha) on this dtype.
  void add(float* a, const float* b, double alpha) const {
    if (dt == DType::f32) {
      const float s = float(alpha);
      for (int64_t i = 0; i < m; ++i)
        a[i] = fused(s, b[i], a[i]);
      return;
    }
    float t[kB];
    const float s = round_f16(float(alpha));
    for (int64_t i = 0; i < m; ++i)
      t[i] = s * b[i];
    round(t);
    for (int64_t i = 0; i < m; ++i)
      a[i] += t[i];
    round(a);
  }
};

// Big parameters are split across the thread pool; each block touches only its own elements.
template <class Fn>
void blocks(const TensorImpl& p, Fn fn) {
  const int64_t nb = (p.numel + kB - 1) / kB;
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      fn(Block{p.dt, b * kB, std::min(kB, p.numel - b * kB)});
  };
  if (p.numel >= (int64_t(1) << 16))
    parallel_for(nb, 64, run);
  else
    run(0, nb);
}
}  // namespace

TensorPtr sgd_update(TensorImpl& p, const TensorImpl& g, TensorPtr buf, const SgdOpts& o) {
  check_same(p, g, "grad");
  if (buf) check_same(p, *buf, "momentum buffer");
  const bool first = o.momentum != 0 && !buf;
  if (first) buf = empty(p.shape, p.dt);
  const float mom = float(o.momentum);
  blocks(p, [&](const Block& k) {
    float P[kB], D[kB], B[kB];
    k.load(p, P);
    k.load(g, D);
    if (o.maximize)
      for (int64_t i = 0; i < k.m; ++i)
        D[i] = -D[i];
    if (o.weight_decay != 0) k.add(D, P, o.weight_decay);
    if (o.momentum != 0) {
      if (first) {
        std::memcpy(B, D, size_t(k.m) * 4);
      } else {
        k.load(*buf, B);
        for (int64_t i = 0; i < k.m; ++i)
          B[i] *= mom;
        k.round(B);
        k.add(B, D, 1.0 - o.dampening);
      }
      k.store(B, *buf);
      if (o.nesterov)
        k.add(D, B, o.momentum);
      else
        std::memcpy(D, B, size_t(k.m) * 4);
    }
    k.add(P, D, -o.lr);
    k.store(P, p);
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
  const float eps = p.dt == DType::f16 ? round_f16(float(o.eps)) : float(o.eps);
  blocks(p, [&](const Block& k) {
    float P[kB], D[kB], M[kB], V[kB], E[kB];
    k.load(p, P);
    k.load(g, D);
    k.load(m, M);
    k.load(v, V);
    if (o.maximize)
      for (int64_t i = 0; i < k.m; ++i)
        D[i] = -D[i];
    if (o.weight_decay != 0) k.add(D, P, o.weight_decay);
    for (int64_t i = 0; i < k.m; ++i)  // lerp_(d, w), PyTorch's two-sided formula, fused
      M[i] = std::fabs(w) < 0.5f ? fused(w, D[i] - M[i], M[i]) : fused(w - 1.0f, D[i] - M[i], D[i]);
    k.round(M);
    for (int64_t i = 0; i < k.m; ++i)
      V[i] *= b2;  // mul_(beta2)
    k.round(V);
    for (int64_t i = 0; i < k.m; ++i)
      V[i] = fused(one_m_b2 * D[i], D[i], V[i]);  // addcmul_
    k.round(V);
    for (int64_t i = 0; i < k.m; ++i)
      E[i] = std::sqrt(V[i]);
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      E[i] /= bc2_sqrt;
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      E[i] += eps;
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      P[i] += (step_size * M[i]) / E[i];  // addcdiv_
    k.store(M, m);
    k.store(V, v);
    k.store(P, p);
  });
  p.bump_version();
  m.bump_version();
  v.bump_version();
}

}  // namespace tg
