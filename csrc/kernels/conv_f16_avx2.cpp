// The direct float16 convolution's AVX2+FMA tiles (conv_direct.h, run_f16_avx2). Every output
// gets ATen's half gemm sums (gemm16.h's interleave4): its four chains, each a sequential float32
// sum from +0, merged as ((p0 + p1) + p2) + p3, then float(bias) added and one rounding. The
// products of two float16 values are exact in float32, so a fused multiply-add is the same sum.
// Compiled with -mavx2 -mfma -mf16c: helpers stay in an anonymous namespace, no std:: templates.
#include <immintrin.h>

#include <cstdint>

#include "kernels/conv_direct.h"

namespace tg {
namespace convd {
namespace {

inline int64_t lesser(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Twelve accumulators in named variables (an array of them is kept in memory by the compiler).
#define TG_ACC_DECL                                            \
  __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps(); \
  __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps(); \
  __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps(); \
  __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps(); \
  __m256 a40 = _mm256_setzero_ps(), a41 = _mm256_setzero_ps(); \
  __m256 a50 = _mm256_setzero_ps(), a51 = _mm256_setzero_ps()

// A chain's twelve sums merged into part (part = part + chain, or the chain itself for the first).
inline void merge(bool first, float* part, const __m256 (&acc)[6][2], int rows) {
  for (int i = 0; i < rows; ++i) {
    __m256 v0 = acc[i][0], v1 = acc[i][1];
    if (!first) {
      v0 = _mm256_add_ps(_mm256_load_ps(part + i * 16), v0);
      v1 = _mm256_add_ps(_mm256_load_ps(part + i * 16 + 8), v1);
    }
    _mm256_store_ps(part + i * 16, v0);
    _mm256_store_ps(part + i * 16 + 8, v1);
  }
}

// 16 sums (+ bias when given) rounded to float16 into t.
inline void round16(const float* part, const float* bias, uint16_t* t) {
  __m256 v0 = _mm256_load_ps(part), v1 = _mm256_load_ps(part + 8);
  if (bias) {
    v0 = _mm256_add_ps(_mm256_loadu_ps(bias), v0);
    v1 = _mm256_add_ps(_mm256_loadu_ps(bias + 8), v1);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(t), _mm256_cvtps_ph(v0, _MM_FROUND_TO_NEAREST_INT));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(t + 8),
                   _mm256_cvtps_ph(v1, _MM_FROUND_TO_NEAREST_INT));
}

// By channel: N positions (N <= 6) from row pointer r0, 16 channels from oc0 (weights wb).
template <int N>
void tile_channels(const Plan& p, const Chains& ch, const float* r0, const float* wb,
                   const float* bias, uint16_t* out, int64_t os, int64_t oc0) {
  alignas(32) float part[6 * 16];
  for (int c = 0; c < 4; ++c) {
    const int64_t s0 = ch.seg[c], s1 = ch.seg[c + 1];
    if (c > 0 && s0 == s1) continue;  // an empty chain is +0; adding it changes nothing
    TG_ACC_DECL;
    for (int64_t s = s0; s < s1; ++s) {
      const float* r = r0 + ch.off[s];
      const __m256 w0 = _mm256_loadu_ps(wb + s * 16), w1 = _mm256_loadu_ps(wb + s * 16 + 8);
      __m256 xb = _mm256_broadcast_ss(r);
      a00 = _mm256_fmadd_ps(xb, w0, a00);
      a01 = _mm256_fmadd_ps(xb, w1, a01);
      if (N > 1) {
        xb = _mm256_broadcast_ss(r + 1);
        a10 = _mm256_fmadd_ps(xb, w0, a10);
        a11 = _mm256_fmadd_ps(xb, w1, a11);
      }
      if (N > 2) {
        xb = _mm256_broadcast_ss(r + 2);
        a20 = _mm256_fmadd_ps(xb, w0, a20);
        a21 = _mm256_fmadd_ps(xb, w1, a21);
      }
      if (N > 3) {
        xb = _mm256_broadcast_ss(r + 3);
        a30 = _mm256_fmadd_ps(xb, w0, a30);
        a31 = _mm256_fmadd_ps(xb, w1, a31);
      }
      if (N > 4) {
        xb = _mm256_broadcast_ss(r + 4);
        a40 = _mm256_fmadd_ps(xb, w0, a40);
        a41 = _mm256_fmadd_ps(xb, w1, a41);
      }
      if (N > 5) {
        xb = _mm256_broadcast_ss(r + 5);
        a50 = _mm256_fmadd_ps(xb, w0, a50);
        a51 = _mm256_fmadd_ps(xb, w1, a51);
      }
    }
    const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21},
                              {a30, a31}, {a40, a41}, {a50, a51}};
    merge(c == 0, part, acc, N);
  }
  const int64_t lanes = lesser(16, p.OC - oc0);
  alignas(16) uint16_t t[16];
  for (int i = 0; i < N; ++i) {
    round16(part + i * 16, bias ? bias + oc0 : nullptr, t);
    for (int64_t l = 0; l < lanes; ++l)
      out[(oc0 + l) * os + i] = t[l];
  }
}

// By position: 16 positions from row pointer r0 (n of them kept), 6 channels from oc0.
void tile_positions(const Plan& p, const Chains& ch, const float* r0, const float* wb,
                    const float* bias, uint16_t* out, int64_t os, int64_t oc0, int64_t n) {
  alignas(32) float part[6 * 16];
  for (int c = 0; c < 4; ++c) {
    const int64_t s0 = ch.seg[c], s1 = ch.seg[c + 1];
    if (c > 0 && s0 == s1) continue;
    TG_ACC_DECL;
    for (int64_t s = s0; s < s1; ++s) {
      const float* r = r0 + ch.off[s];
      const __m256 x0 = _mm256_loadu_ps(r), x1 = _mm256_loadu_ps(r + 8);
      const float* wr = wb + s * 6;
      __m256 wv = _mm256_broadcast_ss(wr);
      a00 = _mm256_fmadd_ps(wv, x0, a00);
      a01 = _mm256_fmadd_ps(wv, x1, a01);
      wv = _mm256_broadcast_ss(wr + 1);
      a10 = _mm256_fmadd_ps(wv, x0, a10);
      a11 = _mm256_fmadd_ps(wv, x1, a11);
      wv = _mm256_broadcast_ss(wr + 2);
      a20 = _mm256_fmadd_ps(wv, x0, a20);
      a21 = _mm256_fmadd_ps(wv, x1, a21);
      wv = _mm256_broadcast_ss(wr + 3);
      a30 = _mm256_fmadd_ps(wv, x0, a30);
      a31 = _mm256_fmadd_ps(wv, x1, a31);
      wv = _mm256_broadcast_ss(wr + 4);
      a40 = _mm256_fmadd_ps(wv, x0, a40);
      a41 = _mm256_fmadd_ps(wv, x1, a41);
      wv = _mm256_broadcast_ss(wr + 5);
      a50 = _mm256_fmadd_ps(wv, x0, a50);
      a51 = _mm256_fmadd_ps(wv, x1, a51);
    }
    const __m256 acc[6][2] = {{a00, a01}, {a10, a11}, {a20, a21},
                              {a30, a31}, {a40, a41}, {a50, a51}};
    merge(c == 0, part, acc, 6);
  }
  const int64_t rows = lesser(6, p.OC - oc0);
  alignas(32) float b16[16];
  alignas(16) uint16_t t[16];
  for (int64_t r = 0; r < rows; ++r) {
    if (bias)
      for (int l = 0; l < 16; ++l)
        b16[l] = bias[oc0 + r];
    round16(part + r * 16, bias ? b16 : nullptr, t);
    uint16_t* o = out + (oc0 + r) * os;
    for (int64_t i = 0; i < n; ++i)
      o[i] = t[i];
  }
}

}  // namespace

void run_f16_avx2(const Plan& p, const Chains& ch, const float* x, const float* wp,
                  const float* bias, uint16_t* out, int64_t os, int64_t oh0, int64_t oh1) {
  const int64_t K = p.C * p.KH * p.KW, lanes = p.by_channel ? 16 : 6;
  for (int64_t b = 0; b * lanes < p.OC; ++b) {
    const float* wb = wp + b * K * lanes;
    const int64_t oc0 = b * lanes;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const float* row = x + oh * p.Wp;
      uint16_t* o = out + oh * p.OW;
      if (!p.by_channel) {
        for (int64_t ow0 = 0; ow0 < p.OW; ow0 += 16)
          tile_positions(p, ch, row + ow0, wb, bias, o + ow0, os, oc0, lesser(16, p.OW - ow0));
        continue;
      }
      int64_t ow0 = 0;
      for (; ow0 + 6 <= p.OW; ow0 += 6)
        tile_channels<6>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
      switch (p.OW - ow0) {
        case 5:
          tile_channels<5>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
          break;
        case 4:
          tile_channels<4>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
          break;
        case 3:
          tile_channels<3>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
          break;
        case 2:
          tile_channels<2>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
          break;
        case 1:
          tile_channels<1>(p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace convd
}  // namespace tg
