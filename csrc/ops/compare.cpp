// Comparisons and logic (bool results, no gradient), where, and advanced indexing (index and
// index_put, the ops the Python front end reduces x[idx] and x[idx] = v to).
#include <stdexcept>

#include "autograd/capture.h"
#include "ops/elementwise.h"
#include "ops/typed.h"

namespace tg {

namespace {
TensorPtr compare(Compare k, const TensorPtr& a, const TensorOrScalar& b) {
  const DType rt =
      b.t ? result_type({operand(*a), operand(*b.t)}) : result_type({operand(*a), operand(b.s)});
  TensorPtr x = a->dt == rt ? a : convert(*a, rt);
  TensorPtr y = b.t ? (b.t->dt == rt ? b.t : convert(*b.t, rt)) : scalar_tensor(b.s, rt);
  return typed_compare(k, x, y);
}

[[noreturn]] void no_backward(const char* name) {
  throw std::logic_error(std::string(name) + " has no gradient and is never recorded");
}
}  // namespace

#define TG_COMPARE(name, kind)                                      \
  TensorPtr op::name(const TensorPtr& a, const TensorOrScalar& b) { \
    return compare(Compare::kind, a, b);                            \
  }                                                                 \
  void Op_##name::backward(Node&, const TensorPtr&, TensorPtr*) {   \
    no_backward(#name);                                             \
  }
TG_COMPARE(eq, eq)
TG_COMPARE(ne, ne)
TG_COMPARE(lt, lt)
TG_COMPARE(le, le)
TG_COMPARE(gt, gt)
TG_COMPARE(ge, ge)
TG_COMPARE(logical_and, land)
TG_COMPARE(logical_or, lor)
TG_COMPARE(logical_xor, lxor)
#undef TG_COMPARE

TensorPtr op::logical_not(const TensorPtr& a) {
  return typed_compare(Compare::eq, a, scalar_tensor(Scalar{}, a->dt));
}
void Op_logical_not::backward(Node&, const TensorPtr&, TensorPtr*) {
  no_backward("logical_not");
}

// ---------------------------------------------------------------- where
TensorPtr op::where(const TensorPtr& cond, const TensorOrScalar& a, const TensorOrScalar& b) {
  if (cond->dt != DType::b8)
    throw std::runtime_error(
        std::string("where expected condition to be a boolean tensor, but got a tensor with "
                    "dtype ") +
        torch_name(cond->dt));
  const Operand oa = a.t ? operand(*a.t) : operand(a.s), ob = b.t ? operand(*b.t) : operand(b.s);
  const DType rt = result_type({oa, ob});
  TensorPtr x = a.t ? to_dtype(a.t, rt) : scalar_tensor(a.s, rt);
  TensorPtr y = b.t ? to_dtype(b.t, rt) : scalar_tensor(b.s, rt);
  TensorPtr out = typed_where(cond, x, y);
  if (Node* n = record(OpCode::where, out, {x.get(), y.get()})) n->save(2, *cond);
  return out;
}
void Op_where::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr cond = n.unpack(2), zero = scalar_tensor(Scalar{}, g->dt);
  if (n.in_requires[0]) gin[0] = sum_to(typed_where(cond, g, zero), n.in_shape[0]);
  if (n.in_requires[1]) gin[1] = sum_to(typed_where(cond, zero, g), n.in_shape[1]);
}

// ---------------------------------------------------------------- index / index_put
TensorPtr op::index(const TensorPtr& a, const TensorPtr& idx0) {
  check_index(*a, *idx0);
  TensorPtr idx = dense(idx0);
  TensorPtr out = typed_index(a, idx);
  if (Node* n = record(OpCode::index, out, {a.get()})) n->save(1, *idx);
  return out;
}
void Op_index::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr idx = n.unpack(1);
  auto r = zeros(n.in_shape[0], g->dt);
  TensorPtr gd = dense(g);
  launch({r.get(), idx.get(), gd.get()},
         [r = r.get(), idx = idx.get(), gd = gd.get()] { typed_index_put(*r, *idx, *gd, true); });
  gin[0] = r;
}

TensorPtr op::index_put(const TensorPtr& a, const TensorPtr& idx0, const TensorPtr& v0,
                        bool accumulate) {
  check_index(*a, *idx0);
  TensorPtr idx = dense(idx0);
  TensorPtr v = to_dtype(v0, a->dt);
  TensorPtr out = copy_of(*a);
  launch({out.get(), idx.get(), v.get()},
         [out = out.get(), idx = idx.get(), v = v.get(), accumulate] {
           typed_index_put(*out, *idx, *v, accumulate);
         });
  if (Node* n = record(OpCode::index_put, out, {a.get(), v.get()})) {
    n->save(2, *idx);
    n->i1 = accumulate;
  }
  return out;
}
void Op_index_put::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  TensorPtr idx = n.unpack(2);
  if (n.in_requires[0]) {
    if (n.i1) {
      gin[0] = g;
    } else {  // the overwritten places get no gradient
      auto r = copy_of(*g);
      auto zero = scalar_tensor(Scalar{}, g->dt);
      launch({r.get(), idx.get(), zero.get()}, [r = r.get(), idx = idx.get(), z = zero.get()] {
        typed_index_put(*r, *idx, *z, false);
      });
      gin[0] = r;
    }
  }
  if (n.in_requires[1]) gin[1] = sum_to(typed_index(g, idx), n.in_shape[1]);
}

}  // namespace tg
