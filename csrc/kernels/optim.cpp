#include "kernels/optim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/cpu.h"
#include "core/threads.h"
#include "kernels/kernels.h"

namespace tg {

namespace {
void check_same(const TensorImpl& p, const TensorImpl& t, const char* what) {
  if (t.shape != p.shape || t.dt != p.dt)
    throw std::runtime_error(std::string("optimizer: ") + what + " of " + describe(t) +
                             " does not match the parameter's " + describe(p));
}
}  // namespace

// Every step below is one PyTorch tensor op, computed in T (float32 for float16 and float32
// parameters, float64 for float64) and rounded to the parameter dtype where PyTorch stores it.
// PyTorch's AVX2 kernels are compiled with FMA contraction: add(b, alpha), lerp_ and addcmul_
// round once (fused) in the vector body and in the scalar tail alike, with one exception: a
// float16 add's tail (the last numel % 32 elements) runs in Half arithmetic, rounding alpha * b
// to float16 first. The fused steps use FMA instructions (optim_avx2.cpp). PyTorch's baseline
// kernels (ATEN_CPU_CAPABILITY=default) fuse nothing; the portable path (cpu::simd() off) follows
// those. backends/numpy_ref/optim.py reads the same (the AVX2 form), step by step.
// The work goes block by block so float16 loads, stores and roundings use the vector conversions.
namespace {
constexpr int64_t kB = 256;
constexpr int64_t kHalfChunk = 32;  // elements per float16 vector-loop iteration in PyTorch

template <class T>
struct Block {
  DType dt;
  int64_t i0, m;
  bool fuse;
  int64_t half_body;  // float16: elements [0, half_body) are in PyTorch's vector loop

  void load(const TensorImpl& t, T* dst) const {
    if constexpr (std::is_same_v<T, double>) {
      std::memcpy(dst, t.as<double>() + i0, size_t(m) * 8);
    } else if (dt == DType::f32) {
      std::memcpy(dst, t.as<float>() + i0, size_t(m) * 4);
    } else {
      widen_block(t.as<uint16_t>() + i0, dst, m);
    }
  }
  void store(const T* src, TensorImpl& t) const {
    if constexpr (std::is_same_v<T, double>) {
      std::memcpy(t.as<double>() + i0, src, size_t(m) * 8);
    } else if (dt == DType::f32) {
      std::memcpy(t.as<float>() + i0, src, size_t(m) * 4);
    } else {
      narrow_block(src, t.as<uint16_t>() + i0, m);
    }
  }
  void round(T* x) const {  // to the dtype and back (nothing to do for float32/64)
    if constexpr (std::is_same_v<T, float>) {
      if (dt != DType::f16) return;
      uint16_t tmp[kB];
      narrow_block(x, tmp, m);
      widen_block(tmp, x, m);
    }
  }
  // out = s * x + y, rounded once (reached only where cpu::simd(): the AVX2 kernels)
  void fma_s(T s, const T* x, const T* y, T* out, int64_t n) const {
#if TG_HAVE_AVX2
    detail::fma_scalar_avx2(s, x, y, out, n);
#else
    for (int64_t i = 0; i < n; ++i)
      out[i] = std::fma(s, x[i], y[i]);
#endif
  }
  // out = x * y + z, rounded once when fusing, else twice
  void mul_add(const T* x, const T* y, const T* z, T* out) const {
    if (fuse) {
#if TG_HAVE_AVX2
      detail::fma_arrays_avx2(x, y, z, out, m);
      return;
#endif
    }
    for (int64_t i = 0; i < m; ++i)
      out[i] = x[i] * y[i] + z[i];
  }
  // a <- a + alpha * b, as PyTorch's add(b, alpha=alpha) on this dtype. stored: a goes straight
  // to store(), which rounds it to float16 itself (rounding twice gives the same bits), so the
  // rounding here is skipped.
  void add(T* a, const T* b, double alpha, bool stored = false) const {
    if constexpr (std::is_same_v<T, float>) {
      if (dt == DType::f16) {
        const float s = round_f16(float(alpha));
        const int64_t body = fuse ? std::clamp(half_body - i0, int64_t(0), m) : 0;
        fma_s(s, b, a, a, body);
        for (int64_t i = body; i < m; ++i)
          a[i] = a[i] + round_f16(s * b[i]);
        if (!stored) round(a);
        return;
      }
    }
    const T s = T(alpha);
    if (fuse)
      fma_s(s, b, a, a, m);
    else
      for (int64_t i = 0; i < m; ++i)
        a[i] = a[i] + s * b[i];
  }
};

// Big parameters are split across the thread pool; each block touches only its own elements.
template <class T, class Fn>
void blocks(const TensorImpl& p, Fn fn) {
  const int64_t nb = (p.numel + kB - 1) / kB;
  const bool fuse = cpu::simd();
  const int64_t half_body = p.numel / kHalfChunk * kHalfChunk;
  auto run = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      fn(Block<T>{p.dt, b * kB, std::min(kB, p.numel - b * kB), fuse, half_body});
  };
  if (p.numel >= (int64_t(1) << 16))
    parallel_for(nb, 64, run);
  else
    run(0, nb);
}

void check_float(const TensorImpl& p) {
  if (p.dt != DType::f32 && p.dt != DType::f16 && p.dt != DType::f64)
    throw ValueError("optimizer: parameters must be float16, float32 or float64, not " +
                     describe(p));
}

template <class T>
void sgd_blocks(TensorImpl& p, const TensorImpl& g, TensorImpl* buf, bool first, const SgdOpts& o) {
  const T mom = T(o.momentum);
  blocks<T>(p, [&](const Block<T>& k) {
    T P[kB], D[kB], B[kB];
    k.load(p, P);
    k.load(g, D);
    if (o.maximize)
      for (int64_t i = 0; i < k.m; ++i)
        D[i] = -D[i];
    if (o.weight_decay != 0) k.add(D, P, o.weight_decay);
    if (buf) {
      if (first) {
        std::memcpy(B, D, sizeof(T) * size_t(k.m));
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
        std::memcpy(D, B, sizeof(T) * size_t(k.m));
    }
    k.add(P, D, -o.lr, true);
    k.store(P, p);
  });
}

// sgd_blocks for float32 parameters, reading and writing the tensors in place: the same
// operations in the same order, without copying each block in and out (a quarter of a small
// MLP's step went to those copies). The gradient is copied only where it is changed.
void sgd_f32(TensorImpl& p, const TensorImpl& g, TensorImpl* buf, bool first, const SgdOpts& o) {
  const float mom = float(o.momentum);
  blocks<float>(p, [&](const Block<float>& k) {
    float* P = p.as<float>() + k.i0;
    const float* D = g.as<float>() + k.i0;
    float Dt[kB];
    if (o.maximize || o.weight_decay != 0) {
      for (int64_t i = 0; i < k.m; ++i)
        Dt[i] = o.maximize ? -D[i] : D[i];
      if (o.weight_decay != 0) k.add(Dt, P, o.weight_decay);
      D = Dt;
    }
    if (buf) {
      float* B = buf->as<float>() + k.i0;
      if (first) {
        std::memcpy(B, D, sizeof(float) * size_t(k.m));
      } else {
        for (int64_t i = 0; i < k.m; ++i)
          B[i] *= mom;
        k.add(B, D, 1.0 - o.dampening);
      }
      if (o.nesterov) {
        if (D != Dt) std::memcpy(Dt, D, sizeof(float) * size_t(k.m));
        k.add(Dt, B, o.momentum);
        D = Dt;
      } else {
        D = B;
      }
    }
    k.add(P, D, -o.lr);
  });
}

struct AdamScalars {
  double step_size, bc2_sqrt, eps;
};

// add_(eps) takes the scalar in the tensor's dtype (float16 rounds 1e-8 to 0)
template <class T>
T eps_scalar(const TensorImpl& p, double eps) {
  return p.dt == DType::f16 ? T(round_f16(float(eps))) : T(eps);
}

// M <- M.lerp_(D, w), PyTorch's two-sided formula: M + w (D - M), or D + (w - 1)(D - M) for
// weights of 0.5 and more. E is scratch.
template <class T>
void lerp(const Block<T>& k, T* M, const T* D, T w, T* E) {
  const bool small = std::fabs(w) < T(0.5);
  for (int64_t i = 0; i < k.m; ++i)
    E[i] = D[i] - M[i];
  if (k.fuse)
    k.fma_s(small ? w : w - T(1), E, small ? M : D, M, k.m);
  else if (small)
    for (int64_t i = 0; i < k.m; ++i)
      M[i] = M[i] + w * E[i];
  else
    for (int64_t i = 0; i < k.m; ++i)
      M[i] = D[i] - E[i] * (T(1) - w);
  k.round(M);
}

// out = A.addcmul(X, Y, value): (value * X) * Y + A, the last two fused where PyTorch's AVX2
// kernel fuses them. E is scratch; out may be A.
template <class T>
void addcmul(const Block<T>& k, const T* A, const T* X, const T* Y, T value, T* E, T* out) {
  for (int64_t i = 0; i < k.m; ++i)
    E[i] = value * X[i];
  k.mul_add(E, Y, A, out);
  k.round(out);
}

// E = sqrt(S).add_(eps), rounded where PyTorch stores each result
template <class T>
void sqrt_eps(const Block<T>& k, const T* S, T eps, T* E) {
  for (int64_t i = 0; i < k.m; ++i)
    E[i] = std::sqrt(S[i]);
  k.round(E);
  for (int64_t i = 0; i < k.m; ++i)
    E[i] += eps;
  k.round(E);
}

// the gradient as the update uses it: negated for maximize, plus weight_decay * p (coupled)
template <class T>
void grad_in(const Block<T>& k, const TensorImpl& g, const T* P, bool maximize, double wd, T* D) {
  k.load(g, D);
  if (maximize)
    for (int64_t i = 0; i < k.m; ++i)
      D[i] = -D[i];
  if (wd != 0) k.add(D, P, wd);
}

template <class T>
void scale(const Block<T>& k, T* X, T s) {  // mul_(s)
  for (int64_t i = 0; i < k.m; ++i)
    X[i] *= s;
  k.round(X);
}

template <class T>
void adam_blocks(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v, TensorImpl* vmax,
                 const AdamOpts& o, const AdamScalars& s) {
  const T step_size = T(-s.step_size), bc2_sqrt = T(s.bc2_sqrt);
  const T w = T(1.0 - o.beta1), b2 = T(o.beta2), one_m_b2 = T(1.0 - o.beta2);
  const T decay = T(1.0 - o.lr * o.weight_decay);
  const T eps = eps_scalar<T>(p, s.eps);
  blocks<T>(p, [&](const Block<T>& k) {
    T P[kB], D[kB], M[kB], V[kB], E[kB];
    k.load(p, P);
    grad_in(k, g, P, o.maximize, o.decoupled ? 0.0 : o.weight_decay, D);
    if (o.decoupled && o.weight_decay != 0) scale(k, P, decay);
    k.load(m, M);
    k.load(v, V);
    lerp(k, M, D, w, E);
    scale(k, V, b2);
    addcmul(k, V, D, D, one_m_b2, E, V);
    if (vmax) {  // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
      k.load(*vmax, E);
      for (int64_t i = 0; i < k.m; ++i)
        E[i] = std::isnan(E[i]) || E[i] >= V[i] ? E[i] : V[i];
      k.store(E, *vmax);
      for (int64_t i = 0; i < k.m; ++i)
        E[i] = std::sqrt(E[i]);
    } else {
      for (int64_t i = 0; i < k.m; ++i)
        E[i] = std::sqrt(V[i]);
    }
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      E[i] /= bc2_sqrt;
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      E[i] += eps;
    k.round(E);
    for (int64_t i = 0; i < k.m; ++i)
      P[i] += (step_size * M[i]) / E[i];  // addcdiv_ (a division does not fuse)
    k.store(M, m);
    k.store(V, v);
    k.store(P, p);
  });
}

template <class T>
void rmsprop_blocks(TensorImpl& p, const TensorImpl& g, TensorImpl& sq, TensorImpl* gavg,
                    TensorImpl* buf, const RmspropOpts& o) {
  const T alpha = T(o.alpha), w = T(1.0 - o.alpha), mom = T(o.momentum), neg_lr = T(-o.lr);
  const T eps = eps_scalar<T>(p, o.eps);
  blocks<T>(p, [&](const Block<T>& k) {
    T P[kB], D[kB], S[kB], A[kB], E[kB];
    k.load(p, P);
    grad_in(k, g, P, o.maximize, o.weight_decay, D);
    k.load(sq, S);
    scale(k, S, alpha);
    addcmul(k, S, D, D, w, E, S);
    k.store(S, sq);
    if (gavg) {  // centered: avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
      T G[kB];
      k.load(*gavg, G);
      lerp(k, G, D, w, E);
      k.store(G, *gavg);
      addcmul(k, S, G, G, T(-1), E, A);
      sqrt_eps(k, A, eps, A);
    } else {
      sqrt_eps(k, S, eps, A);
    }
    if (buf) {  // buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
      T B[kB];
      k.load(*buf, B);
      scale(k, B, mom);
      for (int64_t i = 0; i < k.m; ++i)
        B[i] += D[i] / A[i];
      k.round(B);
      k.store(B, *buf);
      k.add(P, B, -o.lr);
    } else {
      for (int64_t i = 0; i < k.m; ++i)
        P[i] += (neg_lr * D[i]) / A[i];  // addcdiv_(grad, avg, value=-lr)
    }
    k.store(P, p);
  });
}

template <class T>
void adagrad_blocks(TensorImpl& p, const TensorImpl& g, TensorImpl& sum, const AdagradOpts& o,
                    double clr) {
  const T neg_clr = T(-clr), eps = eps_scalar<T>(p, o.eps);
  blocks<T>(p, [&](const Block<T>& k) {
    T P[kB], D[kB], S[kB], E[kB];
    k.load(p, P);
    grad_in(k, g, P, o.maximize, o.weight_decay, D);
    k.load(sum, S);
    addcmul(k, S, D, D, T(1), E, S);
    k.store(S, sum);
    sqrt_eps(k, S, eps, E);
    for (int64_t i = 0; i < k.m; ++i)
      P[i] += (neg_clr * D[i]) / E[i];  // addcdiv_(grad, std, value=-clr)
    k.store(P, p);
  });
}

// The float32 0-d step count (PyTorch's state['step']), incremented; returns the new count.
double count_step(TensorImpl& step, const char* who) {
  if (step.dt != DType::f32 || step.numel != 1)
    throw ValueError(std::string(who) + ": step must be a 1-element float32 tensor");
  float& count = step.as<float>()[0];
  count += 1.0f;
  step.bump_version();
  return double(count);
}
}  // namespace

TensorPtr sgd_update(TensorImpl& p, const TensorImpl& g, TensorPtr buf, const SgdOpts& o) {
  check_float(p);
  check_same(p, g, "grad");
  if (buf) check_same(p, *buf, "momentum buffer");
  const bool first = o.momentum != 0 && !buf;
  if (first) buf = empty(p.shape, p.dt);
  TensorImpl* b = o.momentum != 0 ? buf.get() : nullptr;
  if (p.dt == DType::f64)
    sgd_blocks<double>(p, g, b, first, o);
  else if (p.dt == DType::f32)
    sgd_f32(p, g, b, first, o);
  else
    sgd_blocks<float>(p, g, b, first, o);
  p.bump_version();
  if (buf) buf->bump_version();
  return buf;
}

void adam_update(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v, TensorImpl* vmax,
                 TensorImpl& step, const AdamOpts& o) {
  check_float(p);
  check_same(p, g, "grad");
  check_same(p, m, "exp_avg");
  check_same(p, v, "exp_avg_sq");
  if (vmax) check_same(p, *vmax, "max_exp_avg_sq");
  const double t = count_step(step, "adam_update");
  // Python floats in PyTorch: bias_correction2 ** 0.5 is pow, not sqrt
  const double bc1 = 1.0 - std::pow(o.beta1, t);
  const double bc2 = 1.0 - std::pow(o.beta2, t);
  const AdamScalars s{o.lr / bc1, std::pow(bc2, 0.5), o.eps};
  if (p.dt == DType::f64)
    adam_blocks<double>(p, g, m, v, vmax, o, s);
  else
    adam_blocks<float>(p, g, m, v, vmax, o, s);
  p.bump_version();
  m.bump_version();
  v.bump_version();
  if (vmax) vmax->bump_version();
}

void rmsprop_update(TensorImpl& p, const TensorImpl& g, TensorImpl& sq, TensorImpl* gavg,
                    TensorImpl* buf, TensorImpl& step, const RmspropOpts& o) {
  check_float(p);
  check_same(p, g, "grad");
  check_same(p, sq, "square_avg");
  if (gavg) check_same(p, *gavg, "grad_avg");
  if (buf) check_same(p, *buf, "momentum_buffer");
  count_step(step, "rmsprop_update");
  if (p.dt == DType::f64)
    rmsprop_blocks<double>(p, g, sq, gavg, buf, o);
  else
    rmsprop_blocks<float>(p, g, sq, gavg, buf, o);
  for (TensorImpl* t : {&p, &sq, gavg, buf})
    if (t) t->bump_version();
}

void adagrad_update(TensorImpl& p, const TensorImpl& g, TensorImpl& sum, TensorImpl& step,
                    const AdagradOpts& o) {
  check_float(p);
  check_same(p, g, "grad");
  check_same(p, sum, "sum");
  const double t = count_step(step, "adagrad_update");
  const double clr = o.lr / (1 + (t - 1) * o.lr_decay);  // Python floats in PyTorch
  if (p.dt == DType::f64)
    adagrad_blocks<double>(p, g, sum, o, clr);
  else
    adagrad_blocks<float>(p, g, sum, o, clr);
  p.bump_version();
  sum.bump_version();
}

}  // namespace tg
