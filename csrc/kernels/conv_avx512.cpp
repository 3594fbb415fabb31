// The direct convolution's by-channel tiling with zmm registers (conv_direct.h): up to 32 output
// channels (two of the packed 16-lane weight blocks) by up to kMaxPos positions of a row. Every
// output gets run_avx2's operations in run_avx2's order (a fused multiply-add per (c, kh, kw)
// from zero within each chunk of input channels, the chunks' sums added in turn, then the bias),
// so the bits do not depend on which kernel ran. Compiled with -mavx512f; the rules of the
// *_avx2.cpp files apply (every helper in an anonymous namespace, no std:: templates).
#include <immintrin.h>

#include <cstdint>

#include "kernels/conv_direct.h"

namespace tg {
namespace convd {
namespace {

constexpr int kMaxPos = 14;  // 14 x 2 accumulators and 2 weight vectors: 30 of 32 registers

inline int64_t lesser(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// N positions of row oh from ow0 and V vectors of 16 channels from oc0 (the weights of the
// second from the next packed block, `next` floats on), input channels [c0, c1). `part` holds
// the earlier chunks' sums as N x 32 floats.
template <int N, int V>
void tile(const Plan& p, const float* x, const float* wb, int64_t next, const float* bias,
          float* out, int64_t os, int64_t oc0, int64_t oh, int64_t ow0, int64_t c0, int64_t c1,
          bool first, bool last, float* part) {
  __m512 acc[N][V];
  for (int i = 0; i < N; ++i)
    for (int v = 0; v < V; ++v)
      acc[i][v] = _mm512_setzero_ps();
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      const float* row = x + (c * p.Hp + oh + kh * p.dh) * p.Wp + ow0;
      const float* wk = wb + (c * p.KH + kh) * p.KW * 16;
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        __m512 w[V];
        for (int v = 0; v < V; ++v)
          w[v] = _mm512_loadu_ps(wk + kw * 16 + v * next);
        const float* r = row + kw * p.dw;
        for (int i = 0; i < N; ++i) {
          const __m512 xb = _mm512_set1_ps(r[i]);
          for (int v = 0; v < V; ++v)
            acc[i][v] = _mm512_fmadd_ps(xb, w[v], acc[i][v]);
        }
      }
    }
  alignas(64) float t[N][32];
  for (int i = 0; i < N; ++i)
    for (int v = 0; v < V; ++v) {
      __m512 s = acc[i][v];
      if (!first) s = _mm512_add_ps(_mm512_loadu_ps(part + i * 32 + v * 16), s);
      if (!last) _mm512_storeu_ps(part + i * 32 + v * 16, s);
      _mm512_store_ps(t[i] + v * 16, s);
    }
  if (!last) return;
  const int64_t lanes = lesser(16 * V, p.OC - oc0);
  for (int64_t l = 0; l < lanes; ++l) {
    float* o = out + (oc0 + l) * os + oh * p.OW + ow0;
    if (bias) {
      const float b = bias[oc0 + l];
      for (int i = 0; i < N; ++i)
        o[i] = t[i][l] + b;
    } else {
      for (int i = 0; i < N; ++i)
        o[i] = t[i][l];
    }
  }
}

using TileFn = void (*)(const Plan&, const float*, const float*, int64_t, const float*, float*,
                        int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, bool, float*);

template <int V>
TileFn tile_for(int64_t n) {
  static const TileFn fns[kMaxPos] = {
      tile<1, V>, tile<2, V>, tile<3, V>,  tile<4, V>,  tile<5, V>,  tile<6, V>,  tile<7, V>,
      tile<8, V>, tile<9, V>, tile<10, V>, tile<11, V>, tile<12, V>, tile<13, V>, tile<14, V>};
  return fns[n - 1];
}

}  // namespace

void run_avx512(const Plan& p, const float* x, const float* wp, const float* bias, float* out,
                int64_t os, int64_t oh0, int64_t oh1) {
  const int64_t K = p.C * p.KH * p.KW;
  // Chunks of input channels as in run_avx2: they set the order of the sums.
  const int64_t chunks = (K + 255) / 256, cc = (p.C + chunks - 1) / chunks;
  // A row in near-equal tiles of at most kMaxPos positions.
  const int64_t tiles = (p.OW + kMaxPos - 1) / kMaxPos, base = p.OW / tiles, extra = p.OW % tiles;
  float* part = chunks > 1 ? new float[size_t((oh1 - oh0) * p.OW * 32)] : nullptr;
  for (int64_t oc0 = 0; oc0 < p.OC; oc0 += 32) {
    const float* wb = wp + oc0 * K;
    const bool pair = p.OC - oc0 > 16;
    for (int64_t c0 = 0; c0 < p.C; c0 += cc) {
      const int64_t c1 = lesser(p.C, c0 + cc);
      const bool first = c0 == 0, last = c1 == p.C;
      for (int64_t oh = oh0; oh < oh1; ++oh)
        for (int64_t t = 0, ow0 = 0; t < tiles; ++t) {
          const int64_t n = base + (t < extra ? 1 : 0);
          const TileFn f = pair ? tile_for<2>(n) : tile_for<1>(n);
          f(p, x, wb, K * 16, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
            part ? part + ((oh - oh0) * p.OW + ow0) * 32 : nullptr);
          ow0 += n;
        }
    }
  }
  delete[] part;
}

}  // namespace convd
}  // namespace tg
