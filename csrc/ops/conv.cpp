// convolution (1-D and 2-D, stride, padding, dilation, groups) as im2col + the packed GEMM.
// A chunk of samples is unfolded at a time into a column matrix (K = Cg*KH*KW rows, one column per
// output position of every sample in the chunk), so each group's product is one large GEMM that
// the GEMM itself threads. The chunk size depends on the shapes only, never on the thread count,
// so the bits do not either.
// float16 follows PyTorch's CPU path for half (slow_conv2d: im2col, then a half gemm started from
// the bias): the float32 dot product in the order of its gemm, plus float(bias), rounded once.
// Its backward too (conv_backward_f16). float32 and float64 accumulate in their own dtype and
// round once.
#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/capture.h"
#include "core/cpu.h"
#include "core/threads.h"
#include "kernels/conv_direct.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/product.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

struct Conv {
  int64_t N, C, H, W, OC, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, pb, pr, G;
  int64_t Cg() const { return C / G; }
  int64_t OCg() const { return OC / G; }
  int64_t K() const { return Cg() * KH * KW; }
  int64_t P() const { return OH * OW; }
  // Samples per chunk: the column matrix stays near 4 Mi elements (one sample at least).
  int64_t chunk() const {
    const int64_t per = std::max<int64_t>(K() * P(), 1);
    return std::max<int64_t>(1, std::min<int64_t>(N, (int64_t(1) << 22) / per));
  }
};

Conv conv_of(const Shape& xs, const Shape& ws, const Shape& a1, const Shape& a2, int64_t groups) {
  const bool one = xs.n == 3;
  Conv c{};
  c.N = xs.d[0];
  c.C = xs.d[1];
  c.H = one ? 1 : xs.d[2];
  c.W = xs.d[xs.n - 1];
  c.OC = ws.d[0];
  c.KH = one ? 1 : ws.d[2];
  c.KW = ws.d[ws.n - 1];
  c.sh = a1.d[0];
  c.sw = a1.d[1];
  c.dh = a1.d[2];
  c.dw = a1.d[3];
  c.pt = a2.d[0];
  c.pl = a2.d[1];
  c.pb = a2.d[2];
  c.pr = a2.d[3];
  c.G = groups;
  c.OH = (c.H + c.pt + a2.d[2] - c.dh * (c.KH - 1) - 1) / c.sh + 1;
  c.OW = (c.W + c.pl + a2.d[3] - c.dw * (c.KW - 1) - 1) / c.sw + 1;
  return c;
}

// Working memory from the per-thread scratch pool: the column matrices are megabytes, and a fresh
// allocation of that size would fault its pages in on every call.
template <class T>
class Buf {
 public:
  explicit Buf(int64_t n) : s_(std::max<int64_t>(1, (n * int64_t(sizeof(T)) + 3) / 4)) {}
  T* get() { return reinterpret_cast<T*>(s_.data()); }
  T& operator[](size_t i) { return get()[i]; }

 private:
  Scratch s_;
};

// The output columns ow of row kw whose input column lies inside the image: [lo, hi).
void valid_cols(const Conv& c, int64_t kw, int64_t* lo, int64_t* hi) {
  const int64_t off = kw * c.dw - c.pl;  // iw = ow*sw + off
  int64_t a = off >= 0 ? 0 : (-off + c.sw - 1) / c.sw;
  int64_t b = c.W - off <= 0 ? 0 : (c.W - off + c.sw - 1) / c.sw;
  *lo = std::min(a, c.OW);
  *hi = std::max(*lo, std::min(b, c.OW));
}

// A short run of n elements as fixed-size moves: 32 bytes at a time, the last 32 overlapping,
// and runs under 32 bytes by their binary digits. GCC turns a copy or fill loop of run-time length
// into a memmove/memset call, and a call per row of 10 to 28 elements (LeNet's) was most of
// im2col's time.
template <class U>
inline void copy_run(U* __restrict d, const U* __restrict s, int64_t n) {
  constexpr int64_t V = 32 / int64_t(sizeof(U));
  if (n >= V) {
    for (int64_t i = 0; i + V <= n; i += V)
      std::memcpy(d + i, s + i, 32);
    if (n % V) std::memcpy(d + n - V, s + n - V, 32);
    return;
  }
  const int64_t bytes = n * int64_t(sizeof(U));
  char* dc = reinterpret_cast<char*>(d);
  const char* sc = reinterpret_cast<const char*>(s);
  if (bytes & 16) std::memcpy(dc, sc, 16), dc += 16, sc += 16;
  if (bytes & 8) std::memcpy(dc, sc, 8), dc += 8, sc += 8;
  if (bytes & 4) std::memcpy(dc, sc, 4), dc += 4, sc += 4;
  if (bytes & 2) std::memcpy(dc, sc, 2);
}

template <class U>
inline void zero_run(U* d, int64_t n) {
  constexpr int64_t V = 32 / int64_t(sizeof(U));
  if (n >= V) {
    for (int64_t i = 0; i + V <= n; i += V)
      std::memset(d + i, 0, 32);
    if (n % V) std::memset(d + n - V, 0, 32);
    return;
  }
  const int64_t bytes = n * int64_t(sizeof(U));
  char* dc = reinterpret_cast<char*>(d);
  if (bytes & 16) std::memset(dc, 0, 16), dc += 16;
  if (bytes & 8) std::memset(dc, 0, 8), dc += 8;
  if (bytes & 4) std::memset(dc, 0, 4), dc += 4;
  if (bytes & 2) std::memset(dc, 0, 2);
}

// col[(c*KH + kh)*KW + kw][i*P + oh*OW + ow] = x[n0+i, grp*Cg + c, ih, iw] (0 in the padding),
// copied as raw bits (an unsigned type of T's size).
template <class T>
void im2col(const Conv& c, const T* x, int64_t grp, int64_t n0, int64_t nb, T* col) {
  using U = std::conditional_t<sizeof(T) == 2, uint16_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
  static_assert(sizeof(U) == sizeof(T), "im2col copies elements as raw bits");
  const int64_t P = c.P(), ld = nb * P, Cg = c.Cg();
  parallel_for(nb * Cg, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t i = u / Cg, ch = u % Cg;
      const U* src = reinterpret_cast<const U*>(x) + ((n0 + i) * c.C + grp * Cg + ch) * c.H * c.W;
      for (int64_t kh = 0; kh < c.KH; ++kh)
        for (int64_t kw = 0; kw < c.KW; ++kw) {
          int64_t lo, hi;
          valid_cols(c, kw, &lo, &hi);
          U* dst = reinterpret_cast<U*>(col) + ((ch * c.KH + kh) * c.KW + kw) * ld + i * P;
          for (int64_t oh = 0; oh < c.OH; ++oh) {
            const int64_t ih = oh * c.sh - c.pt + kh * c.dh;
            U* __restrict d = dst + oh * c.OW;
            if (ih < 0 || ih >= c.H) {
              zero_run(d, c.OW);
              continue;
            }
            const U* __restrict s = src + ih * c.W + kw * c.dw - c.pl;
            zero_run(d, lo);
            if (c.sw == 1)
              copy_run(d + lo, s + lo, hi - lo);
            else
              for (int64_t ow = lo; ow < hi; ++ow)
                d[ow] = s[ow * c.sw];
            zero_run(d + hi, c.OW - hi);
          }
        }
    }
  });
}

// The adjoint of im2col: dx[n0+i, grp*Cg + c] += every column entry that was read from it.
template <class A>
void col2im(const Conv& c, const A* col, int64_t grp, int64_t n0, int64_t nb, A* dx) {
  const int64_t P = c.P(), ld = nb * P, Cg = c.Cg();
  parallel_for(nb * Cg, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t i = u / Cg, ch = u % Cg;
      A* plane = dx + ((n0 + i) * c.C + grp * Cg + ch) * c.H * c.W;
      for (int64_t kh = 0; kh < c.KH; ++kh)
        for (int64_t kw = 0; kw < c.KW; ++kw) {
          int64_t lo, hi;
          valid_cols(c, kw, &lo, &hi);
          const A* src = col + ((ch * c.KH + kh) * c.KW + kw) * ld + i * P;
          for (int64_t oh = 0; oh < c.OH; ++oh) {
            const int64_t ih = oh * c.sh - c.pt + kh * c.dh;
            if (ih < 0 || ih >= c.H) continue;
            A* d = plane + ih * c.W + kw * c.dw - c.pl;
            const A* s = src + oh * c.OW;
            for (int64_t ow = lo; ow < hi; ++ow)
              d[ow * c.sw] += s[ow];
          }
        }
    }
  });
}

// col2im for float16, as ATen's: each add rounds to float16. col holds float16 values widened to
// float32 (or, with `round_col`, float32 sums to round to float16 first). A sample's planes are
// kept in float32. Within one (kh, kw) pass no element is added to twice (ih and iw grow with oh
// and ow), so every element sees the same adds, each rounded, in the same order as one add at a
// time: on the AVX2 path (stride 1 across) each add is rounded as it is made, elsewhere the
// planes are rounded after each pass.
void col2im_f16(const Conv& c, const float* col, int64_t grp, int64_t n0, int64_t nb, half* dx,
                bool round_col) {
  const int64_t P = c.P(), ld = nb * P, Cg = c.Cg(), plane = c.H * c.W;
  if (round_col && c.sh == 1 && c.sw == 1 && cpu::wide()) {
    const convd::Col2imF16 q{Cg, c.H, c.W, c.KH, c.KW, c.dh, c.dw, c.pt, c.pl, c.OH, c.OW, ld};
    parallel_for(nb, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        convd::col2im_f16_avx512(q, col + i * P, &dx[((n0 + i) * c.C + grp * Cg) * plane].bits);
    });
    return;
  }
  parallel_for(nb, 1, [&](int64_t i0, int64_t i1) {
    Buf<float> buf(Cg * plane);
    float* f = buf.get();
    for (int64_t i = i0; i < i1; ++i) {
      uint16_t* d16 = &dx[((n0 + i) * c.C + grp * Cg) * plane].bits;
      widen_block(d16, f, Cg * plane);
      for (int64_t kh = 0; kh < c.KH; ++kh)
        for (int64_t kw = 0; kw < c.KW; ++kw) {
          int64_t lo, hi;
          valid_cols(c, kw, &lo, &hi);
          // The rows oh whose input row ih = oh*sh - pt + kh*dh lies inside: [r0, r1).
          const int64_t top = c.pt - kh * c.dh;
          const int64_t r0 = std::min(c.OH, top > 0 ? (top + c.sh - 1) / c.sh : 0);
          const int64_t r1 = std::max(r0, std::min(c.OH, (c.H + top + c.sh - 1) / c.sh));
          for (int64_t ch = 0; ch < Cg; ++ch) {
            const float* src = col + ((ch * c.KH + kh) * c.KW + kw) * ld + i * P;
            if (round_col) {
              float* d = f + ch * plane + (r0 * c.sh - top) * c.W + kw * c.dw - c.pl;
              convd::add_rounded_f16_avx2(d + lo, c.sh * c.W, src + r0 * c.OW + lo, c.OW, r1 - r0,
                                          hi - lo);
              continue;
            }
            for (int64_t oh = 0; oh < c.OH; ++oh) {
              const int64_t ih = oh * c.sh - c.pt + kh * c.dh;
              if (ih < 0 || ih >= c.H) continue;
              float* d = f + ch * plane + ih * c.W + kw * c.dw - c.pl;
              const float* s = src + oh * c.OW;
              for (int64_t ow = lo; ow < hi; ++ow)
                d[ow * c.sw] += s[ow];
            }
          }
          if (round_col) continue;
          narrow_block(f, d16, Cg * plane);
          if (kh + 1 < c.KH || kw + 1 < c.KW) widen_block(d16, f, Cg * plane);
        }
      if (round_col) narrow_block(f, d16, Cg * plane);
    }
  });
}

// The dtype products accumulate in, and its C++ type: float32 (float16 and float32) or float64.
template <class T>
using acc_of = std::conditional_t<std::is_same<T, double>::value, double, float>;
template <class T>
DType acc_dt() {
  return std::is_same<T, double>::value ? DType::f64 : DType::f32;
}

// ---- the direct path (kernels/conv_direct.h): float32, stride 1, on the AVX2 path

bool direct_ok(const Conv& c, DType dt) {
  return dt == DType::f32 && c.sh == 1 && c.sw == 1 && cpu::simd();
}

// x (N, C, H, W) zero-padded by (top, left, bottom, right) into planes of Hp x Wp, with the
// kernel's 16 floats of slack after the last.
template <class S>
void pad_planes(const S* x, int64_t planes, int64_t H, int64_t W, int64_t t, int64_t l, int64_t Hp,
                int64_t Wp, float* xp) {
  parallel_for(planes, 4, [&](int64_t a, int64_t b) {
    // float16 planes are widened a chunk at a time (one call, not one per short row).
    Buf<float> wide(std::is_same<S, half>::value ? (b - a) * H * W : 0);
    if constexpr (std::is_same<S, half>::value)
      widen_block(&x[a * H * W].bits, wide.get(), (b - a) * H * W);
    for (int64_t q = a; q < b; ++q) {
      float* d = xp + q * Hp * Wp;
      const float* s;
      if constexpr (std::is_same<S, half>::value)
        s = wide.get() + (q - a) * H * W;
      else
        s = x + q * H * W;
      const uint32_t* su = reinterpret_cast<const uint32_t*>(s);
      for (int64_t i = 0; i < Hp; ++i) {
        uint32_t* row = reinterpret_cast<uint32_t*>(d + i * Wp);
        const int64_t ih = i - t;
        if (ih < 0 || ih >= H) {
          zero_run(row, Wp);
          continue;
        }
        zero_run(row, l);
        copy_run(row + l, su + ih * W, W);
        zero_run(row + l + W, Wp - l - W);
      }
    }
  });
  for (int64_t j = 0; j < 16; ++j)
    xp[planes * Hp * Wp + j] = 0.0f;
}

// out (N, OC, OH, OW) = the stride-1 correlation of x (N, C, H, W), padded by (t, l, b, r), with
// w (OC, C/G, KH, KW) per group, plus bias.
void direct_conv(const float* x, int64_t N, int64_t C, int64_t H, int64_t W, const float* w,
                 int64_t OC, int64_t KH, int64_t KW, int64_t dh, int64_t dw, int64_t G,
                 const int64_t pad[4], const float* bias, float* out) {
  const int64_t Hp = H + pad[0] + pad[2], Wp = W + pad[1] + pad[3];
  convd::Plan p{C / G, Hp, Wp,   OC / G, KH, KW, Hp - dh * (KH - 1), Wp - dw * (KW - 1),
                dh,    dw, false};
  p.by_channel = convd::by_channel(p.OC, p.OW);
  Buf<float> xp(N * C * Hp * Wp + 16), wp(G * convd::packed_size(p));
  pad_planes(x, N * C, H, W, pad[0], pad[1], Hp, Wp, xp.get());
  for (int64_t g = 0; g < G; ++g)
    convd::pack_weights(p, w + g * p.OC * p.K(), wp.get() + g * convd::packed_size(p));
  // Units of (sample, group, a band of rows): enough of them for the threads to share.
  const int64_t bands = std::min<int64_t>(p.OH, std::max<int64_t>(1, 8 / (N * G) + 1));
  const int64_t per = (p.OH + bands - 1) / bands, P = p.OH * p.OW;
  const bool wide = p.by_channel && cpu::wide();
  parallel_for(N * G * bands, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t n = u / (G * bands), g = (u / bands) % G, band = u % bands;
      const int64_t oh0 = band * per, oh1 = std::min(p.OH, oh0 + per);
      if (oh0 >= oh1) continue;
      (wide ? convd::run_avx512 : convd::run_avx2)(
          p, xp.get() + (n * C + g * p.C) * Hp * Wp, wp.get() + g * convd::packed_size(p),
          bias ? bias + g * p.OC : nullptr, out + (n * OC + g * p.OC) * P, P, oh0, oh1);
    }
  });
}

// Where tap k = (c*KH + kh)*KW + kw of a kernel reads, relative to an output's position, in
// input planes padded to Hp x Wp.
int64_t tap_offset(const Conv& c, int64_t k, int64_t Hp, int64_t Wp) {
  const int64_t ch = k / (c.KH * c.KW), kh = k / c.KW % c.KH, kw = k % c.KW;
  return (ch * Hp + kh * c.dh) * Wp + kw * c.dw;
}

// float16's forward as direct_conv computes float32's, every output in the order of ATen's half
// gemm over im2col (interleave4, see the top of this file): the same bits as the im2col path,
// without its column matrix and packing.
void direct_conv_f16(const Conv& c, const half* x, const half* w, const half* bias, half* out) {
  const int64_t Hp = c.H + c.pt + c.pb, Wp = c.W + c.pl + c.pr, G = c.G;
  convd::Plan p{c.Cg(), Hp, Wp, c.OCg(), c.KH, c.KW, c.OH, c.OW, c.dh, c.dw, false};
  p.by_channel = convd::by_channel(p.OC, p.OW);
  const int64_t K = p.K(), k4 = K & ~int64_t(3), P = p.OH * p.OW;
  // The steps in chain order: k = r, r + 4, ... below k4 for chain r; chain 0 then takes the
  // tail k4, ..., K - 1.
  std::vector<int64_t> ks, off;
  convd::Chains ch{nullptr, {0, 0, 0, 0, 0}};
  for (int64_t r = 0; r < 4; ++r) {
    for (int64_t k = r; k < k4; k += 4)
      ks.push_back(k);
    if (r == 0)
      for (int64_t k = k4; k < K; ++k)
        ks.push_back(k);
    ch.seg[r + 1] = int64_t(ks.size());
  }
  for (int64_t k : ks)
    off.push_back(tap_offset(c, k, Hp, Wp));
  ch.off = off.data();
  const int64_t wsize = convd::packed_size(p), bsize = p.blocks() * p.lanes();
  Buf<float> xp(c.N * c.C * Hp * Wp + 32), wf(c.OC * K), wp(G * wsize), bf(G * bsize);
  pad_planes(x, c.N * c.C, c.H, c.W, c.pt, c.pl, Hp, Wp, xp.get());
  std::fill(xp.get() + c.N * c.C * Hp * Wp + 16, xp.get() + c.N * c.C * Hp * Wp + 32, 0.0f);
  widen_block(&w[0].bits, wf.get(), c.OC * K);
  for (int64_t g = 0; g < G; ++g) {
    convd::pack_weights_in(p, wf.get() + g * p.OC * K, ks.data(), wp.get() + g * wsize);
    for (int64_t o = 0; o < bsize; ++o)
      bf[size_t(g * bsize + o)] = bias && o < p.OC ? float(load(bias[g * p.OC + o])) : 0.0f;
  }
  const int64_t bands = std::min<int64_t>(p.OH, std::max<int64_t>(1, 8 / (c.N * G) + 1));
  const int64_t per = (p.OH + bands - 1) / bands;
  const bool wide = cpu::wide();
  parallel_for(c.N * G * bands, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t n = u / (G * bands), g = (u / bands) % G, band = u % bands;
      const int64_t oh0 = band * per, oh1 = std::min(p.OH, oh0 + per);
      if (oh0 >= oh1) continue;
      (wide ? convd::run_f16_avx512 : convd::run_f16_avx2)(
          p, ch, xp.get() + (n * c.C + g * p.C) * Hp * Wp, wp.get() + g * wsize,
          bias ? bf.get() + g * bsize : nullptr, &out[(n * c.OC + g * p.OC) * P].bits, P, oh0, oh1);
    }
  });
}

// The input gradient as a direct convolution of g (padded by what the forward's padding leaves
// of the dilated kernel) with the flipped weights: possible when no padding exceeds that.
bool direct_input_grad_ok(const Conv& c) {
  const int64_t eh = (c.KH - 1) * c.dh, ew = (c.KW - 1) * c.dw;
  return c.pt <= eh && c.pb <= eh && c.pl <= ew && c.pr <= ew;
}

void direct_backward(const Conv& c, const float* g, const float* x, const float* w, float* gx,
                     float* gw) {
  const int64_t Cg = c.Cg(), OCg = c.OCg(), K = c.K(), P = c.P();
  if (gx) {  // w'[grp][ch][o][kh][kw] = w[grp*OCg + o][ch][KH-1-kh][KW-1-kw]
    Buf<float> wt(c.OC * K);
    float* q = wt.get();
    for (int64_t grp = 0; grp < c.G; ++grp)
      for (int64_t ch = 0; ch < Cg; ++ch)
        for (int64_t o = 0; o < OCg; ++o)
          for (int64_t kh = 0; kh < c.KH; ++kh)
            for (int64_t kw = 0; kw < c.KW; ++kw)
              *q++ = w[(((grp * OCg + o) * Cg + ch) * c.KH + c.KH - 1 - kh) * c.KW + c.KW - 1 - kw];
    const int64_t eh = (c.KH - 1) * c.dh, ew = (c.KW - 1) * c.dw;
    const int64_t pad[4] = {eh - c.pt, ew - c.pl, eh - c.pb, ew - c.pr};
    direct_conv(g, c.N, c.OC, c.OH, c.OW, wt.get(), c.C, c.KH, c.KW, c.dh, c.dw, c.G, pad, nullptr,
                gx);
  }
  if (gw) {
    const int64_t Hp = c.H + c.pt + c.pb, Wp = c.W + c.pl + c.pr;
    Buf<float> xp(c.N * c.C * Hp * Wp + 16);
    pad_planes(x, c.N * c.C, c.H, c.W, c.pt, c.pl, Hp, Wp, xp.get());
    const convd::GradPlan p{c.N,  Cg,   Hp,   Wp,   c.KH,     c.KW,
                            c.OH, c.OW, c.dh, c.dw, c.OC * P, c.C * Hp * Wp};
    if (convd::grad_by_channel(OCg, K, c.OW)) {  // g transposed: positions by channels
      const int64_t ld = (OCg + 15) / 16 * 16, blocks = ld / 16, cols = (K + 5) / 6;
      Buf<float> gt(c.N * P * ld);
      for (int64_t grp = 0; grp < c.G; ++grp) {
        parallel_for(c.N, 1, [&](int64_t n0, int64_t n1) {
          for (int64_t n = n0; n < n1; ++n)
            for (int64_t pos = 0; pos < P; ++pos)
              for (int64_t o = 0; o < ld; ++o)
                gt[size_t((n * P + pos) * ld + o)] =
                    o < OCg ? g[(n * c.OC + grp * OCg + o) * P + pos] : 0.0f;
        });
        parallel_for(blocks * cols, 1, [&](int64_t u0, int64_t u1) {
          for (int64_t u = u0; u < u1; ++u) {
            const int64_t oc0 = u / cols * 16, k0 = u % cols * 6;
            convd::weight_grad_channels_avx2(p, gt.get(), ld, xp.get() + grp * Cg * Hp * Wp, oc0,
                                             std::min<int64_t>(16, OCg - oc0), k0,
                                             std::min<int64_t>(6, K - k0), gw + grp * OCg * K);
          }
        });
      }
      return;
    }
    const int64_t rows = (OCg + 5) / 6, cols = (K + 1) / 2;
    parallel_for(c.G * rows * cols, 1, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t grp = u / (rows * cols), o0 = (u / cols) % rows * 6, k0 = u % cols * 2;
        convd::weight_grad_avx2(p, g + grp * OCg * P, xp.get() + grp * Cg * Hp * Wp, o0,
                                std::min<int64_t>(6, OCg - o0), k0, std::min<int64_t>(2, K - k0),
                                gw + (grp * OCg + o0) * K);
      }
    });
  }
}

template <class T>
void conv_forward(const Conv& c, const TensorImpl& x, const TensorImpl& w, const TensorImpl* b,
                  TensorImpl& out) {
  using A = acc_of<T>;
  const int64_t P = c.P(), K = c.K(), OCg = c.OCg(), step = c.chunk();
  const T* xp = x.as<T>();
  const T* wp = w.as<T>();
  const T* bp = b ? b->as<T>() : nullptr;
  T* op = out.as<T>();
  if constexpr (std::is_same<T, float>::value) {
    if (direct_ok(c, x.dt)) {
      const int64_t pad[4] = {c.pt, c.pl, c.pb, c.pr};
      direct_conv(xp, c.N, c.C, c.H, c.W, wp, c.OC, c.KH, c.KW, c.dh, c.dw, c.G, pad, bp, op);
      return;
    }
  }
  if constexpr (std::is_same<T, half>::value) {
    if (c.sh == 1 && c.sw == 1 && cpu::simd()) {
      direct_conv_f16(c, xp, wp, bp, op);
      return;
    }
  }
  Buf<T> col(K * step * P);
  Buf<A> acc(OCg * step * P);
  for (int64_t n0 = 0; n0 < c.N; n0 += step) {
    const int64_t nb = std::min(step, c.N - n0), ld = nb * P;
    for (int64_t g = 0; g < c.G; ++g) {
      im2col(c, xp, g, n0, nb, col.get());
      const MatRef Wg{wp + g * OCg * K, w.dt, K, 1}, Col{col.get(), x.dt, ld, 1};
      if (std::is_same<T, float>::value)  // col's rows pack as they lie: no transposed product
        gemm(OCg, ld, K, Wg, Col, reinterpret_cast<float*>(acc.get()), ld, false, false);
      else
        product(OCg, ld, K, Wg, Col, Out{acc.get(), acc_dt<T>()}, ld, false, F16Order::interleave4);
      parallel_for(nb * OCg, 1, [&](int64_t u0, int64_t u1) {
        for (int64_t u = u0; u < u1; ++u) {
          const int64_t i = u / OCg, o = u % OCg;
          const A bias = bp ? A(load(bp[g * OCg + o])) : A(0);
          const A* s = acc.get() + o * ld + i * P;
          T* d = op + ((n0 + i) * c.OC + g * OCg + o) * P;
          if constexpr (std::is_same<T, half>::value) {  // bias + sum, then one rounding
            A* row = const_cast<A*>(s);
            if (bp)
              for (int64_t p = 0; p < P; ++p)
                row[p] = bias + row[p];
            narrow_block(row, &d[0].bits, P);
            continue;
          }
          for (int64_t p = 0; p < P; ++p)
            d[p] = cvt<T>(bp ? bias + s[p] : s[p]);
        }
      });
    }
  }
}

// One group's gradient rows for samples [n0, n0 + nb) side by side: gt[o][i*P + p] =
// g[n0 + i][grp*OCg + o][p], converted to D (copied as they are when S is D).
template <class S, class D>
void gather_grad_rows(const Conv& c, const S* g, int64_t grp, int64_t n0, int64_t nb, D* gt) {
  const int64_t P = c.P(), OCg = c.OCg(), ld = nb * P;
  parallel_for(nb * OCg, 1, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t i = u / OCg, o = u % OCg;
      const S* s = g + ((n0 + i) * c.OC + grp * OCg + o) * P;
      D* d = gt + o * ld + i * P;
      if constexpr (std::is_same<S, D>::value)
        std::copy(s, s + P, d);
      else
        for (int64_t p = 0; p < P; ++p)
          d[p] = D(load(s[p]));
    }
  });
}

// gx and gw (either may be null: not wanted) of the convolution, from g (the output's shape).
template <class T>
void conv_backward(const Conv& c, const TensorImpl& g, const TensorImpl* x, const TensorImpl* w,
                   TensorImpl* gx, TensorImpl* gw) {
  if constexpr (std::is_same<T, float>::value) {
    if (direct_ok(c, g.dt) && (!gx || direct_input_grad_ok(c))) {
      direct_backward(c, g.as<float>(), x ? x->as<float>() : nullptr, w ? w->as<float>() : nullptr,
                      gx ? gx->as<float>() : nullptr, gw ? gw->as<float>() : nullptr);
      return;
    }
  }
  using A = acc_of<T>;
  const DType adt = acc_dt<T>();
  const int64_t P = c.P(), K = c.K(), OCg = c.OCg(), step = c.chunk();
  const T* gp = g.as<T>();
  Buf<A> gt(OCg * step * P);  // one group's gradient rows: (o, i*P + p)
  Buf<T> col(gw ? K * step * P : 0);
  Buf<A> dcol(gx ? K * step * P : 0);
  Buf<A> dx(gx ? c.N * c.C * c.H * c.W : 0), dw(gw ? c.OC * K : 0);
  if (gx) std::fill(dx.get(), dx.get() + c.N * c.C * c.H * c.W, A(0));
  for (int64_t n0 = 0; n0 < c.N; n0 += step) {
    const int64_t nb = std::min(step, c.N - n0), ld = nb * P;
    for (int64_t grp = 0; grp < c.G; ++grp) {
      gather_grad_rows(c, gp, grp, n0, nb, gt.get());
      const MatRef G{gt.get(), adt, ld, 1};
      if (gw) {  // dW[o, k] += sum over columns of G[o, j] * col[k, j]
        im2col(c, x->as<T>(), grp, n0, nb, col.get());
        product(OCg, K, ld, G, MatRef{col.get(), x->dt, 1, ld}, Out{dw.get() + grp * OCg * K, adt},
                K, n0 > 0, F16Order::sequential);
      }
      if (gx) {  // dcol[k, j] = sum over o of W[o, k] * G[o, j], then folded back
        product(K, ld, OCg, MatRef{w->as<T>() + grp * OCg * K, w->dt, 1, K}, G,
                Out{dcol.get(), adt}, ld, false, F16Order::interleave4);
        col2im(c, dcol.get(), grp, n0, nb, dx.get());
      }
    }
  }
  if (gx) {
    T* q = gx->as<T>();
    for (int64_t i = 0; i < gx->numel; ++i)
      q[i] = cvt<T>(dx[size_t(i)]);
  }
  if (gw) {
    T* q = gw->as<T>();
    for (int64_t i = 0; i < gw->numel; ++i)
      q[i] = cvt<T>(dw[size_t(i)]);
  }
}

// float16's gx: per sample, dcol = w^T @ g (each element a sequential float32 dot over the output
// channels, from +0), rounded to float16 and folded back with float16 adds (col2im). Each
// element's dot involves its own sample only, so a chunk of samples is one product: g's rows of
// the chunk side by side (o, i*P + p), then the same dots.
void conv_input_grad_f16(const Conv& c, const half* gp, const half* wp, half* gx) {
  const int64_t P = c.P(), K = c.K(), OCg = c.OCg(), step = c.chunk();
  // On the AVX2 path col2im rounds each dot to float16 as it adds it (stride 1 across).
  const bool fused = cpu::simd() && c.sw == 1;
  Buf<half> gt(OCg * step * P), dcol(fused ? 0 : K * step * P);
  Buf<float> dot(K * step * P);  // rounded to float16 values in place, through dcol
  for (int64_t n0 = 0; n0 < c.N; n0 += step) {
    const int64_t nb = std::min(step, c.N - n0), ld = nb * P;
    for (int64_t grp = 0; grp < c.G; ++grp) {
      gather_grad_rows(c, gp, grp, n0, nb, gt.get());
      product(K, ld, OCg, MatRef{wp + grp * OCg * K, DType::f16, 1, K},
              MatRef{gt.get(), DType::f16, ld, 1}, Out{dot.get(), DType::f32}, ld, false,
              F16Order::sequential);
      if (!fused)
        parallel_for(K * ld, kBlock, [&](int64_t a, int64_t b) {
          narrow_block(dot.get() + a, &dcol[size_t(a)].bits, b - a);
          widen_block(&dcol[size_t(a)].bits, dot.get() + a, b - a);
        });
      col2im_f16(c, dot.get(), grp, n0, nb, gx, fused);
    }
  }
}

// Each sample's gw products (blocks64's dots over the positions) into dots (N, OC, K), read
// straight from the padded input: the same sums as im2col + gemm_f16 on the AVX2 path.
void weight_grad_dots_f16(const Conv& c, const half* g, const half* x, float* dots) {
  const int64_t Hp = c.H + c.pt + c.pb, Wp = c.W + c.pl + c.pr, P = c.P(), K = c.K();
  const int64_t Cg = c.Cg(), OCg = c.OCg(), ld = std::max<int64_t>(16, (OCg + 15) / 16 * 16);
  std::vector<int64_t> off(static_cast<size_t>(K)), pos(static_cast<size_t>(P));
  for (int64_t k = 0; k < K; ++k)
    off[size_t(k)] = tap_offset(c, k, Hp, Wp);
  for (int64_t p = 0; p < P; ++p)
    pos[size_t(p)] = p / c.OW * c.sh * Wp + p % c.OW * c.sw;
  Buf<float> xp(c.N * c.C * Hp * Wp + 16);
  pad_planes(x, c.N * c.C, c.H, c.W, c.pt, c.pl, Hp, Wp, xp.get());
  const convd::GradF16 q{P, OCg, K, ld, off.data(), pos.data()};
  const bool wide = cpu::wide(), lanes = wide && P >= convd::kPositionLanesMinP;
  parallel_for(c.N, 1, [&](int64_t n0, int64_t n1) {
    Buf<float> gt(lanes ? 0 : P * ld), rows(OCg * P),
        col(lanes ? 4 * convd::position_stride(P) + 16 : 0);
    if (!lanes) std::fill(gt.get(), gt.get() + P * ld, 0.0f);
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t grp = 0; grp < c.G; ++grp) {
        widen_block(&g[(n * c.OC + grp * OCg) * P].bits, rows.get(), OCg * P);
        const float* xn = xp.get() + (n * c.C + grp * Cg) * Hp * Wp;
        float* dn = dots + (n * c.OC + grp * OCg) * K;
        if (lanes) {
          convd::weight_grad_f16_lanes_avx512(q, c.OW, c.sw == 1, rows.get(), xn, col.get(), dn);
          continue;
        }
        // The gradient transposed, positions by channels (sequential stores, a few sequential
        // read streams).
        const float* r = rows.get();
        float* t = gt.get();
        for (int64_t p = 0; p < P; ++p)
          for (int64_t o = 0; o < OCg; ++o)
            t[p * ld + o] = r[o * P + p];
        (wide ? convd::weight_grad_f16_avx512 : convd::weight_grad_f16_avx2)(q, gt.get(), xn, dn);
      }
  });
}

// float16's gx and gw as PyTorch's slow_conv2d backward computes them, sample by sample:
// dcol = w^T @ g rounded to float16 (a sequential float32 dot over the output channels), folded
// back with float16 adds; gw += g @ col^T in the half gemm's order, rounded after each sample.
void conv_backward_f16(const Conv& c, const TensorImpl& g, const TensorImpl* x, const TensorImpl* w,
                       TensorImpl* gx, TensorImpl* gw) {
  const int64_t P = c.P(), K = c.K(), OCg = c.OCg();
  const half* gp = g.as<half>();
  for (TensorImpl* t : {gx, gw})
    if (t) std::fill(t->as<half>(), t->as<half>() + t->numel, half{});
  if (gx) conv_input_grad_f16(c, gp, w->as<half>(), gx->as<half>());
  if (!gw) return;
  // Samples are independent until gw's sum, which then adds their products in sample order.
  Buf<float> dots(c.N * c.OC * K);
  if (cpu::simd())
    weight_grad_dots_f16(c, gp, x->as<half>(), dots.get());
  else
    parallel_for(c.N, 1, [&](int64_t n0, int64_t n1) {
      Buf<half> col(K * P);
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t grp = 0; grp < c.G; ++grp) {
          im2col(c, x->as<half>(), grp, n, 1, col.get());
          product(OCg, K, P, MatRef{gp + (n * c.OC + grp * OCg) * P, DType::f16, P, 1},
                  MatRef{col.get(), DType::f16, 1, P},
                  Out{dots.get() + (n * c.OC + grp * OCg) * K, DType::f32}, K, false,
                  F16Order::blocks64);
        }
    });
  // gw = half(gw + dots[n]) for each sample in turn, by blocks of vector conversions.
  uint16_t* q = &gw->as<half>()[0].bits;
  const int64_t total = c.OC * K;
  parallel_for(total, kBlock, [&](int64_t i0, int64_t i1) {
    float acc[kBlock];
    for (int64_t b0 = i0; b0 < i1; b0 += kBlock) {
      const int64_t m = std::min(kBlock, i1 - b0);
      widen_block(q + b0, acc, m);
      for (int64_t n = 0; n < c.N; ++n) {
        const float* d = dots.get() + n * total + b0;
        for (int64_t i = 0; i < m; ++i)
          acc[i] += d[i];
        narrow_block(acc, q + b0, m);
        if (n + 1 < c.N) widen_block(q + b0, acc, m);
      }
    }
  });
}

void check(const TensorImpl& x, const TensorImpl& w, const TensorImpl* b, const Shape& stride,
           const Shape& padding, const Shape& dilation, int64_t groups) {
  auto bad = [](const std::string& what) { throw std::runtime_error("convolution: " + what); };
  if ((x.shape.n != 3 && x.shape.n != 4) || w.shape.n != x.shape.n)
    bad("expected a 3-D or 4-D input and a weight of the same rank, got " + x.shape.str() +
        " and " + w.shape.str());
  if (x.dt != w.dt || (b && b->dt != x.dt)) bad("input, weight and bias must share a dtype");
  if (x.dt != DType::f32 && x.dt != DType::f16 && x.dt != DType::f64)
    bad("expected a floating dtype");
  if (stride.n != 2 || padding.n != 4 || dilation.n != 2) bad("bad stride, padding or dilation");
  for (int i = 0; i < 2; ++i)
    if (stride.d[i] < 1 || dilation.d[i] < 1) bad("stride and dilation must be positive");
  for (int i = 0; i < 4; ++i)
    if (padding.d[i] < 0) bad("negative padding is not supported");
  if (groups < 1 || x.shape.d[1] % groups || w.shape.d[0] % groups ||
      w.shape.d[1] * groups != x.shape.d[1])
    bad("input channels, weight and groups do not match");
  if (b && (b->shape.n != 1 || b->shape.d[0] != w.shape.d[0])) bad("bias must be (out_channels,)");
  const Conv c =
      conv_of(x.shape, w.shape, Shape{stride.d[0], stride.d[1], dilation.d[0], dilation.d[1]},
              padding, groups);
  if (c.OH < 1 || c.OW < 1) bad("the kernel is larger than the padded input");
}
}  // namespace

TensorPtr op::convolution(const TensorPtr& x0, const TensorPtr& w0,
                          const std::optional<TensorPtr>& b0, const Shape& stride,
                          const Shape& padding, const Shape& dilation, int64_t groups) {
  const TensorPtr b1 = b0.value_or(nullptr);
  check(*x0, *w0, b1.get(), stride, padding, dilation, groups);
  const Shape a1{stride.d[0], stride.d[1], dilation.d[0], dilation.d[1]};
  const Conv c = conv_of(x0->shape, w0->shape, a1, padding, groups);
  Shape os{c.N, c.OC};
  if (x0->shape.n == 4) os.push(c.OH);
  os.push(c.OW);
  auto out = empty(os, x0->dt);
  TensorPtr x = dense(x0), w = dense(w0), b = b1 ? dense(b1) : nullptr;
  launch({x.get(), w.get(), b.get(), out.get()},
         [c, x = x.get(), w = w.get(), b = b.get(), out = out.get()] {
           visit_floating(x->dt, "convolution",
                          [&](auto tag) { conv_forward<decltype(tag)>(c, *x, *w, b, *out); });
         });
  Node* n = b1 ? record(OpCode::convolution, out, {x0.get(), w0.get(), b1.get()})
               : record(OpCode::convolution, out, {x0.get(), w0.get()});
  if (n) {
    n->a1 = a1;
    n->a2 = padding;
    n->i1 = int(groups);
  }
  return out;
}

void Op_convolution::backward(Node& n, const TensorPtr& g0, TensorPtr* gin) {
  const Conv c = conv_of(n.in_shape[0], n.in_shape[1], n.a1, n.a2, n.i1);
  const DType dt = n.in_dt[0];
  TensorPtr g = dense(g0->dt == dt ? g0 : convert(*g0, dt));
  TensorPtr x = n.in_requires[1] ? n.unpack(0) : nullptr;
  TensorPtr w = n.in_requires[0] ? n.unpack(1) : nullptr;
  TensorPtr gx = n.in_requires[0] ? empty(n.in_shape[0], dt) : nullptr;
  TensorPtr gw = n.in_requires[1] ? empty(n.in_shape[1], dt) : nullptr;
  if (gx || gw) {
    launch({g.get(), x.get(), w.get(), gx.get(), gw.get()},
           [c, g = g.get(), x = x.get(), w = w.get(), gx = gx.get(), gw = gw.get()] {
             if (g->dt == DType::f16)
               conv_backward_f16(c, *g, x, w, gx, gw);
             else
               visit_floating(g->dt, "convolution",
                              [&](auto tag) { conv_backward<decltype(tag)>(c, *g, x, w, gx, gw); });
           });
  }
  gin[0] = gx;
  gin[1] = gw;
  if (n.n_in == 3 && n.in_requires[2]) {  // PyTorch's grad_output.sum over all dims but 1
    NoGrad guard;
    const bool dilated = n.a1.d[2] > 1 || n.a1.d[3] > 1;
    const bool two = n.in_shape[0].n == 4;
    if (dt == DType::f16 && dilated) {
      // PyTorch's dilated kernel for half: each sample's float sum rounded to half, the samples
      // then added one at a time in half.
      auto acc = zeros(Shape{c.OC}, DType::f16);
      for (int64_t i = 0; i < c.N; ++i) {
        TensorPtr s =
            op::sum(convert(*op::select(g, 0, i), DType::f32), two ? Shape{1, 2} : Shape{1}, false);
        acc = op::add(acc, convert(*s, DType::f16));
      }
      gin[2] = acc;
    } else {
      gin[2] = two ? op::sum(g, Shape{0, 2, 3}, false) : op::sum(g, Shape{0, 2}, false);
    }
  }
}

}  // namespace tg
