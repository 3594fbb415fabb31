// matmul (NumPy's rules: 1-D operands, broadcast batch dims) and the fused linear layer. Both go
// through gemm(), which reads transposed operands through strides and float16 while packing.
#include <algorithm>

#include "autograd/capture.h"
#include "kernels/gemm.h"
#include "kernels/gemm16.h"
#include "kernels/kernels.h"
#include "ops/ops.h"
#include "ops/product.h"
#include "ops/typed.h"

namespace tg {

// Float16 operands follow the summation order of the ATen kernel PyTorch picks for that product.
void product(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, Out c, int64_t ldc,
             bool accumulate, F16Order order) {
  if (c.dt == DType::f32 && A.dt == DType::f16 && B.dt == DType::f16)
    gemm_f16(M, N, K, A, B, static_cast<float*>(c.p), ldc, accumulate, order);
  else if (c.dt == DType::f32)
    gemm(M, N, K, A, B, static_cast<float*>(c.p), ldc, accumulate);
  else
    typed_gemm(M, N, K, A, B, c.p, c.dt, ldc, accumulate);
}

namespace {
std::string dims2(int64_t r, int64_t c) {
  return std::to_string(r) + "x" + std::to_string(c);
}

struct MatmulPlan {
  Shape batch, batch_a, batch_b, out;
  int64_t M = 0, K = 0, N = 0, nb = 0;
  bool a1d = false, b1d = false;
};

MatmulPlan plan(const Shape& sa, const Shape& sb) {
  if (sa.n == 0 || sb.n == 0)
    throw std::runtime_error("both arguments to matmul need to be at least 1D, but they are " +
                             std::to_string(sa.n) + "D and " + std::to_string(sb.n) + "D");
  MatmulPlan p;
  p.a1d = sa.n == 1;
  p.b1d = sb.n == 1;
  p.M = p.a1d ? 1 : sa.d[sa.n - 2];
  p.K = sa.d[sa.n - 1];
  int64_t K2 = p.b1d ? sb.d[0] : sb.d[sb.n - 2];
  p.N = p.b1d ? 1 : sb.d[sb.n - 1];
  if (p.K != K2) {
    if (sa.n <= 2 && sb.n <= 2)
      throw std::runtime_error("mat1 and mat2 shapes cannot be multiplied (" + dims2(p.M, p.K) +
                               " and " + dims2(K2, p.N) + ")");
    throw std::runtime_error("matmul: shapes " + sa.str() + " and " + sb.str() +
                             " cannot be multiplied");
  }
  for (int i = 0; i + 2 < sa.n; ++i)
    p.batch_a.push(sa.d[i]);
  for (int i = 0; i + 2 < sb.n; ++i)
    p.batch_b.push(sb.d[i]);
  p.batch = broadcast_shapes(p.batch_a, p.batch_b);
  p.nb = p.batch.numel();
  p.out = p.batch;
  if (!p.a1d) p.out.push(p.M);
  if (!p.b1d) p.out.push(p.N);
  return p;
}

// Offsets (in matrices) of each broadcast batch into a and b.
void batch_offsets(const MatmulPlan& p, int64_t* oa, int64_t* ob) {
  if (p.batch.n == 0) {
    oa[0] = ob[0] = 0;
    return;
  }
  int64_t sa[kMaxDims], sb[kMaxDims];
  bcast_strides(p.batch_a, p.batch, sa);
  bcast_strides(p.batch_b, p.batch, sb);
  for_each2(p.batch, sa, sb, [&](int64_t o, int64_t ia, int64_t ib) {
    oa[o] = ia;
    ob[o] = ib;
  });
}

const void* at(const TensorImpl& t, int64_t elems) {
  return static_cast<const char*>(t.data()) + size_t(elems) * itemsize(t.dt);
}

// C (float32, M x N per batch) = op(A) @ op(B) for every batch; A and B are read as the plan's
// matrices, transposed when asked (tA: read A^T from a buffer laid out M x K, etc).
struct Batched {
  const TensorImpl* a;
  const TensorImpl* b;
  int64_t M, N, K;         // of the product
  int64_t a_rows, a_cols;  // a's matrix layout in memory
  int64_t b_rows, b_cols;
  bool ta, tb;
  F16Order order;  // PyTorch's summation order for float16 operands
};

void run_batched(const Batched& m, const int64_t* oa, const int64_t* ob, int64_t nb, Out c) {
  for (int64_t i = 0; i < nb; ++i) {
    MatRef A{at(*m.a, oa[i] * m.a_rows * m.a_cols), m.a->dt, m.ta ? 1 : m.a_cols,
             m.ta ? m.a_cols : 1};
    MatRef B{at(*m.b, ob[i] * m.b_rows * m.b_cols), m.b->dt, m.tb ? 1 : m.b_cols,
             m.tb ? m.b_cols : 1};
    product(m.M, m.N, m.K, A, B, c.at(i * m.M * m.N), m.N, false, m.order);
  }
}

// The order of PyTorch's kernel for a float16 matmul: mm's gemm for matrices, the gemv fast path
// for matrix @ vector.
F16Order forward_order(const MatmulPlan& p) {
  if (p.b1d && !p.a1d) return F16Order::blocks64;
  return F16Order::interleave4;
}

// The dtype of a product's accumulator for operands of dtype dt.
DType acc_dtype(DType dt) {
  return is_fast(dt) ? DType::f32 : dt;
}

void check_product_dtypes(const TensorImpl& a, const TensorImpl& b) {
  if (a.dt == b.dt) {
    if (a.dt == DType::b8) throw NotImplemented("\"addmm_impl_cpu_\" not implemented for 'Bool'");
    return;
  }
  if (a.shape.n == 1 && b.shape.n == 1)
    throw std::runtime_error(
        std::string("dot : expected both vectors to have same dtype, but found ") +
        torch_name(a.dt) + " and " + torch_name(b.dt));
  if (a.shape.n > 2 || b.shape.n > 2)
    throw std::runtime_error(std::string("expected scalar type ") + torch_name(a.dt) +
                             " but found " + torch_name(b.dt));
  throw std::runtime_error(std::string("expected m1 and m2 to have the same dtype, but got: ") +
                           cpp_name(a.dt) + " != " + cpp_name(b.dt));
}

// A matrix (or a stack of them) stored transposed: its last two dims swapped make a dense tensor,
// as w.t() or k.transpose(-2, -1) of a dense one. PyTorch hands such operands to its GEMM as they
// lie, so they are not copied here either. float32 products have the same bits either way (the
// GEMM packs both layouts alike); float16 ones follow the order of the ATen kernel the layout
// picks (route_order). `f16`: float16 too; not beside a vector, where the dense copy keeps
// PyTorch's gemv order (checked for transposed matrices as well).
bool reads_transposed(const TensorImpl& t, bool f16) {
  const int n = t.shape.n;
  if (n < 2 || t.is_contiguous()) return false;
  if (t.dt != DType::f32 && !(t.dt == DType::f16 && f16)) return false;
  const int64_t rows = t.shape.d[n - 2], cols = t.shape.d[n - 1];
  if (t.strides.d[n - 2] != 1 || t.strides.d[n - 1] != rows) return false;
  int64_t expect = rows * cols;
  for (int i = n - 3; i >= 0; --i) {
    if (t.shape.d[i] != 1 && t.strides.d[i] != expect) return false;
    expect *= t.shape.d[i];
  }
  return true;
}

// ATen's float16 GEMM is column-major: a row-major product with B transposed reaches it as
// gemm_transa_, with A transposed as gemm_transb_, with both as gemm_transab_.
F16Order float16_order(const MatmulPlan& p, bool ta, bool tb) {
  if (ta && tb) return F16Order::interleave4;
  if (tb) return F16Order::blocks64;
  if (ta) return F16Order::sequential;
  return forward_order(p);
}

// PyTorch's matmul folds a stack's batch into the rows of one matrix (at::reshape: a view when
// its strides allow) only where each batch stride is the next dim's stride times its size.
bool batch_folds(const Shape& shape, const Shape& strides) {
  for (int i = 0; i + 2 < shape.n; ++i)
    if (strides.d[i] != strides.d[i + 1] * shape.d[i + 1]) return false;
  return true;
}

// The route PyTorch's matmul takes for operands of two dims or more, which picks float16's
// kernels: mm for two matrices; for a stack @ a matrix, one mm over the stacked rows when the
// batch folds without a copy or the matrix requires grad (the stack is then copied dense), else
// bmm with the matrix broadcast; for a matrix @ a stack, when the matrix requires grad, the
// transposed product (stack^T folded) @ matrix^T as one mm, else bmm; bmm for two stacks.
enum class Route { mm, fold, mm_t, bmm };
Route route(const Shape& sa, const Shape& ta_strides, bool a_requires, const Shape& sb,
            bool b_requires) {
  if (sa.n == 2 && sb.n == 2) return Route::mm;
  if (sb.n == 2) return b_requires || batch_folds(sa, ta_strides) ? Route::fold : Route::bmm;
  if (sa.n == 2) return a_requires ? Route::mm_t : Route::bmm;
  return Route::bmm;
}

// The order of PyTorch's float16 forward for operands laid out as stored (ta, tb: transposed).
// A stack of one matrix folds into a view, which keeps its layout; a folded stack of several is
// dense; the transposed route multiplies the stack's transposes, folded, by a's transpose.
F16Order route_order(Route r, const MatmulPlan& p, bool ta, bool tb) {
  const bool small = p.M * p.N * p.K < 400;  // bmm's naive loop: one sequential sum
  switch (r) {
    case Route::bmm:
      return small ? F16Order::sequential : float16_order(p, ta, tb);
    case Route::fold:
      return float16_order(p, p.nb == 1 && ta, tb);
    case Route::mm_t:
      return p.nb == 1 ? float16_order(p, ta, tb) : float16_order(p, false, !ta);
    default:
      return float16_order(p, ta, tb);
  }
}

// The orders of the float16 backward PyTorch runs on that route: mm's backward is g @ B^T and
// A^T @ g (or their transposes for a column-major operand), gemm_transa_ (blocks64) and
// gemm_transb_ (sequential) unless the other operand was itself transposed (then notrans or
// transab: interleave4); bmm's is the same per matrix, or its naive loop below 400 multiply-adds;
// a folded stack of several is dense, and b's gradient one sum over its rows. On the transposed
// route with a stack of several, b's gradient is g's folded transpose @ a; a's gradient, there
// one sum over all the stack's rows, keeps the default order (not PyTorch's).
void backward_orders(Route r, const MatmulPlan& p, bool ta, bool tb, F16Order* oa, F16Order* ob) {
  *oa = F16Order::blocks64;
  *ob = F16Order::sequential;
  if (r == Route::bmm && p.M * p.N * p.K < 400) {
    *oa = F16Order::sequential;
  } else if (r == Route::mm_t && p.nb > 1) {
    *ob = ta ? F16Order::blocks64 : F16Order::interleave4;
  } else {
    if (tb) *oa = F16Order::interleave4;
    if (ta && (r != Route::fold || p.nb == 1)) *ob = F16Order::interleave4;
  }
}
}  // namespace

TensorPtr op::matmul(const TensorPtr& a, const TensorPtr& b) {
  check_product_dtypes(*a, *b);
  MatmulPlan p = plan(a->shape, b->shape);
  auto out = empty(p.out, a->dt);
  // The tape records a and b themselves; the product reads dense copies, or a transposed operand
  // as it lies. float16 sums in the order of the ATen kernel PyTorch's route reaches (route).
  const bool mats = !p.a1d && !p.b1d;
  const bool ta = !p.a1d && reads_transposed(*a, mats);
  const bool tb = !p.b1d && reads_transposed(*b, mats);
  const Route r =
      mats ? route(a->shape, a->strides, a->requires_grad, b->shape, b->requires_grad) : Route::mm;
  const F16Order order = mats ? route_order(r, p, ta, tb) : forward_order(p);
  TensorPtr ad = ta ? a : dense(a), bd = tb ? b : dense(b);
  launch({ad.get(), bd.get(), out.get()},
         [p, ta, tb, order, a = ad.get(), b = bd.get(), out = out.get()] {
           std::vector<int64_t> offs(size_t(2 * std::max<int64_t>(p.nb, 1)));
           batch_offsets(p, offs.data(), offs.data() + p.nb);
           // In memory a transposed operand is its matrices' transposes, laid out densely.
           const int64_t a_rows = ta ? p.K : p.M, a_cols = ta ? p.M : p.K;
           const int64_t b_rows = tb ? p.N : p.K, b_cols = tb ? p.K : p.N;
           Batched m{a, b, p.M, p.N, p.K, a_rows, a_cols, b_rows, b_cols, ta, tb, order};
           into_out(*out, out->numel,
                    [&](Out c) { run_batched(m, offs.data(), offs.data() + p.nb, p.nb, c); });
         });
  if (Node* n = record(OpCode::matmul, out, {a.get(), b.get()}); n && mats) {
    F16Order oa, ob;  // the backward's orders, fixed by the forward's route and layouts
    backward_orders(r, p, ta, tb, &oa, &ob);
    n->i1 = 1 + 3 * int(oa) + int(ob);
  }
  return out;
}

TensorPtr matmul_acc(const TensorPtr& a, const TensorPtr& b) {
  MatmulPlan p = plan(a->shape, b->shape);
  auto out = empty(p.out, acc_dtype(a->dt));
  TensorPtr ad = dense(a), bd = dense(b);
  launch({ad.get(), bd.get(), out.get()}, [p, a = ad.get(), b = bd.get(), out = out.get()] {
    std::vector<int64_t> offs(size_t(2 * std::max<int64_t>(p.nb, 1)));
    batch_offsets(p, offs.data(), offs.data() + p.nb);
    Batched m{a, b, p.M, p.N, p.K, p.M, p.K, p.K, p.N, false, false, forward_order(p)};
    run_batched(m, offs.data(), offs.data() + p.nb, p.nb, Out{out->data(), out->dt});
  });
  return out;
}

namespace {
// u[i] * v[j] for 1-D u and v of one floating dtype, each product rounded once (PyTorch's ger).
TensorPtr outer_product(const TensorPtr& u0, const TensorPtr& v0) {
  TensorPtr u = dense(u0), v = dense(v0);
  auto out = empty(Shape{u->numel, v->numel}, u->dt);
  launch({u.get(), v.get(), out.get()}, [u = u.get(), v = v.get(), out = out.get()] {
    visit(out->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same<T, half>::value || std::is_floating_point<T>::value) {
        const T *pu = u->as<T>(), *pv = v->as<T>();
        T* q = out->as<T>();
        const int64_t m = u->numel, k = v->numel;
        for (int64_t i = 0; i < m; ++i) {
          if constexpr (std::is_same<T, half>::value) {
            const float x = load(pu[i]);
            for (int64_t j = 0; j < k; ++j)
              q[i * k + j] = cvt<half>(x * load(pv[j]));
          } else {
            const T x = pu[i];
            for (int64_t j = 0; j < k; ++j)
              q[i * k + j] = x * pv[j];
          }
        }
      } else {
        throw std::logic_error("outer_product: a floating dtype");
      }
      return 0;
    });
  });
  return out;
}
}  // namespace

void Op_matmul::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  MatmulPlan p = plan(n.in_shape[0], n.in_shape[1]);
  // float16's orders, from the forward (backward_orders); 0: a vector operand's defaults.
  F16Order order_a = F16Order::blocks64, order_b = F16Order::sequential;
  if (n.i1 > 0) {
    order_a = F16Order((n.i1 - 1) / 3);
    order_b = F16Order((n.i1 - 1) % 3);
  }
  // The gradient of each operand over the full broadcast batch (float32), then summed back to
  // the operand's own batch shape and rounded once into its dtype.
  auto grad_for = [&](int i, const TensorPtr& other) {
    const bool for_a = i == 0;
    // PyTorch multiplies a batched a by a 2-D b as one stacked matrix; b's gradient is then a
    // single sum over all the stacked rows, which float16 must follow.
    const bool fold =
        !for_a && g->dt == DType::f16 && p.nb > 1 && p.batch_b.n == 0 && p.batch_a.numel() == p.nb;
    Shape fs = fold ? Shape{} : p.batch;
    fs.push(for_a ? p.M : p.K);
    fs.push(for_a ? p.K : p.N);
    auto full = empty(fs, acc_dtype(g->dt));
    launch({g.get(), other.get(), full.get()},
           [p, for_a, fold, order_a, order_b, g = g.get(), o = other.get(), full = full.get()] {
             std::vector<int64_t> offs(size_t(2 * std::max<int64_t>(p.nb, 1)));
             batch_offsets(p, offs.data(), offs.data() + p.nb);
             std::vector<int64_t> seq(size_t(std::max<int64_t>(p.nb, 1)));
             for (int64_t j = 0; j < p.nb; ++j)
               seq[size_t(j)] = j;
             if (for_a) {  // dA[M,K] = g[M,N] @ B^T
               Batched m{g, o, p.M, p.K, p.N, p.M, p.N, p.K, p.N, false, true, order_a};
               run_batched(m, seq.data(), offs.data() + p.nb, p.nb, Out{full->data(), full->dt});
             } else {  // dB[K,N] = A^T @ g[M,N]
               Batched m{o, g, p.K, p.N, p.M, p.M, p.K, p.M, p.N, true, false, order_b};
               if (fold) {  // one product over the stacked batches, as PyTorch folds them
                 m.K = m.a_rows = p.M * p.nb;
                 run_batched(m, offs.data(), seq.data(), 1, Out{full->data(), full->dt});
               } else {
                 run_batched(m, offs.data(), seq.data(), p.nb, Out{full->data(), full->dt});
               }
             }
           });
    Shape target = for_a ? p.batch_a : p.batch_b;
    target.push(for_a ? p.M : p.K);
    target.push(for_a ? p.K : p.N);
    TensorPtr red = dense(sum_to(full, target));
    auto res = empty(n.in_shape[i], n.in_dt[i]);  // same numel: drops a 1-D operand's unit dim
    auto src = alias(*red, res->shape);
    launch({src.get(), res.get()},
           [src = src.get(), res = res.get()] { convert_into(*src, *res); });
    return res;
  };
  // PyTorch's dot and mv: dot's gradients are grad * other, mv's matrix gradient grad.ger(vec),
  // products with nothing to sum (a -0.0 stays -0.0).
  const int ra = n.in_shape[0].n, rb = n.in_shape[1].n;
  const bool outer_a = rb == 1 && ra <= 2;
  if (n.in_requires[0]) {
    if (outer_a) {
      gin[0] = ra == 1 ? binary(Binary::mul, g, n.unpack(1)) : outer_product(g, n.unpack(1));
    } else {
      gin[0] = grad_for(0, n.unpack(1));
    }
  }
  if (n.in_requires[1]) {
    gin[1] = ra == 1 && rb == 1 ? binary(Binary::mul, g, n.unpack(0)) : grad_for(1, n.unpack(0));
  }
}

// ---------------------------------------------------------------- linear: x @ w.T + b
TensorPtr op::linear(const TensorPtr& x0, const TensorPtr& w0, const std::optional<TensorPtr>& b0) {
  const TensorPtr &x = x0, &w = w0;
  const TensorPtr b = b0.value_or(nullptr);
  const DType dt = x->dt;
  if (w->dt != dt)
    throw std::runtime_error(std::string("expected m1 and m2 to have the same dtype, but got: ") +
                             cpp_name(dt) + " != " + cpp_name(w->dt));
  if (b && b->dt != dt)
    throw std::runtime_error(std::string("self and mat2 must have the same dtype, but got ") +
                             torch_name(b->dt) + " and " + torch_name(dt));
  if (dt == DType::b8) throw NotImplemented("\"addmm_impl_cpu_\" not implemented for 'Bool'");
  if (w->shape.n != 2)
    throw std::runtime_error("linear: weight must be 2-D, got shape " + w->shape.str());
  if (x->shape.n == 0)
    throw std::runtime_error("linear: input must be at least 1-D, got a 0-d tensor");
  const int64_t in = x->shape.d[x->shape.n - 1], out_f = w->shape.d[0];
  int64_t R = 1;  // rows: the product of the leading dims
  for (int i = 0; i + 1 < x->shape.n; ++i)
    R *= x->shape.d[i];
  if (w->shape.d[1] != in)
    throw std::runtime_error("mat1 and mat2 shapes cannot be multiplied (" + dims2(R, in) +
                             " and " + dims2(w->shape.d[1], out_f) + ")");
  if (b && !(b->shape.n == 1 && b->shape.d[0] == out_f))
    throw std::runtime_error("linear: bias of shape " + b->shape.str() +
                             " does not match out_features " + std::to_string(out_f));
  Shape os;
  for (int i = 0; i + 1 < x->shape.n; ++i)
    os.push(x->shape.d[i]);
  os.push(out_f);
  auto out = empty(os, dt);
  TensorPtr xd = dense(x), wd = dense(w), bd = b ? dense(b) : nullptr;
  launch({xd.get(), wd.get(), bd.get(), out.get()},
         [x = xd.get(), w = wd.get(), b = bd.get(), out = out.get(), R, in, out_f] {
           into_out(*out, R * out_f, [&](Out y) {
             if (b) {  // start from the bias rows, then accumulate x @ w.T: one rounding
               visit(b->dt, [&](auto btag) {
                 return visit(y.dt, [&](auto ytag) {
                   using Y = decltype(ytag);
                   const auto* bv = b->as<decltype(btag)>();
                   Y* yv = static_cast<Y*>(y.p);
                   for (int64_t j = 0; j < out_f; ++j)  // converted once, then copied
                     yv[j] = cvt<Y>(bv[j]);
                   for (int64_t r = 1; r < R; ++r)
                     std::copy(yv, yv + out_f, yv + r * out_f);
                   return 0;
                 });
               });
             }
             product(R, out_f, in, MatRef{x->data(), x->dt, in, 1}, MatRef{w->data(), w->dt, 1, in},
                     y, out_f, b != nullptr, F16Order::blocks64);
           });
         });
  if (b)
    record(OpCode::linear, out, {x.get(), w.get(), b.get()});
  else
    record(OpCode::linear, out, {x.get(), w.get()});
  return out;
}

void Op_linear::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const Shape& xs = n.in_shape[0];
  const int64_t in = xs.d[xs.n - 1], out_f = n.in_shape[1].d[0];
  int64_t R = 1;
  for (int i = 0; i + 1 < xs.n; ++i)
    R *= xs.d[i];
  if (n.in_requires[0]) {  // dX[R,in] = g[R,out] @ W[out,in]
    TensorPtr w = n.unpack(1);
    auto res = empty(xs, n.in_dt[0]);
    launch({g.get(), w.get(), res.get()},
           [g = g.get(), w = w.get(), res = res.get(), R, in, out_f] {
             into_out(*res, R * in, [&](Out c) {
               product(R, in, out_f, MatRef{g->data(), g->dt, out_f, 1},
                       MatRef{w->data(), w->dt, in, 1}, c, in, false, F16Order::interleave4);
             });
           });
    gin[0] = res;
  }
  if (n.in_requires[1]) {  // dW[out,in] = g^T @ X[R,in]
    TensorPtr x = n.unpack(0);
    auto res = empty(n.in_shape[1], n.in_dt[1]);
    launch({g.get(), x.get(), res.get()},
           [g = g.get(), x = x.get(), res = res.get(), R, in, out_f] {
             into_out(*res, out_f * in, [&](Out c) {
               product(out_f, in, R, MatRef{g->data(), g->dt, 1, out_f},
                       MatRef{x->data(), x->dt, in, 1}, c, in, false, F16Order::sequential);
             });
           });
    gin[1] = res;
  }
  if (n.n_in == 3 && n.in_requires[2]) {  // db = column sums of g
    Shape gs{R, out_f};
    auto g2 = alias(*g, gs);
    gin[2] = sum_to(g2, Shape{out_f});
    if (gin[2]->dt != n.in_dt[2]) gin[2] = convert(*gin[2], n.in_dt[2]);
  }
}

}  // namespace tg
