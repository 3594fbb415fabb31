// The view ops: results that share their input's storage, with other sizes, strides and offset.
// Each is one geometry transform, applied twice: to the input's storage geometry (the view
// itself) and to its logical, contiguous geometry (where the view's elements sit in the input,
// which is what backward needs). reshape is here too: a view when the strides allow, else a copy.
#include <string>

#include "autograd/capture.h"
#include "autograd/views.h"
#include "kernels/kernels.h"
#include "ops/ops.h"

namespace tg {

namespace {

std::string dims_str(const Shape& s) {  // PyTorch prints sizes as [2, 3]
  std::string r = "[";
  for (int i = 0; i < s.n; ++i)
    r += (i ? ", " : "") + std::to_string(s.d[i]);
  return r + "]";
}

template <class F>
TensorPtr make_view(OpCode op, const TensorPtr& a, F transform) {
  const Geom g = transform(Geom{a->shape, a->strides, a->offset});
  auto out = alias(*a);
  out->shape = g.sizes;
  out->strides = g.strides;
  out->offset = g.offset;
  out->numel = g.sizes.numel();
  mark_view(*out, *a);
  if (Node* n = record(op, out, {a.get()})) {
    const Geom lg = transform(Geom{a->shape, contiguous_strides(a->shape), 0});
    n->a2 = lg.strides;
    n->s = double(lg.offset);
  }
  return out;
}

// PyTorch's rule for viewing (sizes, strides) as `shape` without a copy: each run of dims that is
// contiguous in memory must be split or merged as a whole. False if it cannot be done.
bool view_strides(const Shape& sizes, const Shape& strides, const Shape& shape, Shape& out) {
  out = Shape();
  out.n = shape.n;
  if (sizes.numel() == 0 || sizes.n == 0) {  // nothing, or one element: any layout will do
    out = contiguous_strides(shape);
    return true;
  }
  int view_d = shape.n - 1;
  int64_t chunk_numel = 1;
  int64_t chunk_base = sizes.n ? strides.d[sizes.n - 1] : 1;
  for (int d = sizes.n - 1; d >= 0; --d) {
    chunk_numel *= sizes.d[d];
    if (d == 0 || (sizes.d[d - 1] != 1 && strides.d[d - 1] != chunk_numel * chunk_base)) {
      int64_t view_numel = 1;
      while (view_d >= 0 && (view_numel < chunk_numel || shape.d[view_d] == 1)) {
        out.d[view_d] = view_numel * chunk_base;
        view_numel *= shape.d[view_d];
        --view_d;
      }
      if (view_numel != chunk_numel) return false;
      if (d > 0) {
        chunk_base = strides.d[d - 1];
        chunk_numel = 1;
      }
    }
  }
  if (view_d != -1) return false;
  return true;
}

void check_numel(const TensorImpl& a, const Shape& shape) {
  if (shape.numel() != a.numel)
    throw std::runtime_error("shape '" + dims_str(shape) + "' is invalid for input of size " +
                             std::to_string(a.numel));
}

}  // namespace

// ---------------------------------------------------------------- view / reshape
TensorPtr op::view(const TensorPtr& a, const Shape& shape) {
  check_numel(*a, shape);
  Shape st;
  if (!view_strides(a->shape, a->strides, shape, st))
    throw std::runtime_error(
        "view size is not compatible with input tensor's size and stride (at least one dimension "
        "spans across two contiguous subspaces). Use .reshape(...) instead.");
  return make_view(OpCode::view, a, [&](Geom g) {
    Shape s;
    view_strides(g.sizes, g.strides, shape, s);
    return Geom{shape, s, g.offset};
  });
}
void Op_view::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = alias(*g, n.in_shape[0]);
}

TensorPtr op::reshape(const TensorPtr& a, const Shape& shape) {
  check_numel(*a, shape);
  Shape st;
  if (view_strides(a->shape, a->strides, shape, st)) {
    return make_view(OpCode::reshape, a, [&](Geom g) {
      Shape s;
      view_strides(g.sizes, g.strides, shape, s);
      return Geom{shape, s, g.offset};
    });
  }
  auto out = alias(*copy_of(*a), shape);  // as PyTorch: a copy, not a view of a
  if (Node* n = record(OpCode::reshape, out, {a.get()})) n->i1 = 1;  // UnsafeViewBackward0
  return out;
}
void Op_reshape::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = alias(*g, n.in_shape[0]);
}

// ---------------------------------------------------------------- permute / transpose / t
TensorPtr op::permute(const TensorPtr& a, const Shape& perm) {
  if (perm.n != a->shape.n) throw std::runtime_error("permute: wrong number of dims");
  unsigned seen = 0;
  for (int i = 0; i < perm.n; ++i) {
    const int64_t d = perm.d[i];
    if (d < 0 || d >= perm.n || (seen & (1u << d)))
      throw std::runtime_error("permute(): invalid dims " + perm.str());
    seen |= 1u << d;
  }
  return make_view(OpCode::permute, a, [&](Geom g) {
    Geom r{g.sizes, g.strides, g.offset};
    for (int i = 0; i < perm.n; ++i) {
      r.sizes.d[i] = g.sizes.d[perm.d[i]];
      r.strides.d[i] = g.strides.d[perm.d[i]];
    }
    return r;
  });
}

namespace {
Geom swap_dims(Geom g, int64_t d0, int64_t d1) {
  std::swap(g.sizes.d[d0], g.sizes.d[d1]);
  std::swap(g.strides.d[d0], g.strides.d[d1]);
  return g;
}
void check_dim(const TensorImpl& a, int64_t d, int extra = 0) {
  if (d < 0 || d >= a.shape.n + extra)
    throw IndexError("Dimension out of range (got " + std::to_string(d) + ")");
}
}  // namespace

TensorPtr op::transpose(const TensorPtr& a, int64_t d0, int64_t d1) {
  if (a->shape.n == 0 && d0 == 0 && d1 == 0)  // a 0-d tensor transposes to itself
    return make_view(OpCode::transpose, a, [](Geom g) { return g; });
  check_dim(*a, d0);
  check_dim(*a, d1);
  return make_view(OpCode::transpose, a, [&](Geom g) { return swap_dims(g, d0, d1); });
}

TensorPtr op::t(const TensorPtr& a) {
  if (a->shape.n > 2)
    throw std::runtime_error("t() expects a tensor with <= 2 dimensions, but self is " +
                             std::to_string(a->shape.n) + "D");
  return make_view(OpCode::t, a, [&](Geom g) { return g.sizes.n == 2 ? swap_dims(g, 0, 1) : g; });
}

// ---------------------------------------------------------------- select / slice
TensorPtr op::select(const TensorPtr& a, int64_t dim, int64_t index) {
  check_dim(*a, dim);
  if (index < 0 || index >= a->shape.d[dim])
    throw IndexError("index " + std::to_string(index) + " is out of bounds for dimension " +
                     std::to_string(dim) + " with size " + std::to_string(a->shape.d[dim]));
  return make_view(OpCode::select, a, [&](Geom g) {
    Geom r{Shape(), Shape(), g.offset + index * g.strides.d[dim]};
    for (int i = 0; i < g.sizes.n; ++i) {
      if (i == dim) continue;
      r.sizes.push(g.sizes.d[i]);
      r.strides.push(g.strides.d[i]);
    }
    return r;
  });
}

TensorPtr op::slice(const TensorPtr& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  check_dim(*a, dim);
  const int64_t size = a->shape.d[dim];
  if (step <= 0) throw std::runtime_error("slice step must be positive");
  if (start < 0 || end > size || start > size)
    throw IndexError("slice [" + std::to_string(start) + ":" + std::to_string(end) +
                     "] out of range for dimension " + std::to_string(dim) + " of size " +
                     std::to_string(size));
  const int64_t len = end > start ? (end - start + step - 1) / step : 0;
  return make_view(OpCode::slice, a, [&](Geom g) {
    g.offset += start * g.strides.d[dim];
    g.sizes.d[dim] = len;
    g.strides.d[dim] *= step;
    return g;
  });
}

// ---------------------------------------------------------------- unsqueeze / squeeze
TensorPtr op::unsqueeze(const TensorPtr& a, int64_t dim) {
  check_dim(*a, dim, 1);
  return make_view(OpCode::unsqueeze, a, [&](Geom g) {
    Geom r{Shape(), Shape(), g.offset};
    for (int i = 0; i <= g.sizes.n; ++i) {
      if (i == dim)  // the stride PyTorch gives a new size-1 dim
        r.strides.push(i < g.sizes.n ? g.sizes.d[i] * g.strides.d[i] : 1), r.sizes.push(1);
      if (i < g.sizes.n) {
        r.sizes.push(g.sizes.d[i]);
        r.strides.push(g.strides.d[i]);
      }
    }
    return r;
  });
}

TensorPtr op::squeeze(const TensorPtr& a, const std::optional<Shape>& dims) {
  unsigned drop = 0;
  if (!dims) {
    for (int i = 0; i < a->shape.n; ++i)
      if (a->shape.d[i] == 1) drop |= 1u << i;
  } else {
    for (int i = 0; i < dims->n; ++i) {
      if (a->shape.n == 0 && dims->d[i] == 0) continue;
      check_dim(*a, dims->d[i]);
      if (a->shape.d[dims->d[i]] == 1) drop |= 1u << dims->d[i];
    }
  }
  auto out = make_view(OpCode::squeeze, a, [&](Geom g) {
    Geom r{Shape(), Shape(), g.offset};
    for (int i = 0; i < g.sizes.n; ++i) {
      if (drop & (1u << i)) continue;
      r.sizes.push(g.sizes.d[i]);
      r.strides.push(g.strides.d[i]);
    }
    return r;
  });
  return out;
}

// ---------------------------------------------------------------- expand / as_strided
TensorPtr op::expand(const TensorPtr& a, const Shape& sizes) {
  const Shape& s = a->shape;
  if (sizes.n < s.n)
    throw std::runtime_error("expand(" + std::string(dtype_name(a->dt)) + "{" +
                             dims_str(s).substr(1, dims_str(s).size() - 2) +
                             "}, size=" + dims_str(sizes) + "): the number of sizes provided (" +
                             std::to_string(sizes.n) +
                             ") must be greater or equal to the number of dimensions in the "
                             "tensor (" +
                             std::to_string(s.n) + ")");
  const int lead = sizes.n - s.n;
  for (int i = 0; i < s.n; ++i)
    if (s.d[i] != 1 && s.d[i] != sizes.d[lead + i])
      throw std::runtime_error(
          "The expanded size of the tensor (" + std::to_string(sizes.d[lead + i]) +
          ") must match the existing size (" + std::to_string(s.d[i]) +
          ") at non-singleton dimension " + std::to_string(lead + i) +
          ".  Target sizes: " + dims_str(sizes) + ".  Tensor sizes: " + dims_str(s));
  return make_view(OpCode::expand, a, [&](Geom g) {
    // PyTorch's geometry: a repeated dim has stride 0; a new dim that stays of size 1 gets the
    // stride a contiguous tensor would give it.
    Geom r{sizes, Shape(), g.offset};
    r.strides.n = sizes.n;
    for (int i = sizes.n - 1; i >= 0; --i) {
      const int k = i - lead;
      const int64_t size = k >= 0 ? g.sizes.d[k] : 1;
      int64_t stride =
          k >= 0 ? g.strides.d[k] : (i == sizes.n - 1 ? 1 : sizes.d[i + 1] * r.strides.d[i + 1]);
      if (size != sizes.d[i]) stride = 0;
      r.strides.d[i] = stride;
    }
    return r;
  });
}

TensorPtr op::as_strided(const TensorPtr& a, const Shape& sizes, const Shape& strides,
                         int64_t offset) {
  if (!a->is_contiguous())
    throw std::runtime_error("as_strided: tapegrad needs a contiguous input");
  if (sizes.n != strides.n) throw std::runtime_error("mismatch in length of strides and shape");
  int64_t last = offset;
  for (int i = 0; i < sizes.n; ++i)
    if (sizes.d[i] > 0) last += (sizes.d[i] - 1) * strides.d[i];
  const int64_t cap = int64_t(a->st->nbytes / itemsize(a->dt));
  if (offset < 0 || (sizes.numel() > 0 && last >= cap))
    throw std::runtime_error("setStorage: sizes " + dims_str(sizes) + ", strides " +
                             dims_str(strides) + ", storage offset " + std::to_string(offset) +
                             " requiring a storage size beyond the storage of " +
                             std::to_string(cap) + " elements is out of bounds");
  const int64_t base = a->offset;
  return make_view(OpCode::as_strided, a, [&](Geom g) {
    return Geom{sizes, strides, offset - base + g.offset};  // storage-relative, as PyTorch's
  });
}

// Every view op but view and reshape: the gradient scattered back to the input's places.
#define TG_VIEW_BACKWARD(name)                                            \
  void Op_##name::backward(Node& n, const TensorPtr& g, TensorPtr* gin) { \
    gin[0] = scatter_back(n, g, OpCode::name == OpCode::as_strided);      \
  }
TG_VIEW_BACKWARD(permute)
TG_VIEW_BACKWARD(transpose)
TG_VIEW_BACKWARD(t)
TG_VIEW_BACKWARD(select)
TG_VIEW_BACKWARD(slice)
TG_VIEW_BACKWARD(unsqueeze)
TG_VIEW_BACKWARD(squeeze)
TG_VIEW_BACKWARD(as_strided)
#undef TG_VIEW_BACKWARD

// expand's gradient is a sum over the expanded dims, in the reduction's order (PyTorch's sum_to),
// not a sequence of additions into one place.
void Op_expand::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = sum_to(dense(g), n.in_shape[0]);
}

}  // namespace tg
