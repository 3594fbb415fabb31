// float16's weight gradient (conv_direct.h, weight_grad_f16_avx2) with zmm registers: 16 output
// channels by 4 taps per tile. Every dot gets the AVX2 kernel's operations in its order (the
// blocks64 lanes' chains, their tree, the tail lanes' tree, the rest), so the bits do not depend
// on which kernel ran. Compiled with -mavx512f; the rules of the *_avx2.cpp files apply.
#include <immintrin.h>

#include <cstdint>

#include "kernels/conv_direct.h"

namespace tg {
namespace convd {
namespace {

inline int64_t lesser(int64_t a, int64_t b) {
  return a < b ? a : b;
}

struct Quad {
  __m512 v0, v1, v2, v3;
};
inline Quad add(Quad a, Quad b) {
  return {_mm512_add_ps(a.v0, b.v0), _mm512_add_ps(a.v1, b.v1), _mm512_add_ps(a.v2, b.v2),
          _mm512_add_ps(a.v3, b.v3)};
}

struct Dots16 {
  int64_t P, ld;
  const int64_t* pos;
  const float* gt;                 // positions by channels, from the tile's first channel
  const float *x0, *x1, *x2, *x3;  // the four taps' inputs (x + off[k])

  Quad step(const float* g, int64_t at, Quad acc) const {
    const __m512 gv = _mm512_loadu_ps(g);
    return {_mm512_fmadd_ps(gv, _mm512_set1_ps(x0[at]), acc.v0),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x1[at]), acc.v1),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x2[at]), acc.v2),
            _mm512_fmadd_ps(gv, _mm512_set1_ps(x3[at]), acc.v3)};
  }
  // As the AVX2 kernel: four chains in lockstep, folded as (c0 + c1) + (c2 + c3).
  Quad chains4(int64_t p0, int64_t p1, int64_t p2, int64_t p3, int64_t n, int64_t stride) const {
    const __m512 z = _mm512_setzero_ps();
    Quad c0{z, z, z, z}, c1 = c0, c2 = c0, c3 = c0;
    const float *g0 = gt + p0 * ld, *g1 = gt + p1 * ld, *g2 = gt + p2 * ld, *g3 = gt + p3 * ld;
    const int64_t gs = stride * ld;
    for (int64_t i = 0, d = 0; i < n; ++i, d += stride) {
      c0 = step(g0, pos[p0 + d], c0);
      c1 = step(g1, pos[p1 + d], c1);
      c2 = step(g2, pos[p2 + d], c2);
      c3 = step(g3, pos[p3 + d], c3);
      g0 += gs, g1 += gs, g2 += gs, g3 += gs;
    }
    return add(add(c0, c1), add(c2, c3));
  }
  Quad lane8(int64_t t, int64_t blocks) const {
    return add(chains4(t, t + 32, t + 16, t + 48, blocks, 64),
               chains4(t + 8, t + 40, t + 24, t + 56, blocks, 64));
  }
  Quad run() const {
    const int64_t la = P & ~int64_t(63), lv = P & ~int64_t(15);
    const __m512 z = _mm512_setzero_ps();
    Quad out{z, z, z, z};
    if (la > 0) {
      auto y = [&](int64_t t) { return lane8(t, la / 64); };
      out = add(add(add(y(0), y(4)), add(y(2), y(6))), add(add(y(1), y(5)), add(y(3), y(7))));
    }
    if (lv > la) {
      const int64_t n = (lv - la) / 8;
      const Quad tail = add(chains4(la, la + 4, la + 2, la + 6, n, 8),
                            chains4(la + 1, la + 5, la + 3, la + 7, n, 8));
      out = la > 0 ? add(out, tail) : tail;
    }
    for (int64_t p = lv; p < P; ++p)
      out = step(gt + p * ld, pos[p], out);
    return out;
  }
};

}  // namespace

void weight_grad_f16_avx512(const GradF16& q, const float* gt, const float* x, float* out) {
  alignas(64) float t[4][16];
  for (int64_t o0 = 0; o0 < q.OC; o0 += 16)
    for (int64_t k = 0; k < q.K; k += 4) {
      int64_t ks[4];
      for (int j = 0; j < 4; ++j)
        ks[j] = lesser(k + j, q.K - 1);  // past the last tap: its repeat, not stored
      const Quad r = Dots16{q.P,
                            q.ld,
                            q.pos,
                            gt + o0,
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

}  // namespace convd
}  // namespace tg
