// native_batch_norm (statistics per channel, dim 1) and native_layer_norm (per row of the last
// dims). Statistics and gradient sums accumulate in float64, so float32 results are correctly
// rounded sums away from PyTorch's own vectorized order (docs/numerics.md lists the difference);
// the output is formed as ATen forms it: batch norm x * alpha + beta with alpha = invstd * w and
// beta = b - mean * alpha, layer norm (x * rstd - mean * rstd) * w + b, in float32 for float16.
// Each saves the input (slot 0), the weight (slot 1) and its statistics as a (2, C) tensor
// [mean; invstd] (slot 2). Node::i1 holds the flags below; inputs are x, then w and b if given.
#include <cmath>
#include <vector>

#include "autograd/capture.h"
#include "core/threads.h"
#include "kernels/typed.h"
#include "ops/ops.h"

namespace tg {

namespace {

enum Flags : int { kTraining = 1, kHasW = 2, kHasB = 4 };

DType stat_dt(DType dt) {
  return dt == DType::f64 ? DType::f64 : DType::f32;
}

// (N, C, S): batch norm's view of x.
struct Geom {
  int64_t N = 1, C = 1, S = 1;
};
Geom bn_geom(const Shape& s) {
  Geom g;
  g.N = s.d[0];
  g.C = s.n > 1 ? s.d[1] : 1;
  for (int i = 2; i < s.n; ++i)
    g.S *= s.d[i];
  return g;
}

template <class T>
double at(const T* p, int64_t i) {
  return double(load(p[i]));
}

Node* record_norm(OpCode op, const TensorPtr& out, const TensorPtr& x, const TensorPtr& w,
                  const TensorPtr& b, const TensorPtr& stats, int flags) {
  Node* n = nullptr;
  if (w && b)
    n = record(op, out, {x.get(), w.get(), b.get()});
  else if (w || b)
    n = record(op, out, {x.get(), (w ? w : b).get()});
  else
    n = record(op, out, {x.get()});
  if (n) {
    n->save(0, *x);
    if (w) n->save(1, *w);
    n->save(2, *stats);
    n->i1 = flags;
  }
  return n;
}

// Where the gradients of w and b go among the node's inputs.
void place(const Node& n, int flags, TensorPtr gw, TensorPtr gb, TensorPtr* gin) {
  int k = 1;
  if (flags & kHasW) gin[k++] = n.in_requires[1] ? gw : nullptr;
  if (flags & kHasB) gin[k] = n.in_requires[k] ? gb : nullptr;
}
}  // namespace

TensorPtr op::native_batch_norm(const TensorPtr& x0, const std::optional<TensorPtr>& w0,
                                const std::optional<TensorPtr>& b0,
                                const std::optional<TensorPtr>& rm0,
                                const std::optional<TensorPtr>& rv0, bool training, double momentum,
                                double eps) {
  if (x0->shape.n < 2) throw std::runtime_error("batch_norm: expected a 2-D to 5-D input");
  const Geom g = bn_geom(x0->shape);
  TensorPtr x = dense(x0), w = w0 ? dense(*w0) : nullptr, b = b0 ? dense(*b0) : nullptr;
  TensorPtr rm = rm0.value_or(nullptr), rv = rv0.value_or(nullptr);
  if (!training && (!rm || !rv)) throw std::runtime_error("batch_norm: eval needs running stats");
  for (const TensorPtr& t : {rm, rv})
    if (t && (!t->is_contiguous() || t->numel != g.C))
      throw std::runtime_error("batch_norm: running stats must be contiguous, of size C");
  auto out = empty(x0->shape, x0->dt);
  auto stats = empty(Shape{2, g.C}, stat_dt(x0->dt));
  launch({x.get(), w.get(), b.get(), rm.get(), rv.get(), out.get(), stats.get()},
         [g, training, momentum, eps, x = x.get(), w = w.get(), b = b.get(), rm = rm.get(),
          rv = rv.get(), out = out.get(), st = stats.get()] {
           visit_floating(x->dt, "normalization", [&](auto tag) {
             using T = decltype(tag);
             using S = calc_t<T>;
             const T* xp = x->as<T>();
             T* yp = out->as<T>();
             S* sp = static_cast<S*>(st->data());
             parallel_for(g.C, 1, [&](int64_t c0, int64_t c1) {
               for (int64_t c = c0; c < c1; ++c) {
                 double mean, invstd;
                 const int64_t count = g.N * g.S;
                 if (training) {
                   double sum = 0, sq = 0;
                   for (int64_t n = 0; n < g.N; ++n)
                     for (int64_t s = 0; s < g.S; ++s)
                       sum += at(xp, (n * g.C + c) * g.S + s);
                   mean = count ? sum / double(count) : 0.0;
                   for (int64_t n = 0; n < g.N; ++n)
                     for (int64_t s = 0; s < g.S; ++s) {
                       const double d = at(xp, (n * g.C + c) * g.S + s) - mean;
                       sq += d * d;
                     }
                   const double var = count ? sq / double(count) : 0.0;
                   invstd = 1.0 / std::sqrt(var + eps);
                   if (rm)
                     visit(rm->dt, [&](auto rt) {
                       using R = decltype(rt);
                       R* p = rm->as<R>() + c;
                       *p = cvt<R>(momentum * mean + (1 - momentum) * double(load(*p)));
                       return 0;
                     });
                   if (rv)
                     visit(rv->dt, [&](auto rt) {
                       using R = decltype(rt);
                       R* p = rv->as<R>() + c;
                       const double unbiased = count > 1 ? sq / double(count - 1) : NAN;
                       *p = cvt<R>(momentum * unbiased + (1 - momentum) * double(load(*p)));
                       return 0;
                     });
                 } else {
                   mean = visit(rm->dt,
                                [&](auto rt) { return double(load(rm->as<decltype(rt)>()[c])); });
                   const double var = visit(
                       rv->dt, [&](auto rt) { return double(load(rv->as<decltype(rt)>()[c])); });
                   invstd = 1.0 / std::sqrt(var + eps);
                 }
                 sp[c] = S(mean);
                 sp[g.C + c] = S(invstd);
                 const S wc = w ? S(at(w->as<T>(), c)) : S(1);
                 const S bc = b ? S(at(b->as<T>(), c)) : S(0);
                 const S alpha = S(invstd) * wc;
                 const S beta = bc - S(mean) * alpha;
                 for (int64_t n = 0; n < g.N; ++n)
                   for (int64_t s = 0; s < g.S; ++s) {
                     const int64_t i = (n * g.C + c) * g.S + s;
                     yp[i] = cvt<T>(S(load(xp[i])) * alpha + beta);
                   }
               }
             });
           });
         });
  for (const TensorPtr& t : {rm, rv})
    if (t && training) t->bump_version();
  const int flags = (training ? kTraining : 0) | (w0 ? kHasW : 0) | (b0 ? kHasB : 0);
  if (Node* n = record_norm(OpCode::native_batch_norm, out, x0, w0.value_or(nullptr),
                            b0.value_or(nullptr), stats, flags))
    n->s = eps;
  return out;
}

void Op_native_batch_norm::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const int flags = n.i1;
  TensorPtr x = n.unpack(0), w = (flags & kHasW) ? n.unpack(1) : nullptr, st = n.unpack(2);
  const DType dt = n.in_dt[0];
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  const Geom geo = bn_geom(x->shape);
  auto gx = n.in_requires[0] ? empty(x->shape, dt) : nullptr;
  auto gw = (flags & kHasW) ? empty(Shape{geo.C}, dt) : nullptr;
  auto gb = (flags & kHasB) ? empty(Shape{geo.C}, dt) : nullptr;
  const bool training = flags & kTraining;
  launch({x.get(), w.get(), st.get(), g.get(), gx.get(), gw.get(), gb.get()},
         [geo, training, x = x.get(), w = w.get(), st = st.get(), g = g.get(), gx = gx.get(),
          gw = gw.get(), gb = gb.get()] {
           visit_floating(x->dt, "normalization", [&](auto tag) {
             using T = decltype(tag);
             using S = calc_t<T>;
             const T *xp = x->as<T>(), *gp = g->as<T>();
             const S* sp = static_cast<const S*>(st->data());
             parallel_for(geo.C, 1, [&](int64_t c0, int64_t c1) {
               for (int64_t c = c0; c < c1; ++c) {
                 const double mean = sp[c], invstd = sp[geo.C + c];
                 const double wc = w ? at(w->as<T>(), c) : 1.0;
                 double sum = 0, dotp = 0;
                 for (int64_t n = 0; n < geo.N; ++n)
                   for (int64_t s = 0; s < geo.S; ++s) {
                     const int64_t i = (n * geo.C + c) * geo.S + s;
                     sum += at(gp, i);
                     dotp += (at(xp, i) - mean) * at(gp, i);
                   }
                 if (gw) gw->as<T>()[c] = cvt<T>(dotp * invstd);
                 if (gb) gb->as<T>()[c] = cvt<T>(sum);
                 if (!gx) continue;
                 const double count = double(geo.N * geo.S);
                 const double k = training ? dotp * invstd * invstd / count : 0.0;
                 const double gmean = training ? sum / count : 0.0;
                 T* q = gx->as<T>();
                 for (int64_t n = 0; n < geo.N; ++n)
                   for (int64_t s = 0; s < geo.S; ++s) {
                     const int64_t i = (n * geo.C + c) * geo.S + s;
                     const double dx = (at(xp, i) - mean) * k;
                     q[i] = cvt<T>((at(gp, i) - gmean - dx) * invstd * wc);
                   }
               }
             });
           });
         });
  gin[0] = gx;
  place(n, flags, gw, gb, gin);
}

TensorPtr op::native_layer_norm(const TensorPtr& x0, const std::optional<TensorPtr>& w0,
                                const std::optional<TensorPtr>& b0, int64_t nd, double eps) {
  if (nd < 1 || nd > x0->shape.n) throw std::runtime_error("layer_norm: bad normalized_shape");
  int64_t M = 1, L = 1;
  for (int i = 0; i < x0->shape.n; ++i)
    (i < x0->shape.n - nd ? M : L) *= x0->shape.d[i];
  TensorPtr x = dense(x0), w = w0 ? dense(*w0) : nullptr, b = b0 ? dense(*b0) : nullptr;
  auto out = empty(x0->shape, x0->dt);
  auto stats = empty(Shape{2, M}, stat_dt(x0->dt));
  launch({x.get(), w.get(), b.get(), out.get(), stats.get()},
         [M, L, eps, x = x.get(), w = w.get(), b = b.get(), out = out.get(), st = stats.get()] {
           visit_floating(x->dt, "normalization", [&](auto tag) {
             using T = decltype(tag);
             using S = calc_t<T>;
             const T* xp = x->as<T>();
             T* yp = out->as<T>();
             S* sp = static_cast<S*>(st->data());
             parallel_for(M, 1, [&](int64_t r0, int64_t r1) {
               for (int64_t r = r0; r < r1; ++r) {
                 const T* row = xp + r * L;
                 double sum = 0, sq = 0;
                 for (int64_t j = 0; j < L; ++j)
                   sum += at(row, j);
                 const double mean = sum / double(L);
                 for (int64_t j = 0; j < L; ++j)
                   sq += (at(row, j) - mean) * (at(row, j) - mean);
                 const double rstd = 1.0 / std::sqrt(std::max(sq / double(L), 0.0) + eps);
                 sp[r] = S(mean);
                 sp[M + r] = S(rstd);
                 const S scale = S(rstd), shift = S(-rstd * mean);
                 for (int64_t j = 0; j < L; ++j) {
                   S y = S(load(row[j])) * scale + shift;
                   if (w) y = y * S(load(w->as<T>()[j]));
                   if (b) y = y + S(load(b->as<T>()[j]));
                   yp[r * L + j] = cvt<T>(y);
                 }
               }
             });
           });
         });
  const int flags = (w0 ? kHasW : 0) | (b0 ? kHasB : 0) | int(nd << 4);
  if (Node* n = record_norm(OpCode::native_layer_norm, out, x0, w0.value_or(nullptr),
                            b0.value_or(nullptr), stats, flags))
    n->s = eps;
  return out;
}

void Op_native_layer_norm::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const int flags = n.i1;
  TensorPtr x = n.unpack(0), w = (flags & kHasW) ? n.unpack(1) : nullptr, st = n.unpack(2);
  const DType dt = n.in_dt[0];
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  const int64_t M = st->shape.d[1], L = M ? x->numel / M : 0;
  auto gx = n.in_requires[0] ? empty(x->shape, dt) : nullptr;
  auto gw = (flags & kHasW) ? empty(w->shape, dt) : nullptr;
  auto gb = (flags & kHasB) ? empty(n.in_shape[(flags & kHasW) ? 2 : 1], dt) : nullptr;
  launch({x.get(), w.get(), st.get(), g.get(), gx.get(), gw.get(), gb.get()},
         [M, L, x = x.get(), w = w.get(), st = st.get(), g = g.get(), gx = gx.get(), gw = gw.get(),
          gb = gb.get()] {
           visit_floating(x->dt, "normalization", [&](auto tag) {
             using T = decltype(tag);
             using S = calc_t<T>;
             const T *xp = x->as<T>(), *gp = g->as<T>();
             const S* sp = static_cast<const S*>(st->data());
             auto wj = [&](int64_t j) { return w ? at(w->as<T>(), j) : 1.0; };
             if (gx)
               parallel_for(M, 1, [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const double mean = sp[r], rstd = sp[M + r];
                   double ds = 0, db = 0;
                   for (int64_t j = 0; j < L; ++j) {
                     const double gw_ = at(gp, r * L + j) * wj(j);
                     ds += gw_ * at(xp, r * L + j);
                     db += gw_;
                   }
                   const double bb = (db * mean - ds) * rstd * rstd * rstd / double(L);
                   const double cc = -bb * mean - db * rstd / double(L);
                   T* q = gx->as<T>() + r * L;
                   for (int64_t j = 0; j < L; ++j)
                     q[j] = cvt<T>(rstd * at(gp, r * L + j) * wj(j) + bb * at(xp, r * L + j) + cc);
                 }
               });
             if (gw || gb)
               parallel_for(L, 64, [&](int64_t j0, int64_t j1) {
                 for (int64_t j = j0; j < j1; ++j) {
                   double sw = 0, sb = 0;
                   for (int64_t r = 0; r < M; ++r) {
                     const double gv = at(gp, r * L + j);
                     sw += gv * (at(xp, r * L + j) - double(sp[r])) * double(sp[M + r]);
                     sb += gv;
                   }
                   if (gw) gw->as<T>()[j] = cvt<T>(sw);
                   if (gb) gb->as<T>()[j] = cvt<T>(sb);
                 }
               });
           });
         });
  gin[0] = gx;
  place(n, flags, gw, gb, gin);
}

}  // namespace tg
