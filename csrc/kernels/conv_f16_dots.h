// The order of ATen's float16 blocks64 dot (gemm16.h) over a sample's positions, written once for
// the AVX2 and AVX-512 weight-gradient kernels (conv_f16_avx2.cpp, conv_f16_avx512.cpp), each of
// which instantiates it with a kernel type local to its file, and so with its own instructions.
//
// K (the kernel) provides: a type Acc (the vectors of one tile's sums), static Acc zero() and
// static Acc add(Acc, Acc), and Acc step(const float* g, int64_t at, Acc acc), which adds the
// products of one position (gradient row g, input offset at) to acc.
#pragma once
#include <cstdint>

#include "kernels/conv_direct.h"

namespace tg {
namespace convd {

template <class K, class Acc>
struct Blocks64 {
  int64_t P, ld;
  const int64_t* pos;  // per position: its input offset
  const float* gt;     // positions by channels, from the tile's first channel

  const K& k() const { return static_cast<const K&>(*this); }
  // Four sequential sums from +0, each over n positions `stride` apart, from p0..p3, in lockstep
  // (one chain alone would wait on each add's latency), folded as (c0 + c1) + (c2 + c3).
  Acc chains4(int64_t p0, int64_t p1, int64_t p2, int64_t p3, int64_t n, int64_t stride) const {
    Acc c0 = K::zero(), c1 = c0, c2 = c0, c3 = c0;
    const float *g0 = gt + p0 * ld, *g1 = gt + p1 * ld, *g2 = gt + p2 * ld, *g3 = gt + p3 * ld;
    const int64_t gs = stride * ld;
    for (int64_t i = 0, d = 0; i < n; ++i, d += stride) {
      c0 = k().step(g0, pos[p0 + d], c0);
      c1 = k().step(g1, pos[p1 + d], c1);
      c2 = k().step(g2, pos[p2 + d], c2);
      c3 = k().step(g3, pos[p3 + d], c3);
      g0 += gs, g1 += gs, g2 += gs, g3 += gs;
    }
    return K::add(K::add(c0, c1), K::add(c2, c3));
  }
  // ATen's fold of its 8 registers of 8 lanes for the lanes t, t + 8, ..., t + 56 of the blocks:
  // ((c(t) + c(t+32)) + (c(t+16) + c(t+48))) + ((c(t+8) + c(t+40)) + (c(t+24) + c(t+56))).
  Acc lane8(int64_t t, int64_t blocks) const {
    return K::add(chains4(t, t + 32, t + 16, t + 48, blocks, 64),
                  chains4(t + 8, t + 40, t + 24, t + 56, blocks, 64));
  }
  // The whole dot: the blocks' tree, the tail lanes' tree, then the rest one by one.
  Acc run() const {
    const int64_t la = P & ~int64_t(63), lv = P & ~int64_t(15);
    Acc out = K::zero();
    if (la > 0) {
      auto y = [&](int64_t t) { return lane8(t, la / 64); };
      out = K::add(K::add(K::add(y(0), y(4)), K::add(y(2), y(6))),
                   K::add(K::add(y(1), y(5)), K::add(y(3), y(7))));
    }
    if (lv > la) {  // ((c0 + c4) + (c2 + c6)) + ((c1 + c5) + (c3 + c7)) over the 8 tail lanes
      const int64_t n = (lv - la) / 8;
      const Acc tail = K::add(chains4(la, la + 4, la + 2, la + 6, n, 8),
                              chains4(la + 1, la + 5, la + 3, la + 7, n, 8));
      out = la > 0 ? K::add(out, tail) : tail;
    }
    for (int64_t p = lv; p < P; ++p)
      out = k().step(gt + p * ld, pos[p], out);
    return out;
  }
};

// The float16 forward kernels' walk (run_f16_avx2, run_f16_avx512): fn(wb, oc0, row, o) for
// every block of output channels (its packed weights wb, its first channel oc0) and output row
// oh in [oh0, oh1) (the input row pointer and the row's first output). Plan's inline helpers are
// not called: an AVX copy of them could serve portable code.
template <class Fn>
void for_rows(const Plan& p, const float* x, const float* wp, uint16_t* out, int64_t oh0,
              int64_t oh1, Fn&& fn) {
  const int64_t K = p.C * p.KH * p.KW, lanes = p.by_channel ? 16 : 6;
  for (int64_t b = 0; b * lanes < p.OC; ++b)
    for (int64_t oh = oh0; oh < oh1; ++oh)
      fn(wp + b * K * lanes, b * lanes, x + oh * p.Wp, out + oh * p.OW);
}

}  // namespace convd
}  // namespace tg
