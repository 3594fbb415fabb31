// softmax, log_softmax, nll_loss (and its 2-D form) and embedding: forwards and backwards with
// PyTorch's CPU order of operations (softmax: kernels/softmax.h). float16 computes in float32
// where PyTorch does, and rounds where its c10::Half arithmetic rounds (nll_loss sums in Half).
#include <cmath>
#include <vector>

#include "autograd/capture.h"
#include "core/half.h"
#include "kernels/kernels.h"
#include "kernels/softmax.h"
#include "kernels/vec.h"
#include "ops/ops.h"

namespace tg {

namespace {

// ---- softmax

smx::Geom geom(const Shape& s, int64_t dim) {
  smx::Geom g;
  if (s.n == 0) return g;
  for (int i = 0; i < dim; ++i)
    g.outer *= s.d[i];
  g.dim = s.d[dim];
  for (int i = int(dim) + 1; i < s.n; ++i)
    g.inner *= s.d[i];
  return g;
}

void widen(const TensorImpl& t, float* dst) {
  vec::f16_to_f32(static_cast<const uint16_t*>(t.data()), dst, t.numel);
}

TensorPtr softmax_fwd(OpCode op, const TensorPtr& a0, int64_t dim, bool log) {
  if (!is_floating(a0->dt))
    throw NotImplemented(std::string("\"") + (log ? "log_softmax" : "softmax") +
                         "_lastdim_kernel_impl\" not implemented for '" + torch_name(a0->dt) + "'");
  // the front end wraps dim; a call that skips it must still not read out of bounds
  if (a0->shape.n == 0 ? dim != 0 : (dim < 0 || dim >= a0->shape.n))
    throw IndexError("Dimension out of range (got " + std::to_string(dim) + ")");
  TensorPtr a = dense(a0);
  auto out = empty(a->shape, a->dt);
  const smx::Geom g = geom(a->shape, dim);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), g, log] {
    if (a->dt == DType::f64) return smx::forward(a->as<double>(), out->as<double>(), g, log);
    if (a->dt == DType::f32) return smx::forward(a->as<float>(), out->as<float>(), g, log, false);
    std::vector<float> x(size_t(a->numel)), y(size_t(a -> numel));
    widen(*a, x.data());
    smx::forward(x.data(), y.data(), g, log, true);
    vec::f32_to_f16(y.data(), static_cast<uint16_t*>(out->data()), a->numel);
  });
  if (Node* n = record(op, out, {a0.get()})) n->i1 = int(dim);
  return out;
}

void softmax_bwd(Node& n, const TensorPtr& grad, TensorPtr* gin, bool log) {
  TensorPtr y = n.unpack(0);
  TensorPtr g = dense(to_dtype(grad, y->dt));
  auto out = empty(y->shape, y->dt);
  const smx::Geom geo = geom(y->shape, n.i1);
  launch({g.get(), y.get(), out.get()}, [g = g.get(), y = y.get(), out = out.get(), geo, log] {
    if (y->dt == DType::f64)
      return smx::backward(g->as<double>(), y->as<double>(), out->as<double>(), geo, log);
    if (y->dt == DType::f32)
      return smx::backward(g->as<float>(), y->as<float>(), out->as<float>(), geo, log, false);
    const size_t n = size_t(y->numel);
    std::vector<float> gf(n), yf(n), r(n);
    widen(*g, gf.data());
    widen(*y, yf.data());
    smx::backward(gf.data(), yf.data(), r.data(), geo, log, true);
    vec::f32_to_f16(r.data(), static_cast<uint16_t*>(out->data()), y->numel);
  });
  gin[0] = out;
}

// ---- nll_loss: input (N, C, S) (S: the flattened trailing dims), target (N, S)

struct NllGeom {
  int64_t N = 1, C = 1, S = 1;
};

NllGeom nll_geom(const Shape& s) {
  NllGeom g;
  if (s.n == 1) {
    g.C = s.d[0];
  } else if (s.n >= 2) {
    g.N = s.d[0];
    g.C = s.d[1];
    for (int i = 2; i < s.n; ++i)
      g.S *= s.d[i];
  }
  return g;
}

// T: the storage type's arithmetic (float for float32, double, or float rounded to half after
// every operation for float16, as c10::Half's operators do).
template <class T>
struct Arith {
  static T r(T v) { return v; }
};
struct HalfArith {
  static float r(float v) { return half_to_float(float_to_half(v)); }
};

int ceil_log2(int64_t n) {
  int k = 0;
  while ((int64_t(1) << k) < n)
    ++k;
  return k;
}

// PyTorch's nll_loss(2d)_forward_out_frame: a cascade of 8 partial sums over the flat index.
template <class T, class R>
void nll_reduce(const T* x, const int64_t* t, const T* w, NllGeom g, int64_t ignore, bool mean,
                T* out, T* total_weight) {
  constexpr int kLevels = 8;
  const int64_t count = g.N * g.S;
  const int power = std::max(4, ceil_log2(count) / kLevels);
  const int64_t mask0 = (int64_t(1) << power) - 1;
  T wsum[kLevels] = {}, lsum[kLevels] = {};
  int64_t ignored = 0;
  for (int64_t step = 0; step < count; ++step) {
    const int64_t b = step / g.S, e = step % g.S;
    const int64_t c = t[step];
    if (c == ignore) {
      ++ignored;
      continue;
    }
    if (c < 0 || c >= g.C) throw IndexError("Target " + std::to_string(c) + " is out of bounds.");
    const T v = x[(b * g.C + c) * g.S + e];
    if (w) {
      lsum[0] = R::r(lsum[0] - R::r(v * w[c]));
      wsum[0] = R::r(wsum[0] + w[c]);
    } else {
      lsum[0] = R::r(lsum[0] - v);
    }
    for (int j = 0; j + 1 < kLevels; ++j) {
      if ((step & (mask0 << (j * power))) != 0) break;
      wsum[j + 1] = R::r(wsum[j + 1] + wsum[j]);
      lsum[j + 1] = R::r(lsum[j + 1] + lsum[j]);
      wsum[j] = 0;
      lsum[j] = 0;
    }
  }
  T tw = 0, o = 0;
  if (w) {
    for (int j = 0; j < kLevels; ++j)
      tw = R::r(tw + wsum[j]);
  } else {
    tw = R::r(T(count - ignored));
  }
  for (int j = 0; j < kLevels; ++j)
    o = R::r(o + lsum[j]);
  if (mean) o = R::r(o / tw);
  *out = o;
  *total_weight = tw;
}

template <class T, class R>
void nll_none(const T* x, const int64_t* t, const T* w, NllGeom g, int64_t ignore, T* out) {
  for (int64_t step = 0; step < g.N * g.S; ++step) {
    const int64_t b = step / g.S, e = step % g.S, c = t[step];
    if (c == ignore) {
      out[step] = 0;
      continue;
    }
    if (c < 0 || c >= g.C) throw IndexError("Target " + std::to_string(c) + " is out of bounds.");
    const T v = x[(b * g.C + c) * g.S + e];
    out[step] = R::r(-v * (w ? w[c] : T(1)));
  }
}

template <class T, class R>
void nll_grad(const int64_t* t, const T* w, const T* go, NllGeom g, int64_t ignore, Reduction r,
              T total_weight, T* gin) {
  const T gscalar =
      r == Reduction::none ? T(0) : -(r == Reduction::mean ? R::r(go[0] / total_weight) : go[0]);
  for (int64_t step = 0; step < g.N * g.S; ++step) {
    const int64_t b = step / g.S, e = step % g.S, c = t[step];
    if (c == ignore) continue;
    T v;
    if (r == Reduction::none)
      v = R::r(-(w ? w[c] : T(1)) * go[step]);
    else
      v = w ? R::r(w[c] * gscalar) : gscalar;
    gin[(b * g.C + c) * g.S + e] = v;
  }
}

// Runs fn(T-typed pointers...) on float32/float64 data, or on float copies of float16 data with
// Half arithmetic; `outs` are written back (rounded) for float16.
template <class Fn>
void nll_typed(DType dt, Fn fn) {
  if (dt == DType::f64)
    fn(double{}, Arith<double>{});
  else if (dt == DType::f32)
    fn(float{}, Arith<float>{});
  else
    fn(float{}, HalfArith{});
}

template <class T>
const T* read_as(const TensorImpl* t, std::vector<T>& buf) {
  if (!t) return nullptr;
  if (t->dt != DType::f16) return t->as<T>();
  if constexpr (sizeof(T) == 4) {
    buf.resize(size_t(t->numel));
    widen(*t, buf.data());
    return buf.data();
  }
  return nullptr;
}

template <class T>
void write_from(TensorImpl* t, const T* src) {
  if constexpr (sizeof(T) == 4)
    if (t->dt == DType::f16)
      return vec::f32_to_f16(src, static_cast<uint16_t*>(t->data()), t->numel);
  if (static_cast<const void*>(src) != t->data()) std::copy(src, src + t->numel, t->as<T>());
}

void check_targets(const TensorImpl& t, int64_t C, int64_t ignore) {
  const int64_t* p = t.as<int64_t>();
  for (int64_t i = 0; i < t.numel; ++i)
    if (p[i] != ignore && (p[i] < 0 || p[i] >= C))
      throw IndexError("Target " + std::to_string(p[i]) + " is out of bounds.");
}

// PyTorch's total weight: the weights' cascade of nll_reduce (or the count of kept targets).
template <class T, class R>
T nll_total(const int64_t* t, const T* w, NllGeom g, int64_t ignore) {
  std::vector<T> ones(size_t(g.N * g.C * g.S), T(0));
  T out = 0, tw = 0;
  nll_reduce<T, R>(ones.data(), t, w, g, ignore, false, &out, &tw);
  return tw;
}

void nll_forward_kernel(const TensorImpl* x, const TensorImpl* t, const TensorImpl* w,
                        TensorImpl* out, NllGeom g, Reduction r, int64_t ignore) {
  nll_typed(x->dt, [&](auto tag, auto ar) {
    using T = decltype(tag);
    using R = decltype(ar);
    std::vector<T> xb, wb, ob(size_t(out->numel));
    const T* xp = read_as(x, xb);
    const T* wp = read_as(w, wb);
    if (r == Reduction::none) {
      nll_none<T, R>(xp, t->as<int64_t>(), wp, g, ignore, ob.data());
    } else {
      T tw = 0;
      nll_reduce<T, R>(xp, t->as<int64_t>(), wp, g, ignore, r == Reduction::mean, ob.data(), &tw);
    }
    write_from(out, ob.data());
  });
}

void nll_backward_kernel(const TensorImpl* t, const TensorImpl* w, const TensorImpl* go,
                         TensorImpl* out, NllGeom g, Reduction r, int64_t ignore) {
  nll_typed(out->dt, [&](auto tag, auto ar) {
    using T = decltype(tag);
    using R = decltype(ar);
    std::vector<T> wb, gb, ob(size_t(out->numel), T(0));
    const T* wp = read_as(w, wb);
    const T* gp = read_as(go, gb);
    const int64_t* tp = t->as<int64_t>();
    const T total = r == Reduction::mean ? nll_total<T, R>(tp, wp, g, ignore) : T(1);
    nll_grad<T, R>(tp, wp, gp, g, ignore, r, total, ob.data());
    write_from(out, ob.data());
  });
}

TensorPtr nll_fwd(OpCode op, const TensorPtr& x0, const TensorPtr& t0,
                  const std::optional<TensorPtr>& w0, Reduction r, int64_t ignore) {
  TensorPtr x = dense(x0), t = dense(t0);
  TensorPtr w = w0 ? dense(*w0) : nullptr;
  const NllGeom g = nll_geom(x->shape);
  check_targets(*t, g.C, ignore);
  auto out = empty(r == Reduction::none ? t->shape : Shape{}, x->dt);
  auto run = [x = x.get(), t = t.get(), w = w.get(), out = out.get(), g, r, ignore] {
    nll_forward_kernel(x, t, w, out, g, r, ignore);
  };
  if (w)
    launch({x.get(), t.get(), w.get(), out.get()}, run);
  else
    launch({x.get(), t.get(), out.get()}, run);
  if (Node* n = record(op, out, {x0.get(), t0.get(), w ? w.get() : nullptr})) {
    n->i1 = int(r);
    n->a1 = Shape{ignore};
    if (w) n->save(2, *w);
  }
  return out;
}

void nll_bwd(Node& n, const TensorPtr& grad, TensorPtr* gin) {
  if (!n.in_requires[0]) return;
  TensorPtr t = n.unpack(1);
  TensorPtr w = n.saved[2].used ? n.unpack(2) : nullptr;
  const DType dt = n.in_dt[0];
  TensorPtr go = dense(to_dtype(grad, dt));
  auto out = zeros(n.in_shape[0], dt);
  const NllGeom g = nll_geom(n.in_shape[0]);
  const Reduction r = Reduction(n.i1);
  const int64_t ignore = n.a1.d[0];
  auto run = [t = t.get(), w = w.get(), go = go.get(), out = out.get(), g, r, ignore] {
    nll_backward_kernel(t, w, go, out, g, r, ignore);
  };
  if (w)
    launch({t.get(), w.get(), go.get(), out.get()}, run);
  else
    launch({t.get(), go.get(), out.get()}, run);
  gin[0] = out;
}

}  // namespace

TensorPtr op::softmax(const TensorPtr& a, int64_t dim) {
  return softmax_fwd(OpCode::softmax, a, dim, false);
}
void Op_softmax::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  softmax_bwd(n, g, gin, false);
}
TensorPtr op::log_softmax(const TensorPtr& a, int64_t dim) {
  return softmax_fwd(OpCode::log_softmax, a, dim, true);
}
void Op_log_softmax::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  softmax_bwd(n, g, gin, true);
}

TensorPtr op::nll_loss(const TensorPtr& x, const TensorPtr& t, const std::optional<TensorPtr>& w,
                       Reduction r, int64_t ignore_index) {
  return nll_fwd(OpCode::nll_loss, x, t, w, r, ignore_index);
}
void Op_nll_loss::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  nll_bwd(n, g, gin);
}
TensorPtr op::nll_loss2d(const TensorPtr& x, const TensorPtr& t, const std::optional<TensorPtr>& w,
                         Reduction r, int64_t ignore_index) {
  return nll_fwd(OpCode::nll_loss2d, x, t, w, r, ignore_index);
}
void Op_nll_loss2d::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  nll_bwd(n, g, gin);
}

// ---- embedding: rows of weight (num, dim) picked by integer indices

TensorPtr op::embedding(const TensorPtr& w0, const TensorPtr& idx0, int64_t padding_idx) {
  TensorPtr w = dense(w0), idx = dense(to_dtype(idx0, DType::i64));
  const int64_t num = w->shape.d[0], dim = w->shape.d[1];
  Shape os = idx->shape;
  os.push(dim);
  auto out = empty(os, w->dt);
  const int64_t* ip = idx->as<int64_t>();
  for (int64_t i = 0; i < idx->numel; ++i)
    if (ip[i] < 0 || ip[i] >= num) throw IndexError("index out of range in self");
  launch({w.get(), idx.get(), out.get()}, [w = w.get(), idx = idx.get(), out = out.get(), dim] {
    const size_t row = size_t(dim) * itemsize(w->dt);
    const int64_t* p = idx->as<int64_t>();
    const char* src = static_cast<const char*>(w->data());
    char* dst = static_cast<char*>(out->data());
    for (int64_t i = 0; i < idx->numel; ++i)
      std::copy(src + size_t(p[i]) * row, src + size_t(p[i] + 1) * row, dst + size_t(i) * row);
  });
  if (Node* n = record(OpCode::embedding, out, {w0.get(), idx.get()})) n->a1 = Shape{padding_idx};
  return out;
}

void Op_embedding::backward(Node& n, const TensorPtr& grad, TensorPtr* gin) {
  TensorPtr idx = n.unpack(1);
  const DType dt = n.in_dt[0];
  TensorPtr g = dense(to_dtype(grad, dt));
  const int64_t num = n.in_shape[0].d[0], dim = n.in_shape[0].d[1], pad = n.a1.d[0];
  auto out = zeros(n.in_shape[0], dt);
  launch({idx.get(), g.get(), out.get()},
         [idx = idx.get(), g = g.get(), out = out.get(), num, dim, pad] {
           nll_typed(out->dt, [&](auto tag, auto ar) {
             using T = decltype(tag);
             using R = decltype(ar);
             std::vector<T> gb, ob(size_t(num * dim), T(0));
             const T* gp = read_as(g, gb);
             const int64_t* p = idx->as<int64_t>();
             for (int64_t i = 0; i < idx->numel; ++i) {  // in index order, as PyTorch's add per row
               if (p[i] == pad) continue;
               T* dst = ob.data() + p[i] * dim;
               for (int64_t k = 0; k < dim; ++k)
                 dst[k] = R::r(dst[k] + gp[i * dim + k]);
             }
             write_from(out, ob.data());
           });
         });
  gin[0] = out;
}

}  // namespace tg
