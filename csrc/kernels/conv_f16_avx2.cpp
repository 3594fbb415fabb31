// The direct float16 convolution's AVX2+FMA tiles (conv_direct.h, run_f16_avx2). Every output
// gets ATen's half gemm sums (gemm16.h's interleave4): its four chains, each a sequential float32
// sum from +0, merged as ((p0 + p1) + p2) + p3, then float(bias) added and one rounding. The
// products of two float16 values are exact in float32, so a fused multiply-add is the same sum.
// Compiled with -mavx2 -mfma -mf16c: helpers stay in an anonymous namespace, no std:: templates.
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
      TG_CHANNEL_FMAS(N, r, w0, w1);
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

using ChannelsFn = void (*)(const Plan&, const Chains&, const float*, const float*, const float*,
                            uint16_t*, int64_t, int64_t);
const ChannelsFn kChannels[6] = {tile_channels<1>, tile_channels<2>, tile_channels<3>,
                                 tile_channels<4>, tile_channels<5>, tile_channels<6>};

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
      TG_POSITION_FMAS(wr, x0, x1);
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

// ---- the weight gradient: blocks64's sums (gemm16.h) over the positions, vectors over 8
// output channels. A "pair" is NO x NK of them: NO vectors of channels (sharing an input
// value) by NK input taps (sharing the gradient vectors); NO * NK == 2.
struct Pair {
  __m256 v0, v1;
};

template <int NO, int NK>
struct Dots : Blocks64<Dots<NO, NK>, Pair> {
  const float* x0;  // the first tap's input (x + off[k0])
  const float* x1;  // the second's (NK == 2)

  static Pair zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static Pair add(Pair a, Pair b) { return {_mm256_add_ps(a.v0, b.v0), _mm256_add_ps(a.v1, b.v1)}; }
  Pair step(const float* g, int64_t at, Pair acc) const {
    if (NO == 2) {
      const __m256 xb = _mm256_broadcast_ss(x0 + at);
      return {_mm256_fmadd_ps(_mm256_loadu_ps(g), xb, acc.v0),
              _mm256_fmadd_ps(_mm256_loadu_ps(g + 8), xb, acc.v1)};
    }
    const __m256 gv = _mm256_loadu_ps(g);
    return {_mm256_fmadd_ps(gv, _mm256_broadcast_ss(x0 + at), acc.v0),
            _mm256_fmadd_ps(gv, _mm256_broadcast_ss(x1 + at), acc.v1)};
  }
};

}  // namespace

void run_f16_avx2(const Plan& p, const Chains& ch, const float* x, const float* wp,
                  const float* bias, uint16_t* out, int64_t os, int64_t oh0, int64_t oh1) {
  for_rows(
      p, x, wp, out, oh0, oh1, [&](const float* wb, int64_t oc0, const float* row, uint16_t* o) {
        if (!p.by_channel) {
          for (int64_t ow0 = 0; ow0 < p.OW; ow0 += 16)
            tile_positions(p, ch, row + ow0, wb, bias, o + ow0, os, oc0, lesser(16, p.OW - ow0));
          return;
        }
        for (int64_t ow0 = 0, n = 0; ow0 < p.OW; ow0 += n) {  // tiles of 6, then the rest
          n = lesser(6, p.OW - ow0);
          kChannels[n - 1](p, ch, row + ow0, wb, bias, o + ow0, os, oc0);
        }
      });
}

void weight_grad_f16_avx2(const GradF16& q, const float* gt, const float* x, float* out) {
  alignas(32) float t[16];
  if (q.OC > 8) {  // 16 channels and one tap at a time
    for (int64_t o0 = 0; o0 < q.OC; o0 += 16)
      for (int64_t k = 0; k < q.K; ++k) {
        const Pair r = Dots<2, 1>{{q.P, q.ld, q.pos, gt + o0}, x + q.off[k], nullptr}.run();
        _mm256_store_ps(t, r.v0);
        _mm256_store_ps(t + 8, r.v1);
        for (int64_t o = o0; o < lesser(q.OC, o0 + 16); ++o)
          out[o * q.K + k] = t[o - o0];
      }
    return;
  }
  for (int64_t k = 0; k < q.K; k += 2) {  // 8 channels and two taps at a time
    const int64_t k1 = lesser(k + 1, q.K - 1);
    const Pair r = Dots<1, 2>{{q.P, q.ld, q.pos, gt}, x + q.off[k], x + q.off[k1]}.run();
    _mm256_store_ps(t, r.v0);
    _mm256_store_ps(t + 8, r.v1);
    for (int64_t o = 0; o < q.OC; ++o) {
      out[o * q.K + k] = t[o];
      if (k1 != k) out[o * q.K + k1] = t[8 + o];
    }
  }
}

void add_rounded_f16_avx2(float* d, int64_t ds, const float* s, int64_t ss, int64_t rows,
                          int64_t n) {
  auto r = [](__m256 v) { return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); };
  auto r1 = [](float v) { return _cvtsh_ss(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT)); };
  const int64_t full = n & ~int64_t(7);
  for (int64_t y = 0; y < rows; ++y, d += ds, s += ss) {
    for (int64_t i = 0; i < full; i += 8)
      _mm256_storeu_ps(d + i, r(_mm256_add_ps(_mm256_loadu_ps(d + i), r(_mm256_loadu_ps(s + i)))));
    for (int64_t i = full; i < n; ++i)  // (a masked store is slow on some CPUs)
      d[i] = r1(d[i] + r1(s[i]));
  }
}

}  // namespace convd
}  // namespace tg
