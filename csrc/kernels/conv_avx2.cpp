// The direct convolution's AVX2+FMA tiles (conv_direct.h). Compiled with -mavx2 -mfma, so, as
// gemm_avx2.cpp, it keeps every helper in an anonymous namespace and calls no std:: templates.
#include <immintrin.h>

#include <cstdint>

#include "kernels/conv_direct.h"
#include "kernels/conv_tile_avx2.h"

namespace tg {
namespace convd {
namespace {

inline int64_t lesser(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// By channel: N positions (N <= 6) of row oh from ow0, 16 channels from oc0, input channels
// [c0, c1): added to what out holds unless first, the bias added when last.
template <int N>
void tile_channels(const Plan& p, const float* x, const float* wb, const float* bias, float* out,
                   int64_t os, int64_t oc0, int64_t oh, int64_t ow0, int64_t c0, int64_t c1,
                   bool first, bool last, float* part) {
  TG_ACC_DECL;
  for (int64_t c = c0; c < c1; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      const float* row = x + (c * p.Hp + oh + kh * p.dh) * p.Wp + ow0;
      const float* wk = wb + (c * p.KH + kh) * p.KW * 16;
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        const __m256 w0 = _mm256_loadu_ps(wk + kw * 16), w1 = _mm256_loadu_ps(wk + kw * 16 + 8);
        const float* r = row + kw * p.dw;
        TG_CHANNEL_FMAS(N, r, w0, w1);
      }
    }
  alignas(32) float t[6][16];
  const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  for (int i = 0; i < N; ++i) {
    __m256 v0 = acc[i][0], v1 = acc[i][1];
    if (!first) {  // the partial sums of the earlier channels, kept as vectors in `part`
      v0 = _mm256_add_ps(_mm256_loadu_ps(part + i * 16), v0);
      v1 = _mm256_add_ps(_mm256_loadu_ps(part + i * 16 + 8), v1);
    }
    if (!last) {
      _mm256_storeu_ps(part + i * 16, v0);
      _mm256_storeu_ps(part + i * 16 + 8, v1);
    }
    _mm256_store_ps(t[i], v0);
    _mm256_store_ps(t[i] + 8, v1);
  }
  if (!last) return;
  const int64_t lanes = lesser(16, p.OC - oc0);
  for (int64_t l = 0; l < lanes; ++l) {
    float* o = out + (oc0 + l) * os + oh * p.OW + ow0;
    const float b = bias ? bias[oc0 + l] : 0.0f;
    for (int i = 0; i < N; ++i)
      o[i] = bias ? t[i][l] + b : t[i][l];
  }
}

// By position: 16 positions of row oh from ow0 (n of them kept), 6 channels from oc0.
void tile_positions(const Plan& p, const float* x, const float* wb, const float* bias, float* out,
                    int64_t os, int64_t oc0, int64_t oh, int64_t ow0, int64_t n) {
  TG_ACC_DECL;
  for (int64_t c = 0; c < p.C; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh) {
      const float* row = x + (c * p.Hp + oh + kh * p.dh) * p.Wp + ow0;
      const float* wk = wb + (c * p.KH + kh) * p.KW * 6;
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        const float* r = row + kw * p.dw;
        const __m256 x0 = _mm256_loadu_ps(r), x1 = _mm256_loadu_ps(r + 8);
        const float* wr = wk + kw * 6;
        TG_POSITION_FMAS(wr, x0, x1);
      }
    }
  const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  const int64_t rows = lesser(6, p.OC - oc0);
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + (oc0 + r) * os + oh * p.OW + ow0;
    __m256 v0 = acc[r][0], v1 = acc[r][1];
    if (bias) {
      const __m256 b = _mm256_set1_ps(bias[oc0 + r]);
      v0 = _mm256_add_ps(v0, b);
      v1 = _mm256_add_ps(v1, b);
    }
    if (n == 16) {
      _mm256_storeu_ps(o, v0);
      _mm256_storeu_ps(o + 8, v1);
    } else {
      alignas(32) float t[16];
      _mm256_store_ps(t, v0);
      _mm256_store_ps(t + 8, v1);
      for (int64_t i = 0; i < n; ++i)
        o[i] = t[i];
    }
  }
}

}  // namespace

void run_avx2(const Plan& p, const float* x, const float* wp, const float* bias, float* out,
              int64_t os, int64_t oh0, int64_t oh1) {
  // Plan's inline helpers are not called here: an AVX2 copy of them could serve portable code.
  const int64_t K = p.C * p.KH * p.KW, lanes = p.by_channel ? 16 : 6;
  for (int64_t b = 0; b * lanes < p.OC; ++b) {
    const float* wb = wp + b * K * lanes;
    const int64_t oc0 = b * lanes;
    if (!p.by_channel) {
      for (int64_t oh = oh0; oh < oh1; ++oh)
        for (int64_t ow0 = 0; ow0 < p.OW; ow0 += 16)
          tile_positions(p, x, wb, bias, out, os, oc0, oh, ow0, lesser(16, p.OW - ow0));
      continue;
    }
    // The weights of a few input channels at a time (at most 16 KiB, in near-equal chunks), so
    // they stay in L1 for a band.
    const int64_t chunks = (K + 255) / 256, cc = (p.C + chunks - 1) / chunks;
    // Partial sums between chunks: (rows of the band) x OW positions x 16 channels.
    float* part = chunks > 1 ? new float[size_t((oh1 - oh0) * p.OW * 16)] : nullptr;
    for (int64_t c0 = 0; c0 < p.C; c0 += cc) {
      const int64_t c1 = lesser(p.C, c0 + cc);
      const bool first = c0 == 0, last = c1 == p.C;
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        int64_t ow0 = 0;
        for (; ow0 + 6 <= p.OW; ow0 += 6)
          tile_channels<6>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                           part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
        switch (p.OW - ow0) {
          case 5:
            tile_channels<5>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                             part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
            break;
          case 4:
            tile_channels<4>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                             part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
            break;
          case 3:
            tile_channels<3>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                             part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
            break;
          case 2:
            tile_channels<2>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                             part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
            break;
          case 1:
            tile_channels<1>(p, x, wb, bias, out, os, oc0, oh, ow0, c0, c1, first, last,
                             part ? part + ((oh - oh0) * p.OW + ow0) * 16 : nullptr);
            break;
          default:
            break;
        }
      }
    }
    delete[] part;
  }
}

void weight_grad_avx2(const GradPlan& p, const float* g, const float* x, int64_t o0, int64_t R,
                      int64_t k0, int64_t nk, float* out) {
  TG_ACC_DECL;
  const int64_t P = p.OH * p.OW;
  int64_t xoff[2];  // where k0 and k0 + 1 read, from a sample's first plane and row oh
  for (int j = 0; j < 2; ++j) {
    const int64_t k = k0 + (j < nk ? j : 0);
    const int64_t c = k / (p.KH * p.KW), kh = (k / p.KW) % p.KH, kw = k % p.KW;
    xoff[j] = (c * p.Hp + kh * p.dh) * p.Wp + kw * p.dw;
  }
  int64_t grow[6];  // rows past R repeat row 0 (their sums are dropped)
  for (int r = 0; r < 6; ++r)
    grow[r] = (o0 + (r < R ? r : 0)) * P;
  const int tail = int(p.OW % 8);
  const __m256i mask =
      _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const float* gb = g + n * p.gs + oh * p.OW;
      const float* xb = x + n * p.xs + oh * p.Wp;
      for (int64_t ow = 0; ow < p.OW; ow += 8) {
        __m256 x0, x1, g0, g1, g2, g3, g4, g5;
        if (ow + 8 <= p.OW) {
          x0 = _mm256_loadu_ps(xb + xoff[0] + ow);
          x1 = _mm256_loadu_ps(xb + xoff[1] + ow);
          g0 = _mm256_loadu_ps(gb + grow[0] + ow);
          g1 = _mm256_loadu_ps(gb + grow[1] + ow);
          g2 = _mm256_loadu_ps(gb + grow[2] + ow);
          g3 = _mm256_loadu_ps(gb + grow[3] + ow);
          g4 = _mm256_loadu_ps(gb + grow[4] + ow);
          g5 = _mm256_loadu_ps(gb + grow[5] + ow);
        } else {
          x0 = _mm256_maskload_ps(xb + xoff[0] + ow, mask);
          x1 = _mm256_maskload_ps(xb + xoff[1] + ow, mask);
          g0 = _mm256_maskload_ps(gb + grow[0] + ow, mask);
          g1 = _mm256_maskload_ps(gb + grow[1] + ow, mask);
          g2 = _mm256_maskload_ps(gb + grow[2] + ow, mask);
          g3 = _mm256_maskload_ps(gb + grow[3] + ow, mask);
          g4 = _mm256_maskload_ps(gb + grow[4] + ow, mask);
          g5 = _mm256_maskload_ps(gb + grow[5] + ow, mask);
        }
        a00 = _mm256_fmadd_ps(g0, x0, a00);
        a01 = _mm256_fmadd_ps(g0, x1, a01);
        a10 = _mm256_fmadd_ps(g1, x0, a10);
        a11 = _mm256_fmadd_ps(g1, x1, a11);
        a20 = _mm256_fmadd_ps(g2, x0, a20);
        a21 = _mm256_fmadd_ps(g2, x1, a21);
        a30 = _mm256_fmadd_ps(g3, x0, a30);
        a31 = _mm256_fmadd_ps(g3, x1, a31);
        a40 = _mm256_fmadd_ps(g4, x0, a40);
        a41 = _mm256_fmadd_ps(g4, x1, a41);
        a50 = _mm256_fmadd_ps(g5, x0, a50);
        a51 = _mm256_fmadd_ps(g5, x1, a51);
      }
    }
  const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  const int64_t K = p.C * p.KH * p.KW;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < nk; ++j)
      out[r * K + k0 + j] = lanes_sum(acc[r][j]);
}

void weight_grad_channels_avx2(const GradPlan& p, const float* gt, int64_t ld, const float* x,
                               int64_t oc0, int64_t lanes, int64_t k0, int64_t nk, float* out) {
  TG_ACC_DECL;
  int64_t xoff[6];  // k indices past nk repeat k0 (their sums are dropped)
  for (int j = 0; j < 6; ++j) {
    const int64_t k = k0 + (j < nk ? j : 0);
    const int64_t c = k / (p.KH * p.KW), kh = (k / p.KW) % p.KH, kw = k % p.KW;
    xoff[j] = (c * p.Hp + kh * p.dh) * p.Wp + kw * p.dw;
  }
  const int64_t P = p.OH * p.OW;
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t oh = 0; oh < p.OH; ++oh) {
      const float* gr = gt + (n * P + oh * p.OW) * ld + oc0;
      const float* xr = x + n * p.xs + oh * p.Wp;
      for (int64_t ow = 0; ow < p.OW; ++ow) {
        const __m256 g0 = _mm256_loadu_ps(gr + ow * ld), g1 = _mm256_loadu_ps(gr + ow * ld + 8);
        const float* xb = xr + ow;
        __m256 v = _mm256_broadcast_ss(xb + xoff[0]);
        a00 = _mm256_fmadd_ps(v, g0, a00);
        a01 = _mm256_fmadd_ps(v, g1, a01);
        v = _mm256_broadcast_ss(xb + xoff[1]);
        a10 = _mm256_fmadd_ps(v, g0, a10);
        a11 = _mm256_fmadd_ps(v, g1, a11);
        v = _mm256_broadcast_ss(xb + xoff[2]);
        a20 = _mm256_fmadd_ps(v, g0, a20);
        a21 = _mm256_fmadd_ps(v, g1, a21);
        v = _mm256_broadcast_ss(xb + xoff[3]);
        a30 = _mm256_fmadd_ps(v, g0, a30);
        a31 = _mm256_fmadd_ps(v, g1, a31);
        v = _mm256_broadcast_ss(xb + xoff[4]);
        a40 = _mm256_fmadd_ps(v, g0, a40);
        a41 = _mm256_fmadd_ps(v, g1, a41);
        v = _mm256_broadcast_ss(xb + xoff[5]);
        a50 = _mm256_fmadd_ps(v, g0, a50);
        a51 = _mm256_fmadd_ps(v, g1, a51);
      }
    }
  const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
  alignas(32) float t[6][16];
  for (int j = 0; j < 6; ++j) {
    _mm256_store_ps(t[j], acc[j][0]);
    _mm256_store_ps(t[j] + 8, acc[j][1]);
  }
  const int64_t K = p.C * p.KH * p.KW;
  for (int64_t l = 0; l < lanes; ++l)
    for (int64_t j = 0; j < nk; ++j)
      out[(oc0 + l) * K + k0 + j] = t[j][l];
}

}  // namespace convd
}  // namespace tg
