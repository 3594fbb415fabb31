// The direct float16 convolution's zmm kernels (conv_direct.h: run_f16_avx512 and
// weight_grad_f16_avx512). Every output gets the AVX2 kernels' operations in their order (the
// forward's four chains merged in turn, then the bias; the weight gradient's blocks64 lanes, their
// tree, the tail lanes' tree, the rest), so the bits do not depend on which kernel ran. Compiled
// with -mavx512f; the rules of the *_avx2.cpp files apply.
#include <immintrin.h>

#include <cstdint>

#include "kernels/conv_direct.h"
#include "kernels/conv_f16_dots.h"
#include "kernels/conv_tile_avx2.h"

namespace tg {
namespace convd {
namespace {

inline int64_t lesser(int64_t a, int64_t b) {
  return a < b ? a : b;
}

struct Quad {
  __m512 v0, v1, v2, v3;
};

// 16 channels by 4 taps.
struct Dots16 : Blocks64<Dots16, Quad> {
  const float *x0, *x1, *x2, *x3;  // the four taps' inputs (x + off[k])

  static Quad zero() {
    const __m512 z = _mm512_setzero_ps();
    return {z, z, z, z};
  }
  static Quad add(Quad a, Quad b) {
    return {_mm512_add_ps(a.v0, b.v0), _mm512_add_ps(a.v1, b.v1), _mm512_add_ps(a.v2, b.v2),
            _mm512_add_ps(a.v3, b.v3)};
  }
  Quad step(const float* g, int64_t at, Quad acc) const {
    const __m512 gv = _mm512_loadu_ps(g);
    return {_mm512_fmadd_ps(gv, _mm512_set1_ps(x0[at]), acc.v0),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x1[at]), acc.v1),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x2[at]), acc.v2),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x3[at]), acc.v3)};
  }
};

// 8 channels by 8 taps, for few channels: each zmm holds two taps' 8 channels (lanes 0-7 the
// first tap's, 8-15 the second's), so twice as many of its lanes carry sums as with Dots16.
struct Dots8x2 : Blocks64<Dots8x2, Quad> {
  const float* x[8];  // the eight taps' inputs

  static Quad zero() { return Dots16::zero(); }
  static Quad add(Quad a, Quad b) { return Dots16::add(a, b); }
  // Tap 2j's input in lanes 0-7, tap 2j + 1's in lanes 8-15.
  __m512 taps(int j, int64_t at) const {
    return _mm512_mask_broadcastss_ps(_mm512_set1_ps(x[2 * j][at]), __mmask16(0xFF00),
                                      _mm_load_ss(x[2 * j + 1] + at));
  }
  Quad step(const float* g, int64_t at, Quad acc) const {
    const __m512 gv =
        _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(g))));
    return {_mm512_fmadd_ps(gv, taps(0, at), acc.v0), _mm512_fmadd_ps(gv, taps(1, at), acc.v1),
            _mm512_fmadd_ps(gv, taps(2, at), acc.v2), _mm512_fmadd_ps(gv, taps(3, at), acc.v3)};
  }
};

// ---- the forward: each chain's sums in registers, merged into `part` (the earlier chains').
constexpr int kMaxPos = 14;

inline void merge(bool first, float* part, __m512 v) {
  if (!first) v = _mm512_add_ps(_mm512_load_ps(part), v);
  _mm512_store_ps(part, v);
}

// 16 sums (+ bias when given) rounded to float16 into t.
inline void round16(const float* part, const float* bias, uint16_t* t) {
  __m512 v = _mm512_load_ps(part);
  if (bias) v = _mm512_add_ps(_mm512_loadu_ps(bias), v);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(t), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

// By channel: N positions from row pointer r0, 16 channels from oc0 (weights wb).
template <int N>
void tile_channels(const Plan& p, const Chains& ch, const float* r0, const float* wb,
                   const float* bias, uint16_t* out, int64_t os, int64_t oc0) {
  alignas(64) float part[kMaxPos][16];
  for (int c = 0; c < 4; ++c) {
    const int64_t s0 = ch.seg[c], s1 = ch.seg[c + 1];
    if (c > 0 && s0 == s1) continue;  // an empty chain is +0; adding it changes nothing
    __m512 acc[N];
    for (int i = 0; i < N; ++i)
      acc[i] = _mm512_setzero_ps();
    for (int64_t s = s0; s < s1; ++s) {
      const float* r = r0 + ch.off[s];
      const __m512 w = _mm512_loadu_ps(wb + s * 16);
      for (int i = 0; i < N; ++i)
        acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(r[i]), w, acc[i]);
    }
    for (int i = 0; i < N; ++i)
      merge(c == 0, part[i], acc[i]);
  }
  const int64_t lanes = lesser(16, p.OC - oc0);
  alignas(32) uint16_t t[16];
  for (int i = 0; i < N; ++i) {
    round16(part[i], bias ? bias + oc0 : nullptr, t);
    for (int64_t l = 0; l < lanes; ++l)
      out[(oc0 + l) * os + i] = t[l];
  }
}

using ChannelsFn = void (*)(const Plan&, const Chains&, const float*, const float*, const float*,
                            uint16_t*, int64_t, int64_t);
ChannelsFn channels_for(int64_t n) {
  static const ChannelsFn fns[kMaxPos] = {
      tile_channels<1>,  tile_channels<2>,  tile_channels<3>,  tile_channels<4>, tile_channels<5>,
      tile_channels<6>,  tile_channels<7>,  tile_channels<8>,  tile_channels<9>, tile_channels<10>,
      tile_channels<11>, tile_channels<12>, tile_channels<13>, tile_channels<14>};
  return fns[n - 1];
}

// By position: 16 * V positions from row pointer r0 (n of them kept), 6 channels from oc0.
template <int V>
void tile_positions(const Plan& p, const Chains& ch, const float* r0, const float* wb,
                    const float* bias, uint16_t* out, int64_t os, int64_t oc0, int64_t n) {
  alignas(64) float part[6][V][16];
  for (int c = 0; c < 4; ++c) {
    const int64_t s0 = ch.seg[c], s1 = ch.seg[c + 1];
    if (c > 0 && s0 == s1) continue;
    __m512 acc[6][V];
    for (int r = 0; r < 6; ++r)
      for (int v = 0; v < V; ++v)
        acc[r][v] = _mm512_setzero_ps();
    for (int64_t s = s0; s < s1; ++s) {
      const float* x = r0 + ch.off[s];
      __m512 xv[V];
      for (int v = 0; v < V; ++v)
        xv[v] = _mm512_loadu_ps(x + 16 * v);
      for (int r = 0; r < 6; ++r) {
        const __m512 w = _mm512_set1_ps(wb[s * 6 + r]);
        for (int v = 0; v < V; ++v)
          acc[r][v] = _mm512_fmadd_ps(w, xv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < 6; ++r)
      for (int v = 0; v < V; ++v)
        merge(c == 0, part[r][v], acc[r][v]);
  }
  const int64_t rows = lesser(6, p.OC - oc0);
  alignas(64) float b16[16];
  alignas(32) uint16_t t[16 * V];
  for (int64_t r = 0; r < rows; ++r) {
    if (bias)
      for (int l = 0; l < 16; ++l)
        b16[l] = bias[oc0 + r];
    for (int v = 0; v < V; ++v)
      round16(part[r][v], bias ? b16 : nullptr, t + 16 * v);
    uint16_t* o = out + (oc0 + r) * os;
    for (int64_t i = 0; i < n; ++i)
      o[i] = t[i];
  }
}

// ---- the weight gradient with the positions in the lanes. Position p of a dot is lane
// p % 64 of blocks64; lanes 16j..16j+15 are zmm j, so each lane chain is one zmm lane's
// sequence of fused multiply-adds, and the fold is ATen's (conv_f16_dots.h) done across lanes.

// The 64 lane chains c(0..63) of l: y(t) = ((c(t) + c(t+32)) + (c(t+16) + c(t+48))) +
// ((c(t+8) + c(t+40)) + (c(t+24) + c(t+56))), then lanes_sum over y(0..7).
inline float fold64(const float* l) {
  const __m512 a = _mm512_add_ps(_mm512_load_ps(l), _mm512_load_ps(l + 32));
  const __m512 b = _mm512_add_ps(_mm512_load_ps(l + 16), _mm512_load_ps(l + 48));
  const __m512 c = _mm512_add_ps(a, b);
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(c), 1));
  return lanes_sum(_mm256_add_ps(_mm512_castps512_ps256(c), hi));
}

// O gradient rows (g, P apart) by 4 taps (col, cs apart): res[o][t] = blocks64's dot.
template <int O>
void lanes_tile(int64_t P, const float* g, const float* col, int64_t cs, float res[][4]) {
  const int64_t la = P & ~int64_t(63), lv = P & ~int64_t(15), blocks = la / 64;
  alignas(64) float chains[O][4][64];
  for (int j = 0; j < 4 && blocks > 0; ++j) {
    __m512 acc[O][4];
    for (int o = 0; o < O; ++o)
      for (int t = 0; t < 4; ++t)
        acc[o][t] = _mm512_setzero_ps();
    for (int64_t p = 16 * j; p < la; p += 64) {
      const __m512 c0 = _mm512_loadu_ps(col + p), c1 = _mm512_loadu_ps(col + cs + p),
                   c2 = _mm512_loadu_ps(col + 2 * cs + p), c3 = _mm512_loadu_ps(col + 3 * cs + p);
      for (int o = 0; o < O; ++o) {
        const __m512 gv = _mm512_loadu_ps(g + o * P + p);
        acc[o][0] = _mm512_fmadd_ps(gv, c0, acc[o][0]);
        acc[o][1] = _mm512_fmadd_ps(gv, c1, acc[o][1]);
        acc[o][2] = _mm512_fmadd_ps(gv, c2, acc[o][2]);
        acc[o][3] = _mm512_fmadd_ps(gv, c3, acc[o][3]);
      }
    }
    for (int o = 0; o < O; ++o)
      for (int t = 0; t < 4; ++t)
        _mm512_store_ps(chains[o][t] + 16 * j, acc[o][t]);
  }
  for (int o = 0; o < O; ++o)
    for (int t = 0; t < 4; ++t) {
      float out = blocks > 0 ? fold64(chains[o][t]) : 0.0f;
      if (lv > la) {  // the tail: 8 lanes over [la, lv)
        __m256 acc = _mm256_setzero_ps();
        for (int64_t p = la; p < lv; p += 8)
          acc = _mm256_fmadd_ps(_mm256_loadu_ps(g + o * P + p), _mm256_loadu_ps(col + t * cs + p),
                                acc);
        const float tail = lanes_sum(acc);
        out = blocks > 0 ? out + tail : tail;
      }
      __m128 r = _mm_set_ss(out);
      for (int64_t p = lv; p < P; ++p)
        r = _mm_fmadd_ss(_mm_set_ss(g[o * P + p]), _mm_set_ss(col[t * cs + p]), r);
      res[o][t] = _mm_cvtss_f32(r);
    }
}

inline __m512 rounded(__m512 v) {
  return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}

// Input row ih, columns [iw0, iw0 + nw), of R planes from c0: their taps' adds in registers.
template <int R>
void col2im_rows(const Col2imF16& q, const float* col, uint16_t* dx, int64_t c0, int64_t ih,
                 int64_t iw0, int64_t nw) {
  const int64_t taps = q.KH * q.KW;
  __m512 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm512_setzero_ps();
  for (int64_t kh = 0; kh < q.KH; ++kh) {
    const int64_t oh = ih + q.pt - kh * q.dh;
    if (oh < 0 || oh >= q.OH) continue;
    for (int64_t kw = 0; kw < q.KW; ++kw) {
      const int64_t first = iw0 + q.pl - kw * q.dw;  // lane l's position: ow = first + l
      const int64_t lo = first < 0 ? -first : 0, hi = lesser(nw, q.OW - first);
      if (lo >= hi) continue;
      const __mmask16 m = __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
      const int64_t at = (c0 * taps + kh * q.KW + kw) * q.ld + oh * q.OW + first;
      for (int r = 0; r < R; ++r) {
        const __m512 v = _mm512_maskz_loadu_ps(m, col + at + r * taps * q.ld);
        acc[r] = rounded(_mm512_mask_add_ps(acc[r], m, acc[r], rounded(v)));
      }
    }
  }
  alignas(32) uint16_t t[16];
  for (int r = 0; r < R; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(t),
                       _mm512_cvtps_ph(acc[r], _MM_FROUND_TO_NEAREST_INT));
    uint16_t* o = dx + ((c0 + r) * q.H + ih) * q.W + iw0;
    for (int64_t l = 0; l < nw; ++l)
      o[l] = t[l];
  }
}

using LanesFn = void (*)(int64_t, const float*, const float*, int64_t, float[][4]);
constexpr int kLanesRows = 6;  // 24 accumulators, 4 taps, one gradient row: 29 zmm

}  // namespace

void weight_grad_f16_lanes_avx512(const GradF16& q, int64_t ow, bool unit_stride, const float* g,
                                  const float* x, float* col, float* out) {
  static const LanesFn fns[kLanesRows] = {lanes_tile<1>, lanes_tile<2>, lanes_tile<3>,
                                          lanes_tile<4>, lanes_tile<5>, lanes_tile<6>};
  const int64_t P = q.P, cs = position_stride(P);
  float res[kLanesRows][4];
  for (int64_t k = 0; k < q.K; k += 4) {
    for (int t = 0; t < 4; ++t) {  // past the last tap: its repeat, not stored
      const float* src = x + q.off[lesser(k + t, q.K - 1)];
      float* dst = col + t * cs;
      if (unit_stride) {
        // Whole vectors: a row's overrun lands where the next row (or tap) is written next, or
        // in col's slack; x's planes have as much slack after them.
        for (int64_t p = 0; p < P; p += ow) {
          const float* s = src + q.pos[p];
          for (int64_t i = 0; i < ow; i += 16)
            _mm512_storeu_ps(dst + p + i, _mm512_loadu_ps(s + i));
        }
      } else {
        for (int64_t p = 0; p < P; ++p)
          dst[p] = src[q.pos[p]];
      }
    }
    for (int64_t o0 = 0; o0 < q.OC; o0 += kLanesRows) {
      const int64_t rows = lesser(kLanesRows, q.OC - o0);
      fns[rows - 1](P, g + o0 * P, col, cs, res);
      for (int64_t r = 0; r < rows; ++r)
        for (int t = 0; t < 4 && k + t < q.K; ++t)
          out[(o0 + r) * q.K + k + t] = res[r][t];
    }
  }
}
void col2im_f16_avx512(const Col2imF16& q, const float* col, uint16_t* dx) {
  // Several planes at once: their rows have the same taps, and their chains of adds interleave.
  using RowsFn =
      void (*)(const Col2imF16&, const float*, uint16_t*, int64_t, int64_t, int64_t, int64_t);
  static const RowsFn fns[6] = {col2im_rows<1>, col2im_rows<2>, col2im_rows<3>,
                                col2im_rows<4>, col2im_rows<5>, col2im_rows<6>};
  for (int64_t c0 = 0; c0 < q.C; c0 += 6) {
    const RowsFn fn = fns[lesser(6, q.C - c0) - 1];
    for (int64_t ih = 0; ih < q.H; ++ih)
      for (int64_t iw0 = 0; iw0 < q.W; iw0 += 16)
        fn(q, col, dx, c0, ih, iw0, lesser(16, q.W - iw0));
  }
}

void weight_grad_f16_avx512(const GradF16& q, const float* gt, const float* x, float* out) {
  alignas(64) float t[4][16];
  if (q.OC <= 8) {
    for (int64_t k = 0; k < q.K; k += 8) {
      Dots8x2 d{{q.P, q.ld, q.pos, gt}, {}};
      for (int j = 0; j < 8; ++j)
        d.x[j] = x + q.off[lesser(k + j, q.K - 1)];  // past the last tap: its repeat, not stored
      const Quad r = d.run();
      _mm512_store_ps(t[0], r.v0);
      _mm512_store_ps(t[1], r.v1);
      _mm512_store_ps(t[2], r.v2);
      _mm512_store_ps(t[3], r.v3);
      for (int j = 0; j < 8 && k + j < q.K; ++j)
        for (int64_t o = 0; o < q.OC; ++o)
          out[o * q.K + k + j] = t[j / 2][(j % 2) * 8 + o];
    }
    return;
  }
  for (int64_t o0 = 0; o0 < q.OC; o0 += 16)
    for (int64_t k = 0; k < q.K; k += 4) {
      int64_t ks[4];
      for (int j = 0; j < 4; ++j)
        ks[j] = lesser(k + j, q.K - 1);  // past the last tap: its repeat, not stored
      const Quad r = Dots16{{q.P, q.ld, q.pos, gt + o0},
                            x + q.off[ks[0]],
                            x + q.off[ks[1]],
                            x + q.off[ks[2]],
                            x + q.off[ks[3]]}
                         .run();
      _mm512_store_ps(t[0], r.v0);
      _mm512_store_ps(t[1], r.v1);
      _mm512_store_ps(t[2], r.v2);
      _mm512_store_ps(t[3], r.v3);
      for (int j = 0; j < 4 && k + j < q.K; ++j)
        for (int64_t o = o0; o < lesser(q.OC, o0 + 16); ++o)
          out[o * q.K + k + j] = t[j][o - o0];
    }
}

void run_f16_avx512(const Plan& p, const Chains& ch, const float* x, const float* wp,
                    const float* bias, uint16_t* out, int64_t os, int64_t oh0, int64_t oh1) {
  // A row in near-equal tiles of at most kMaxPos positions (by channel).
  const int64_t tiles = (p.OW + kMaxPos - 1) / kMaxPos, base = p.OW / tiles, extra = p.OW % tiles;
  for_rows(p, x, wp, out, oh0, oh1,
           [&](const float* wb, int64_t oc0, const float* row, uint16_t* o) {
             if (!p.by_channel) {
               for (int64_t ow0 = 0; ow0 < p.OW; ow0 += 32) {
                 const int64_t n = lesser(32, p.OW - ow0);
                 if (n > 16)
                   tile_positions<2>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0, n);
                 else
                   tile_positions<1>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0, n);
               }
               return;
             }
             for (int64_t t = 0, ow0 = 0; t < tiles; ++t) {
               const int64_t n = base + (t < extra ? 1 : 0);
               channels_for(n)(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
               ow0 += n;
             }
           });
}

}  // namespace convd
}  // namespace tg
