// Optimizer update kernels, written to round exactly where PyTorch's single-tensor SGD, Adam,
// AdamW, RMSprop and Adagrad round: every tensor op of theirs is one float32 (float64 for float64
// parameters) computation and one rounding here.
#pragma once
#include "core/cpu.h"
#include "core/tensor.h"

namespace tg {

struct SgdOpts {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
// Updates p (and the momentum buffer) in place; returns the buffer (created on the first
// momentum step) or null without momentum.
TensorPtr sgd_update(TensorImpl& p, const TensorImpl& g, TensorPtr buf, const SgdOpts& o);

struct AdamOpts {
  double lr, beta1, beta2, eps, weight_decay;
  bool maximize, decoupled;  // decoupled: AdamW's weight decay (p *= 1 - lr * weight_decay)
};
// `step` is the float32 0-d step count (PyTorch's state['step']): incremented, then used.
// `vmax` (amsgrad's max_exp_avg_sq) is null without amsgrad.
void adam_update(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v, TensorImpl* vmax,
                 TensorImpl& step, const AdamOpts& o);

struct RmspropOpts {
  double lr, alpha, eps, weight_decay, momentum;
  bool maximize;
};
// `gavg` (centered's grad_avg) and `buf` (the momentum buffer, momentum > 0) may be null.
void rmsprop_update(TensorImpl& p, const TensorImpl& g, TensorImpl& sq, TensorImpl* gavg,
                    TensorImpl* buf, TensorImpl& step, const RmspropOpts& o);

struct AdagradOpts {
  double lr, lr_decay, weight_decay, eps;
  bool maximize;
};
void adagrad_update(TensorImpl& p, const TensorImpl& g, TensorImpl& sum, TensorImpl& step,
                    const AdagradOpts& o);

}  // namespace tg

namespace tg::detail {
#if TG_HAVE_AVX2
// out[i] = s * x[i] + y[i] and out[i] = x[i] * y[i] + z[i], each rounded once (optim_avx2.cpp;
// only where cpu::simd()). out may alias any input.
void fma_scalar_avx2(float s, const float* x, const float* y, float* out, int64_t n);
void fma_scalar_avx2(double s, const double* x, const double* y, double* out, int64_t n);
void fma_arrays_avx2(const float* x, const float* y, const float* z, float* out, int64_t n);
void fma_arrays_avx2(const double* x, const double* y, const double* z, double* out, int64_t n);
#endif
}  // namespace tg::detail
