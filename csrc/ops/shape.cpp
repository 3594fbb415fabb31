// cat/stack, repeat, and the ops that gather or scatter by full coordinates (take and put: what
// the Python front end reduces gather, index_select, masked_select, flip, roll, scatter and
// scatter_add to). Arguments arrive checked and normalised by the front end (_ops_shape.py).
#include <string>
#include <vector>

#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/typed.h"

namespace tg {

namespace {

// A tensor over t's storage with t's strides, narrowed along `dim` to [start, start + len).
TensorPtr narrow_alias(const TensorImpl& t, int dim, int64_t start, int64_t len) {
  auto v = alias(t);
  v->shape.d[dim] = len;
  v->offset += start * t.strides.d[dim];
  v->numel = v->shape.numel();
  return v;
}

// The same without dim (a stacked input's slice).
void drop_dim(TensorImpl& v, int dim) {
  for (int d = dim; d + 1 < v.shape.n; ++d) {
    v.shape.d[d] = v.shape.d[d + 1];
    v.strides.d[d] = v.strides.d[d + 1];
  }
  --v.shape.n;
  --v.strides.n;
}

// Per input of a cat node: a1 its length along the dim, a2 how its gradient leaves: 0 a
// contiguous slice, 1 the same without the dim (stack), 2 a strided slice (the part already
// concatenated by an earlier node of the chain; only nodes read it).
enum Part : int64_t { kSlice = 0, kStacked = 1, kChained = 2 };
}  // namespace

// ---------------------------------------------------------------- cat / stack
TensorPtr op::cat(const std::vector<TensorPtr>& ts, int64_t dim64, bool stack) {
  if (ts.empty()) throw std::logic_error("cat: no tensors");
  const int dim = int(dim64);
  Shape shape = ts[0]->shape;
  if (stack) {
    shape = Shape();
    for (int d = 0; d <= ts[0]->shape.n; ++d) {
      if (d == dim) shape.push(1);
      if (d < ts[0]->shape.n) shape.push(ts[0]->shape.d[d]);
    }
  }
  if (dim < 0 || dim >= shape.n) throw std::logic_error("cat: dim out of range");
  int64_t total = 0;
  for (const auto& t : ts) {
    if (t->dt != ts[0]->dt) throw std::logic_error("cat: mixed dtypes");
    total += stack ? 1 : t->shape.d[dim];
  }
  shape.d[dim] = total;
  auto out = empty(shape, ts[0]->dt);
  int64_t off = 0;
  for (const auto& t : ts) {
    const int64_t len = stack ? 1 : t->shape.d[dim];
    TensorPtr dst = narrow_alias(*out, dim, off, len);
    if (stack) drop_dim(*dst, dim);
    launch({t.get(), dst.get()}, [t = t.get(), dst = dst.get()] { convert_into(*t, *dst); });
    off += len;
  }
  // A node holds at most kMaxInputs inputs: longer lists record a chain whose first input is the
  // part concatenated so far (a tensor that exists only as a history).
  TensorPtr carry;
  int64_t carried = 0;
  size_t i = 0;
  do {
    const bool first = !carry;
    const size_t room = first ? kMaxInputs : kMaxInputs - 1;
    const size_t take = std::min(room, ts.size() - i);
    const bool last = i + take == ts.size();
    const TensorImpl* in[kMaxInputs] = {};
    int n_in = 0;
    Shape lens, parts;
    if (!first) {
      in[n_in++] = carry.get();
      lens.push(carried);
      parts.push(kChained);
    }
    int64_t len_here = 0;
    for (size_t j = 0; j < take; ++j) {
      const TensorPtr& t = ts[i + j];
      in[n_in++] = t.get();
      const int64_t len = stack ? 1 : t->shape.d[dim];
      lens.push(len);
      parts.push(stack ? kStacked : kSlice);
      len_here += len;
    }
    i += take;
    TensorPtr target = last ? out : narrow_alias(*out, dim, 0, carried + len_here);
    Node* n = record(OpCode::cat, target, {in[0], in[1], in[2]});
    if (n) {
      n->n_in = uint8_t(n_in);
      n->a1 = lens;
      n->a2 = parts;
      n->s = double(dim);
      n->i1 = stack;
    }
    carry = target;
    carried += len_here;
  } while (i < ts.size());
  return out;
}

void Op_cat::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const int dim = int(n.s);
  int64_t off = 0;
  for (int i = 0; i < n.n_in; ++i) {
    const int64_t len = n.a1.d[i];
    if (n.in_requires[i]) {
      TensorPtr v = narrow_alias(*g, dim, off, len);
      if (n.a2.d[i] == kStacked) drop_dim(*v, dim);
      gin[i] = n.a2.d[i] == kChained ? v : dense(v);
    }
    off += len;
  }
}

// ---------------------------------------------------------------- repeat
TensorPtr op::repeat(const TensorPtr& a, const TensorPtr& idx0, const Shape& repeats) {
  TensorPtr idx = dense(idx0);
  TensorPtr out = typed_index(a, idx);
  if (Node* n = record(OpCode::repeat, out, {a.get()})) n->a1 = repeats;
  return out;
}

// PyTorch's order: the leading new dims summed away one at a time, then one sum over the
// repeat dims of the gradient viewed as (repeat, size) pairs.
void Op_repeat::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const Shape& in = n.in_shape[0];
  const Shape& rep = n.a1;
  for (int d = 0; d < rep.n; ++d)
    if (rep.d[d] == 0) {
      gin[0] = zeros(in, g0->dt);
      return;
    }
  // g keeps its layout (a stride-0 gradient included): it is part of the sums' order.
  TensorPtr g = g0;
  const int lead = rep.n - in.n;
  for (int d = 0; d < lead; ++d)
    g = reduce(OpCode::sum, g, Shape{0}, false);
  Shape split, dims;
  for (int d = 0; d < in.n; ++d) {
    const int64_t r = rep.d[lead + d];
    if (r != 1) {
      split.push(r);
      dims.push(split.n - 1);
    }
    split.push(in.d[d]);
  }
  if (dims.n) g = reduce(OpCode::sum, op::reshape(g, split), dims, false);
  gin[0] = op::reshape(g, in);
}

// ---------------------------------------------------------------- take / put
namespace {
void check_coords(const TensorImpl& a, const TensorImpl& idx) {
  if (idx.dt != DType::i64 || idx.shape.n == 0 || a.shape.n == 0 ||
      idx.shape.d[idx.shape.n - 1] != a.shape.n)
    throw std::logic_error("take/put: idx must be int64 of shape B + (a.dim(),)");
}
}  // namespace

TensorPtr op::take(const TensorPtr& a, const TensorPtr& idx0, int64_t kind) {
  check_coords(*a, *idx0);
  TensorPtr idx = dense(idx0);
  TensorPtr out = typed_index(a, idx);
  if (Node* n = record(OpCode::take, out, {a.get()})) {
    n->save(1, *idx);
    n->i1 = int(kind);
  }
  return out;
}

namespace {
// `base` (converted to float32 for float16: PyTorch's scatter_add and index_add of a tensor of
// two or more dims add in float and round once) with v written or added at idx, in index order.
TensorPtr put_into(const TensorImpl& base, const TensorPtr& idx, const TensorPtr& v,
                   bool accumulate, bool in_float) {
  const bool wide = accumulate && in_float && base.dt == DType::f16;
  TensorPtr out = wide ? convert(base, DType::f32) : copy_of(base);
  TensorPtr vv = wide ? convert(*v, DType::f32) : v;
  launch({out.get(), idx.get(), vv.get()},
         [out = out.get(), idx = idx.get(), vv = vv.get(), accumulate] {
           typed_index_put(*out, *idx, *vv, accumulate);
         });
  return wide ? convert(*out, DType::f16) : out;
}
}  // namespace

// Where every place is taken at most once (flip, roll, masked_select) PyTorch copies the
// gradient back (a -0.0 stays -0.0); elsewhere it adds into zeros in index order: gather's as
// scatter_add, index_select's as index_add (TakeKind says where float16 rounds).
void Op_take::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const auto kind = TakeKind(n.i1);
  const bool unique =
      kind == TakeKind::flip || kind == TakeKind::roll || kind == TakeKind::masked_select;
  const bool in_float = kind != TakeKind::index_select_stepwise;
  gin[0] = put_into(*zeros(n.in_shape[0], g->dt), n.unpack(1), dense(g), !unique, in_float);
}

TensorPtr op::put(const TensorPtr& a, const TensorPtr& idx0, const TensorPtr& v0, bool accumulate,
                  bool value) {
  check_coords(*a, *idx0);
  TensorPtr idx = dense(idx0);
  TensorPtr v = to_dtype(v0, a->dt);  // strided is fine; a dense copy would drop its history
  TensorPtr out = put_into(*a, idx, v, accumulate, true);
  if (Node* n = record(OpCode::put, out, {a.get(), v.get()})) {
    n->save(2, *idx);
    n->i1 = accumulate;
    n->s = value;
  }
  return out;
}

void Op_put::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  Op_index_put::backward(n, g, gin);  // the same saved slots and accumulate flag
}

}  // namespace tg
