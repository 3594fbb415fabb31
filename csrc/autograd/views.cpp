#include "autograd/views.h"

#include <algorithm>

#include "autograd/capture.h"
#include "kernels/kernels.h"

namespace tg {

namespace {

// A tensor over t's storage at the places n's view geometry names (see scatter_back).
TensorPtr at_view_places(const TensorImpl& t, const Node& n, const Shape& sizes) {
  TensorPtr v = alias(t);
  v->shape = sizes;
  v->strides = n.a2;
  v->offset = t.offset + int64_t(n.s);
  v->numel = sizes.numel();
  return v;
}

void as_strided_backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = scatter_back(n, g);
}

// Edges: the base's previous history, and r's (the values written into the view).
void copy_slices_backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const Shape& view_shape = n.in_shape[1];
  if (n.in_requires[0]) {
    TensorPtr rest = copy_of(*g);
    TensorPtr hole = at_view_places(*rest, n, view_shape);
    launch({hole.get()}, [h = hole.get()] { fill_value(*h, 0.0f); });
    gin[0] = rest;
  }
  if (n.in_requires[1]) gin[1] = dense(at_view_places(*g, n, view_shape));
}

// Regenerated views and user as_strided share this name; the op list's as_strided row is the op.
const OpInfo kAsStrided{"as_strided",        "AsStridedBackward0", nullptr, "view", 0,
                        &as_strided_backward};
const OpInfo kCopySlices{"copy_slices",        "CopySlices", nullptr, "internal", 0,
                         &copy_slices_backward};

NodePtr new_node(const OpInfo& op, const TensorImpl& out) {
  auto n = std::make_shared<Node>();
  n->seq = next_seq();
  n->op = &op;
  n->out_shape = out.shape;
  n->out_dt = out.dt;
  return n;
}

void set_input(Node& n, int i, const TensorImpl& t) {
  n.in_shape[i] = t.shape;
  n.in_dt[i] = t.dt;
  n.in_requires[i] = t.requires_grad;
  n.next[i] = edge_to(t);
}

// v's history as a view of its base's current history.
void view_of_base(TensorImpl& v) {
  TensorImpl& b = *v.view_base;
  NodePtr n = new_node(kAsStrided, v);
  set_input(*n, 0, b);
  n->n_in = 1;
  n->a2 = v.strides;
  n->s = double(v.offset - b.offset);
  v.grad_fn = n;
  v.requires_grad = true;
  v.view_version = v.st->version;
}

}  // namespace

TensorPtr scatter_back(const Node& n, const TensorPtr& g, bool overlapping) {
  auto out = zeros(n.in_shape[0], g->dt);
  TensorPtr at = at_view_places(*out, n, g->shape);
  // Places seen once take g's values as they are (a -0.0 stays -0.0, as PyTorch's copy).
  launch({g.get(), at.get()}, [g = g.get(), at = at.get(), overlapping] {
    if (overlapping)
      add_into(*at, *g);
    else
      convert_into(*g, *at);
  });
  return out;
}

void mark_view(TensorImpl& v, const TensorImpl& a) {
  // A base is contiguous, so a view's storage geometry is also its place in the base. A view of
  // a strided alias that is no view itself (a detached view) is not tracked: in-place changes of
  // it under autograd are refused (check_view_tracked).
  if (a.view_base)
    v.view_base = a.view_base;
  else if (a.is_contiguous())
    v.view_base = std::const_pointer_cast<TensorImpl>(a.shared_from_this());
  v.view_version = v.st->version;
}

void check_view_tracked(const TensorImpl& t) {
  if (!t.view_base && !t.is_contiguous())
    throw std::runtime_error(
        "tapegrad: an in-place operation that autograd must record on a view of a detached view "
        "is not supported; make a copy with .clone() first");
}

void refresh_view_now(TensorImpl& t) {
  t.view_version = t.st->version;
  if (t.view_base->requires_grad) view_of_base(t);
}

void rebase_view(TensorImpl& v, const TensorPtr& r) {
  TensorImpl& b = *v.view_base;
  NodePtr n = new_node(kCopySlices, b);
  set_input(*n, 0, b);
  n->n_in = 2;
  n->in_shape[1] = v.shape;
  n->in_dt[1] = v.dt;
  if (r) {
    n->in_requires[1] = r->requires_grad;
    n->next[1] = edge_to(*r);
  }
  n->a2 = v.strides;
  n->s = double(v.offset - b.offset);
  b.grad_fn = n;
  b.requires_grad = true;
  view_of_base(v);
}

}  // namespace tg
