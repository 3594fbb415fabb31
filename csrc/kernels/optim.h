// Optimizer update kernels, written to round exactly where PyTorch's single-tensor SGD and Adam
// round: every tensor op of theirs is one float32 computation and one rounding here.
#pragma once
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
  bool maximize;
};
// `step` is the float32 0-d step count (PyTorch's state['step']): incremented, then used.
void adam_update(TensorImpl& p, const TensorImpl& g, TensorImpl& m, TensorImpl& v, TensorImpl& step,
                 const AdamOpts& o);

}  // namespace tg
