// max_pool2d (and its indices), avg_pool2d and adaptive_avg_pool2d over the last two dims, with
// the windows, the order of operations and the roundings of ATen's CPU kernels for contiguous
// tensors (cpu_max_pool, cpu_avg_pool, cpu_adaptive_avg_pool and their backwards): sums in float32
// for float16, backward adds in the tensor's own dtype (a float16 add rounds each time).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "autograd/capture.h"
#include "core/cpu.h"
#include "core/threads.h"
#include "kernels/kernels.h"
#include "kernels/typed.h"
#include "ops/ops.h"

namespace tg {

namespace {

struct Pool {
  int64_t planes = 1, H = 0, W = 0, OH = 0, OW = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
};

int64_t div_floor(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// PyTorch's pooling_output_shape.
int64_t out_size(int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil) {
  const int64_t out =
      div_floor(in + 2 * pad - dil * (k - 1) - 1 + (ceil ? stride - 1 : 0), stride) + 1;
  return (ceil && (out - 1) * stride >= in + pad) ? out - 1 : out;
}

Pool geometry(const Shape& xs) {
  if (xs.n != 3 && xs.n != 4)
    throw std::runtime_error("pooling: expected a 3-D or 4-D input, got " + xs.str());
  Pool p;
  for (int i = 0; i + 2 < xs.n; ++i)
    p.planes *= xs.d[i];
  p.H = xs.d[xs.n - 2];
  p.W = xs.d[xs.n - 1];
  return p;
}

Pool windows(const Shape& xs, const Shape& a1, const Shape& a2, bool ceil, bool dilated) {
  Pool p = geometry(xs);
  p.kh = a1.d[0];
  p.kw = a1.d[1];
  p.sh = a1.d[2];
  p.sw = a1.d[3];
  p.ph = a2.d[0];
  p.pw = a2.d[1];
  if (dilated) {
    p.dh = a2.d[2];
    p.dw = a2.d[3];
  }
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1 || p.dh < 1 || p.dw < 1 || p.ph < 0 || p.pw < 0)
    throw std::runtime_error("pooling: kernel, stride and dilation must be positive");
  p.OH = out_size(p.H, p.kh, p.ph, p.sh, p.dh, ceil);
  p.OW = out_size(p.W, p.kw, p.pw, p.sw, p.dw, ceil);
  if (p.OH < 1 || p.OW < 1) throw std::runtime_error("pooling: output size is too small");
  return p;
}

Shape pooled(const Shape& xs, int64_t oh, int64_t ow) {
  Shape s;
  for (int i = 0; i + 2 < xs.n; ++i)
    s.push(xs.d[i]);
  s.push(oh);
  s.push(ow);
  return s;
}

template <class T>
using acc_t = calc_t<T>;

// Every plane in parallel: fn(plane index).
template <class F>
void planes(const Pool& p, F&& fn) {
  parallel_for(p.planes, 1, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i)
      fn(i);
  });
}

// take ? a : b by masks, so that the compiler cannot turn it back into a branch.
template <class V>
V pick(bool take, V a, V b) {
  using U = std::conditional_t<sizeof(V) == 8, uint64_t, uint32_t>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(V));
  std::memcpy(&ub, &b, sizeof(V));
  const U mask = U(0) - U(take);
  const U r = (ua & mask) | (ub & ~mask);
  V out;
  std::memcpy(&out, &r, sizeof(V));
  return out;
}

// ---- max: the first largest (or the last NaN) of each window, scanned row by row.
// KH x KW windows that all lie inside the image (no padding, no dilation): the same scan, for 8
// windows of a row at once, lane by lane, so their dependency chains overlap (and vectorize:
// the element's offset in the plane is kept as 32 bits, as wide as the value).
template <int KH, int KW, class T>
void max_inside(const Pool& p, const T* x, T* out, int64_t* idx) {
  constexpr int L = 8;
  const int64_t H = p.H, W = p.W, OH = p.OH, OW = p.OW, sh = p.sh, sw = p.sw;
  planes(p, [&](int64_t pl) {
    const T* xp = x + pl * H * W;
    T* op = out ? out + pl * OH * OW : nullptr;
    int64_t* ip = idx ? idx + pl * OH * OW : nullptr;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow0 = 0; ow0 < OW; ow0 += L) {
        const int n = int(std::min<int64_t>(L, OW - ow0));
        float m[L];
        int32_t best[L];
        for (int l = 0; l < L; ++l) {
          m[l] = -std::numeric_limits<float>::infinity();
          best[l] = int32_t(oh * sh * W + (ow0 + std::min(l, n - 1)) * sw);
        }
        for (int i = 0; i < KH; ++i)
          for (int j = 0; j < KW; ++j)
            for (int l = 0; l < L; ++l) {
              const int32_t at = int32_t(oh * sh * W + (ow0 + std::min(l, n - 1)) * sw + i * W + j);
              const float v = float(load(xp[at]));
              const bool take = (v > m[l]) | (v != v);
              m[l] = pick(take, v, m[l]);
              best[l] = pick(take, at, best[l]);
            }
        for (int l = 0; l < n; ++l) {
          if (op) op[oh * OW + ow0 + l] = cvt<T>(m[l]);
          if (ip) ip[oh * OW + ow0 + l] = best[l];
        }
      }
  });
}

bool all_inside(const Pool& p) {
  return p.ph == 0 && p.pw == 0 && p.dh == 1 && p.dw == 1 && (p.OH - 1) * p.sh + p.kh <= p.H &&
         (p.OW - 1) * p.sw + p.kw <= p.W;
}

// 2x2 windows at stride 2 inside the image, on the AVX2 path: kernels.h's max_2x2_avx2.
bool simd_2x2(const Pool& p) {
  return TG_HAVE_AVX2 && cpu::simd() && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 &&
         all_inside(p) && p.H * p.W < (int64_t(1) << 31);
}

template <class S, class T>
void max_2x2(const Pool& p, const T* x, T* out, int64_t* idx) {
  planes(p, [&](int64_t pl) {
    max_2x2_avx2(reinterpret_cast<const S*>(x) + pl * p.H * p.W, p.W, p.OW, 0, p.OH,
                 (p.planes - pl) * p.H * p.W,
                 out ? reinterpret_cast<S*>(out) + pl * p.OH * p.OW : nullptr,
                 idx ? idx + pl * p.OH * p.OW : nullptr);
  });
}

template <class T>
void max_windows(const Pool& p, const T* x, T* out, int64_t* idx) {
  const bool inside = all_inside(p);
  if constexpr (std::is_same<T, float>::value)
    if (simd_2x2(p)) return max_2x2<float>(p, x, out, idx);
  if constexpr (!std::is_same<acc_t<T>, double>::value) {  // float32 lanes: exact for both
    if (inside && p.H * p.W < (int64_t(1) << 31)) {
      if (p.kh == 2 && p.kw == 2) return max_inside<2, 2>(p, x, out, idx);
      if (p.kh == 3 && p.kw == 3) return max_inside<3, 3>(p, x, out, idx);
    }
  }
  planes(p, [&](int64_t pl) {
    const T* xp = x + pl * p.H * p.W;
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      int64_t h0 = oh * p.sh - p.ph;
      const int64_t h1 = std::min(h0 + (p.kh - 1) * p.dh + 1, p.H);
      while (h0 < 0)
        h0 += p.dh;
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        int64_t w0 = ow * p.sw - p.pw;
        const int64_t w1 = std::min(w0 + (p.kw - 1) * p.dw + 1, p.W);
        while (w0 < 0)
          w0 += p.dw;
        int64_t best = h0 * p.W + w0;
        acc_t<T> m = -std::numeric_limits<acc_t<T>>::infinity();
        // Selects, not branches: on real data which element wins is a coin toss, and a
        // mispredicted branch per element cost more than the rest of the loop.
        for (int64_t ih = h0; ih < h1; ih += p.dh)
          for (int64_t iw = w0; iw < w1; iw += p.dw) {
            const acc_t<T> v = load(xp[ih * p.W + iw]);
            const bool take = (v > m) | (v != v);
            m = pick(take, v, m);
            best = pick(take, ih * p.W + iw, best);
          }
        const int64_t o = (pl * p.OH + oh) * p.OW + ow;
        if (out) out[o] = cvt<T>(m);
        if (idx) idx[o] = best;
      }
    }
  });
}

Pool max_pool(const Shape& xs, const Shape& k, const Shape& s, const Shape& pad, const Shape& dil,
              bool ceil) {
  return windows(xs, Shape{k.d[0], k.d[1], s.d[0], s.d[1]},
                 Shape{pad.d[0], pad.d[1], dil.d[0], dil.d[1]}, ceil, true);
}

// ---- avg: ATen's window (clipped to the padded input first, for the divisor), summed row by row.
struct AvgWin {
  int64_t h0, h1, w0, w1, divide;
};
AvgWin avg_window(const Pool& p, int64_t oh, int64_t ow, bool cip, int64_t divisor) {
  int64_t h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
  int64_t h1 = std::min(h0 + p.kh, p.H + p.ph), w1 = std::min(w0 + p.kw, p.W + p.pw);
  const int64_t pool_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, p.H);
  w1 = std::min(w1, p.W);
  const int64_t divide = divisor ? divisor : cip ? pool_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divide};
}

// ---- adaptive: window [floor(o*I/O), ceil((o+1)*I/O)).
int64_t start_of(int64_t o, int64_t in, int64_t out) {
  return (o * in) / out;
}
int64_t end_of(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

// x[window] += d in T's arithmetic, one add at a time.
template <class T>
void add_at(T* x, T d) {
  *x = cvt<T>(load(*x) + load(d));
}

// +0 + g, exactly as T's add gives it.
template <class T>
T plus_zero(T g) {
  return cvt<T>(load(T{}) + load(g));
}
template <>
half plus_zero(half g) {  // by the bits: the scalar conversions cost more than the rest
  if (g.bits == 0x8000u) return half{0};
  const bool nan = (g.bits & 0x7c00u) == 0x7c00u && (g.bits & 0x3ffu) != 0;
  return half{uint16_t(nan ? g.bits | 0x200u : g.bits)};
}

}  // namespace

TensorPtr op::max_pool2d(const TensorPtr& x0, const Shape& kernel, const Shape& stride,
                         const Shape& padding, const Shape& dilation, bool ceil_mode) {
  const Pool p = max_pool(x0->shape, kernel, stride, padding, dilation, ceil_mode);
  const Shape os = pooled(x0->shape, p.OH, p.OW);
  auto out = empty(os, x0->dt);
  // The indices are kept for the backward (as PyTorch's node keeps them) when it will run.
  const bool keep = grad_enabled() && (x0->requires_grad || x0->grad_fn);
  TensorPtr idx = keep ? empty(os, DType::i64) : nullptr;
  TensorPtr x = dense(x0);
  launch({x.get(), out.get(), idx.get()}, [p, x = x.get(), out = out.get(), idx = idx.get()] {
    if (x->dt == DType::f16 && simd_2x2(p))
      return max_2x2<uint16_t>(p, x->as<half>(), out->as<half>(),
                               idx ? idx->as<int64_t>() : nullptr);
    if (x->dt == DType::f16) {  // compared as float32 (exact), converted by vectors
      Scratch xs(x->numel), os(out->numel);
      load_f32(*x, xs.data());
      max_windows<float>(p, xs.data(), os.data(), idx ? idx->as<int64_t>() : nullptr);
      store_f32(os.data(), *out);
      return;
    }
    visit_floating(x->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      max_windows<T>(p, x->as<T>(), out->as<T>(), idx ? idx->as<int64_t>() : nullptr);
    });
  });
  if (Node* n = record(OpCode::max_pool2d, out, {x0.get()})) {
    n->a1 = Shape{p.kh, p.kw, p.sh, p.sw};
    n->a2 = Shape{p.ph, p.pw, p.dh, p.dw};
    n->i1 = ceil_mode;
    if (idx) n->save(1, *idx);
  }
  return out;
}

TensorPtr op::max_pool2d_indices(const TensorPtr& x0, const Shape& kernel, const Shape& stride,
                                 const Shape& padding, const Shape& dilation, bool ceil_mode) {
  const Pool p = max_pool(x0->shape, kernel, stride, padding, dilation, ceil_mode);
  auto out = empty(pooled(x0->shape, p.OH, p.OW), DType::i64);
  TensorPtr x = dense(x0);
  launch({x.get(), out.get()}, [p, x = x.get(), out = out.get()] {
    visit_floating(x->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      max_windows<T>(p, x->as<T>(), nullptr, out->as<int64_t>());
    });
  });
  return out;
}

void Op_max_pool2d_indices::backward(Node&, const TensorPtr&, TensorPtr*) {
  throw std::logic_error("max_pool2d's indices have no gradient");
}

void Op_max_pool2d::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const Pool p = windows(n.in_shape[0], n.a1, n.a2, n.i1 != 0, true);
  const DType dt = n.in_dt[0];
  TensorPtr idx = n.saved[1].used ? n.unpack(1) : nullptr;
  TensorPtr x = n.unpack(0);  // read even beside the indices: a changed input raises, as PyTorch
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  auto gx = zeros(n.in_shape[0], dt);
  launch({x.get(), idx.get(), g.get(), gx.get()},
         [p, x = x.get(), idx = idx.get(), g = g.get(), gx = gx.get()] {
           visit_floating(gx->dt, "pooling", [&](auto tag) {
             using T = decltype(tag);
             std::vector<int64_t> found;
             const int64_t* ids = idx ? idx->as<int64_t>() : nullptr;
             if (!ids) {  // recorded without grad mode's indices: find them again
               found.resize(size_t(p.planes * p.OH * p.OW));
               max_windows<T>(p, x->as<T>(), nullptr, found.data());
               ids = found.data();
             }
             const T* gp = g->as<T>();
             T* q = gx->as<T>();
             // Windows apart (along both dims) pick each input at most once: its one add is to
             // a zero, which only turns -0 into +0 (and quiets a NaN).
             const bool apart = (p.kh - 1) * p.dh < p.sh && (p.kw - 1) * p.dw < p.sw;
             planes(p, [&](int64_t pl) {
               const int64_t* ip = ids + pl * p.OH * p.OW;
               const T* gs = gp + pl * p.OH * p.OW;
               T* d = q + pl * p.H * p.W;
               if (apart)
                 for (int64_t o = 0; o < p.OH * p.OW; ++o)
                   d[ip[o]] = plus_zero(gs[o]);
               else
                 for (int64_t o = 0; o < p.OH * p.OW; ++o)
                   add_at(d + ip[o], gs[o]);
             });
           });
         });
  gin[0] = gx;
}

TensorPtr op::avg_pool2d(const TensorPtr& x0, const Shape& kernel, const Shape& stride,
                         const Shape& padding, bool ceil_mode, bool count_include_pad,
                         int64_t divisor_override) {
  const Shape a1{kernel.d[0], kernel.d[1], stride.d[0], stride.d[1]};
  const Shape a2{padding.d[0], padding.d[1], ceil_mode, count_include_pad};
  const Pool p = windows(x0->shape, a1, a2, ceil_mode, false);
  auto out = empty(pooled(x0->shape, p.OH, p.OW), x0->dt);
  TensorPtr x = dense(x0);
  const bool cip = count_include_pad;
  const int64_t div = divisor_override;
  launch({x.get(), out.get()}, [p, cip, div, x = x.get(), out = out.get()] {
    visit_floating(x->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      const T* xs = x->as<T>();
      T* q = out->as<T>();
      planes(p, [&](int64_t pl) {
        const T* xp = xs + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; ++oh)
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            const AvgWin w = avg_window(p, oh, ow, cip, div);
            T& o = q[(pl * p.OH + oh) * p.OW + ow];
            if (w.h0 >= w.h1 || w.w0 >= w.w1) {
              o = T{};
              continue;
            }
            acc_t<T> sum = 0;
            for (int64_t ih = w.h0; ih < w.h1; ++ih)
              for (int64_t iw = w.w0; iw < w.w1; ++iw)
                sum += load(xp[ih * p.W + iw]);
            o = cvt<T>(sum / acc_t<T>(w.divide));
          }
      });
    });
  });
  if (Node* n = record(OpCode::avg_pool2d, out, {x0.get()})) {
    n->a1 = a1;
    n->a2 = a2;
    n->i1 = int(divisor_override);
  }
  return out;
}

void Op_avg_pool2d::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const bool ceil = n.a2.d[2] != 0, cip = n.a2.d[3] != 0;
  const int64_t div = n.i1;
  const Pool p = windows(n.in_shape[0], n.a1, n.a2, ceil, false);
  const DType dt = n.in_dt[0];
  n.unpack(0);  // kept only to raise, as PyTorch, when the input changed in place since
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  auto gx = zeros(n.in_shape[0], dt);
  launch({g.get(), gx.get()}, [p, cip, div, g = g.get(), gx = gx.get()] {
    visit_floating(g->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      const T* gs = g->as<T>();
      T* q = gx->as<T>();
      planes(p, [&](int64_t pl) {
        T* d = q + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; ++oh)
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            const AvgWin w = avg_window(p, oh, ow, cip, div);
            const T delta = cvt<T>(load(gs[(pl * p.OH + oh) * p.OW + ow]) / acc_t<T>(w.divide));
            for (int64_t ih = w.h0; ih < w.h1; ++ih)
              for (int64_t iw = w.w0; iw < w.w1; ++iw)
                add_at(d + ih * p.W + iw, delta);
          }
      });
    });
  });
  gin[0] = gx;
}

TensorPtr op::adaptive_avg_pool2d(const TensorPtr& x0, const Shape& output_size) {
  Pool p = geometry(x0->shape);
  p.OH = output_size.d[0];
  p.OW = output_size.d[1];
  if (p.OH < 1 || p.OW < 1 || p.H < 1 || p.W < 1)
    throw std::runtime_error("adaptive_avg_pool2d: sizes must be positive");
  auto out = empty(pooled(x0->shape, p.OH, p.OW), x0->dt);
  TensorPtr x = dense(x0);
  launch({x.get(), out.get()}, [p, x = x.get(), out = out.get()] {
    visit_floating(x->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      using A = acc_t<T>;
      const T* xs = x->as<T>();
      T* q = out->as<T>();
      planes(p, [&](int64_t pl) {
        const T* xp = xs + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          const int64_t h0 = start_of(oh, p.H, p.OH), h1 = end_of(oh, p.H, p.OH);
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            const int64_t w0 = start_of(ow, p.W, p.OW), w1 = end_of(ow, p.W, p.OW);
            A sum = 0;
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw)
                sum += load(xp[ih * p.W + iw]);
            q[(pl * p.OH + oh) * p.OW + ow] = cvt<T>(sum / A(h1 - h0) / A(w1 - w0));
          }
        }
      });
    });
  });
  if (Node* n = record(OpCode::adaptive_avg_pool2d, out, {x0.get()})) n->a1 = Shape{p.OH, p.OW};
  return out;
}

void Op_adaptive_avg_pool2d::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  Pool p = geometry(n.in_shape[0]);
  p.OH = n.a1.d[0];
  p.OW = n.a1.d[1];
  const DType dt = n.in_dt[0];
  n.unpack(0);  // kept only to raise, as PyTorch, when the input changed in place since
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  auto gx = zeros(n.in_shape[0], dt);
  launch({g.get(), gx.get()}, [p, g = g.get(), gx = gx.get()] {
    visit_floating(g->dt, "pooling", [&](auto tag) {
      using T = decltype(tag);
      using A = acc_t<T>;
      const T* gs = g->as<T>();
      T* q = gx->as<T>();
      planes(p, [&](int64_t pl) {
        T* d = q + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          const int64_t h0 = start_of(oh, p.H, p.OH), h1 = end_of(oh, p.H, p.OH);
          for (int64_t ow = 0; ow < p.OW; ++ow) {
            const int64_t w0 = start_of(ow, p.W, p.OW), w1 = end_of(ow, p.W, p.OW);
            // ATen divides in the tensor's dtype, twice (a float16 quotient rounds each time)
            const T once = cvt<T>(load(gs[(pl * p.OH + oh) * p.OW + ow]) / A(h1 - h0));
            const T delta = cvt<T>(load(once) / A(w1 - w0));
            for (int64_t ih = h0; ih < h1; ++ih)
              for (int64_t iw = w0; iw < w1; ++iw)
                add_at(d + ih * p.W + iw, delta);
          }
        }
      });
    });
  });
  gin[0] = gx;
}

}  // namespace tg
