// Views and the tape (docs/design.md, Tensors and the tape). A view remembers its base; an
// in-place change of a view rewrites the base's history (CopySlices, as PyTorch), and a view whose
// storage changed since its grad_fn was made gets a new one over the base's current history.
#pragma once
#include "autograd/autograd.h"

namespace tg {

// Where a view's elements sit: sizes, element strides and offset (of a storage, or relative to
// another tensor's contiguous layout).
struct Geom {
  Shape sizes, strides;
  int64_t offset = 0;
};

// `v` (just made over a's storage) is a view: remember a's base.
void mark_view(TensorImpl& v, const TensorImpl& a);

// Raises if t shares storage in a way autograd cannot follow for an in-place change.
void check_view_tracked(const TensorImpl& t);

// Called before a tensor's history is used: a view whose storage version moved since its grad_fn
// was made, over a base that requires grad, gets AsStridedBackward0 over the base's history.
void refresh_view_now(TensorImpl& t);
inline void refresh_view(TensorImpl& t) {
  if (t.view_base && t.view_version != t.st->version) refresh_view_now(t);
}

// After view v's values were overwritten by r's (r: null or without history for a constant):
// the base's history becomes CopySlices(base's previous history, r), v's history a view of it.
void rebase_view(TensorImpl& v, const TensorPtr& r);

// The gradient of a view op: zeros of the input's shape (n.in_shape[0]), g added at the view's
// places (sizes n.out_shape, strides n.a2, offset n.s, in the input's contiguous layout).
// overlapping: the view may name a place more than once (as_strided), so g is added, else copied.
TensorPtr scatter_back(const Node& n, const TensorPtr& g, bool overlapping = true);

}  // namespace tg
