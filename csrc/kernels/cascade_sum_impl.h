// The loops of PyTorch's cascade sum, written once over a lane policy P and compiled twice:
// cascade_sum.cpp (portable lanes) and cascade_sum_avx2.cpp (ymm lanes). Everything here is in
// an unnamed namespace, so each file keeps its own copy, built with its own instruction set.
//
// P provides: In (stored element), Acc (scalar accumulator), V (kLanes accumulators), kVecIn
// (elements one inner-loop vector consumes: 2 * kLanes for half, whose two halves are added
// on load), zero(), add(V, V), load_in(p) (kVecIn elements), load_out(p) (kLanes consecutive
// elements), lane(v, k), ld(p) (one element as Acc).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/half.h"
#include "core/threads.h"
#include "kernels/cascade_sum.h"

namespace tg::csum {
namespace {

constexpr int kLevels = 4;
constexpr int kIlp = 4;
// The work (elements) below which a loop stays on the calling thread.
constexpr int64_t kParallelElems = 262144;
constexpr int64_t kColBlocks = 64;

inline int level_power(int64_t rows) {
  int ceil_log2 = rows <= 2 ? 1 : 64 - __builtin_clzll(uint64_t(rows - 1));
  return std::max(4, ceil_log2 / kLevels);
}

// PyTorch's multi-level accumulation of R columns over rows [0, size): level 0 takes 2^lp rows,
// then spills into level 1, which spills into level 2 every 2^(2 lp) rows, and so on. Rows
// start at `first`, a multiple of 2^(3 lp) (the level-3 spill period), with level 3 holding
// `top` and the lower levels empty; the result is the final combination of the four levels.
template <int R, class T, class Add, class Load>
void cascade(int64_t first, int64_t size, int lp, const T* top, T zero, Add add, Load load,
             T* res) {
  T acc[kLevels][R];
  for (int j = 0; j < kLevels; ++j)
    for (int k = 0; k < R; ++k)
      acc[j][k] = j == kLevels - 1 && top ? top[k] : zero;
  const int64_t step = int64_t(1) << lp, lmask = step - 1;
  int64_t i = first;
  while (i + step <= size) {
    T a[R];  // level 0 is empty at the start of every step: kept in registers
    for (int k = 0; k < R; ++k)
      a[k] = zero;
    for (const int64_t e = i + step; i < e; ++i)
      for (int k = 0; k < R; ++k)
        a[k] = add(a[k], load(i, k));
    for (int k = 0; k < R; ++k)
      acc[1][k] = add(acc[1][k], a[k]);
    for (int j = 2; j < kLevels && !(i & (lmask << ((j - 1) * lp))); ++j) {
      for (int k = 0; k < R; ++k) {
        acc[j][k] = add(acc[j][k], acc[j - 1][k]);
        acc[j - 1][k] = zero;
      }
    }
  }
  for (; i < size; ++i)
    for (int k = 0; k < R; ++k)
      acc[0][k] = add(acc[0][k], load(i, k));
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < R; ++k)
      acc[0][k] = add(acc[0][k], acc[j][k]);
  for (int k = 0; k < R; ++k)
    res[k] = acc[0][k];
}

// cascade() over all rows; with `par`, whole level-3 periods are summed on the pool (each one's
// level-2 total is independent of the rest) and added to level 3 in order, as one thread would.
template <int R, class T, class Add, class Load>
void cascade_all(int64_t size, bool par, T zero, Add add, Load load, T* res) {
  const int lp = level_power(size);
  const int64_t period = int64_t(1) << (3 * lp);
  const int64_t nper = size / period;
  if (!par || nper < 2 || get_num_threads() <= 1)
    return cascade<R>(0, size, lp, static_cast<const T*>(nullptr), zero, add, load, res);
  std::vector<T> part(size_t(nper * R));
  parallel_for(nper, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      // One period from empty levels ends with everything spilled into level 3: its total.
      cascade<R>(
          0, period, lp, static_cast<const T*>(nullptr), zero, add,
          [&](int64_t i, int k) { return load(p * period + i, k); }, &part[size_t(p * R)]);
    }
  });
  T top[R];
  for (int k = 0; k < R; ++k) {
    top[k] = zero;
    for (int64_t p = 0; p < nper; ++p)
      top[k] = add(top[k], part[size_t(p * R + k)]);
  }
  cascade<R>(nper * period, size, lp, top, zero, add, load, res);
}

// cascade() with R = ncols / kLanes vectors side by side, as PyTorch's outer loop runs it on
// blocks of 4 vectors: the levels live in memory and each input row is streamed once, so the
// columns' additions are the same while the walk over memory is row by row.
template <class P>
void cascade_cols(const typename P::In* x, int64_t s0, int64_t nrows, int64_t ncols,
                  typename P::Acc* res) {
  using Acc = typename P::Acc;
  constexpr int L = P::kLanes;
  const int lp = level_power(nrows);
  const int64_t step = int64_t(1) << lp, lmask = step - 1;
  std::vector<Acc> buf(size_t(kLevels * ncols), Acc(0));
  Acc* lv[kLevels];
  for (int j = 0; j < kLevels; ++j)
    lv[j] = buf.data() + j * ncols;
  auto acc_row = [&](Acc* dst, const typename P::In* row) {
    for (int64_t c = 0; c < ncols; c += L)
      P::stacc(dst + c, P::add(P::ldacc(dst + c), P::load_out(row + c)));
  };
  auto spill = [&](Acc* dst, Acc* src) {
    for (int64_t c = 0; c < ncols; c += L) {
      P::stacc(dst + c, P::add(P::ldacc(dst + c), P::ldacc(src + c)));
      P::stacc(src + c, P::zero());
    }
  };
  int64_t i = 0;
  while (i + step <= nrows) {
    for (const int64_t e = i + step; i < e; ++i)
      acc_row(lv[0], x + i * s0);
    for (int j = 1; j < kLevels; ++j) {
      spill(lv[j], lv[j - 1]);
      if (i & (lmask << (j * lp))) break;
    }
  }
  for (; i < nrows; ++i)
    acc_row(lv[0], x + i * s0);
  for (int j = 1; j < kLevels; ++j)
    for (int64_t c = 0; c < ncols; c += L)
      P::stacc(lv[0] + c, P::add(P::ldacc(lv[0] + c), P::ldacc(lv[j] + c)));
  std::copy(lv[0], lv[0] + ncols, res);
}

// PyTorch's row_sum: the row seen as (size / 4, 4), its four columns cascaded side by side, the
// leftover elements added to the first, then the four combined left to right.
template <class T, class Add, class Load>
T row_sum(int64_t size, bool par, T zero, Add add, Load load) {
  const int64_t rows = size / kIlp;
  T ps[kIlp];
  cascade_all<kIlp>(rows, par, zero, add, [&](int64_t i, int k) { return load(i * kIlp + k); }, ps);
  for (int64_t i = rows * kIlp; i < size; ++i)
    ps[0] = add(ps[0], load(i));
  for (int k = 1; k < kIlp; ++k)
    ps[0] = add(ps[0], ps[k]);
  return ps[0];
}

template <class P, class O>
struct Loops {
  using In = typename P::In;
  using Acc = typename P::Acc;
  using V = typename P::V;
  static constexpr int L = P::kLanes;

  // Function objects, not function pointers, so that the additions inline into the loops.
  struct SAdd {
    Acc operator()(Acc a, Acc b) const { return a + b; }
  };
  struct VAdd {
    V operator()(V a, V b) const { return P::add(a, b); }
  };
  static constexpr SAdd sadd{};
  static constexpr VAdd vadd{};

  // PyTorch's accumulate-store: out += v, rounded to the output dtype.
  static void put(O* q, Acc v) {
    if constexpr (std::is_same<O, uint16_t>::value)
      *q = float_to_half(half_to_float(*q) + v);
    else
      *q = O(*q + v);
  }

  // The reduced dim contiguous: per output, vectors of kVecIn elements cascaded, the tail added
  // one by one, then the lanes in order.
  static void inner(const In* x, int64_t s1, O* out, int64_t os1, int64_t n0, int64_t n1) {
    const int64_t nv = n0 / P::kVecIn;
    auto one = [&](int64_t j, bool par) {
      const In* row = x + j * s1;
      V v = row_sum(nv, par, P::zero(), vadd,
                    [row](int64_t i) { return P::load_in(row + i * P::kVecIn); });
      Acc f = 0;
      for (int64_t k = nv * P::kVecIn; k < n0; ++k)
        f += P::ld(row + k);
      for (int k = 0; k < L; ++k)
        f += P::lane(v, k);
      put(out + j * os1, f);
    };
    // Only a single long row is split across threads: separate outputs would be independent
    // too, but on a busy machine waiting for a second thread cost more than it saved.
    if (n1 == 1) return one(0, n0 >= kParallelElems);
    for (int64_t j = 0; j < n1; ++j)
      one(j, false);
  }

  // The kept dim contiguous: 4 vectors of columns cascaded down the rows, then single vectors
  // (row_sum down the rows), then single columns.
  static void outer(const In* x, int64_t s0, O* out, int64_t os1, int64_t n0, int64_t n1) {
    constexpr int64_t W = 4 * L;
    const int64_t nb = n1 / W;
    std::vector<Acc> cols;
    for (int64_t c0 = 0; c0 < nb; c0 += kColBlocks) {  // levels of <= 64 blocks stay in cache
      const int64_t nc = std::min(kColBlocks, nb - c0) * W;
      cols.resize(size_t(nc));
      cascade_cols<P>(x + c0 * W, s0, n0, nc, cols.data());
      for (int64_t c = 0; c < nc; ++c)
        put(out + (c0 * W + c) * os1, cols[size_t(c)]);
    }
    int64_t j = nb * W;
    for (; j + L <= n1; j += L) {
      V s = row_sum(n0, false, P::zero(), vadd,
                    [&](int64_t i) { return P::load_out(x + j + i * s0); });
      for (int k = 0; k < L; ++k)
        put(out + (j + k) * os1, P::lane(s, k));
    }
    for (; j < n1; ++j)
      put(out + j * os1,
          row_sum(n0, false, Acc(0), sadd, [&](int64_t i) { return P::ld(x + j + i * s0); }));
  }

  static Acc scalar_row(const In* x, int64_t s0, int64_t n0) {
    return row_sum(n0, false, Acc(0), sadd, [&](int64_t i) { return P::ld(x + i * s0); });
  }

  // One call of PyTorch's 2-D loop: dim 0 is the reduced one (if any).
  static void loop2d(const In* x, O* out, int64_t s0, int64_t s1, int64_t o0, int64_t o1,
                     int64_t n0, int64_t n1) {
    if (o0 != 0 && o1 == 0) {
      std::swap(s0, s1);
      std::swap(o0, o1);
      std::swap(n0, n1);
    }
    if (o0 != 0) {  // nothing reduced here: out += x
      for (int64_t j = 0; j < n1; ++j)
        for (int64_t i = 0; i < n0; ++i)
          put(out + i * o0 + j * o1, P::ld(x + i * s0 + j * s1));
      return;
    }
    if (s0 == 1 && n0 >= P::kVecIn) return inner(x, s1, out, o1, n0, n1);
    if (s1 == 1 && n1 >= P::kVecIn) return outer(x, s0, out, o1, n0, n1);
    if (s0 < s1) {
      for (int64_t j = 0; j < n1; ++j)
        put(out + j * o1, scalar_row(x + j * s1, s0, n0));
      return;
    }
    int64_t j = 0;
    for (; j + 3 < n1; j += 4) {
      Acc s[4];
      const In* base = x + j * s1;
      cascade_all<4>(
          n0, false, Acc(0), sadd, [&](int64_t i, int k) { return P::ld(base + i * s0 + k * s1); },
          s);
      for (int k = 0; k < 4; ++k)
        put(out + (j + k) * o1, s[k]);
    }
    for (; j < n1; ++j)
      put(out + j * o1, scalar_row(x + j * s1, s0, n0));
  }

  // The plan's outer dims (2 and up) in order, each 2-D slice accumulated into out.
  static void run(const Plan& p, const In* x, O* out) {
    if (p.n <= 1) {
      const int64_t n0 = p.n ? p.size[0] : 1;
      return loop2d(x, out, p.n ? p.in[0] : 0, 0, p.n ? p.out[0] : 0, 0, n0, 1);
    }
    int64_t idx[kMaxDims] = {};
    for (;;) {
      int64_t xi = 0, oi = 0;
      for (int d = 2; d < p.n; ++d) {
        xi += idx[d] * p.in[d];
        oi += idx[d] * p.out[d];
      }
      loop2d(x + xi, out + oi, p.in[0], p.in[1], p.out[0], p.out[1], p.size[0], p.size[1]);
      int d = 2;
      for (; d < p.n; ++d) {
        if (++idx[d] < p.size[d]) break;
        idx[d] = 0;
      }
      if (d >= p.n) return;
    }
  }
};

template <template <class, class, int, int> class Pol>
void run_kind(Kind k, const Plan& p, const void* x, void* out) {
  switch (k) {
    case Kind::f32:
      return Loops<Pol<float, float, 8, 8>, float>::run(p, static_cast<const float*>(x),
                                                        static_cast<float*>(out));
    case Kind::f16:
      return Loops<Pol<uint16_t, float, 8, 16>, uint16_t>::run(p, static_cast<const uint16_t*>(x),
                                                               static_cast<uint16_t*>(out));
    case Kind::f16f32:
      return Loops<Pol<uint16_t, float, 8, 8>, float>::run(p, static_cast<const uint16_t*>(x),
                                                           static_cast<float*>(out));
    case Kind::f64:
      return Loops<Pol<double, double, 4, 4>, double>::run(p, static_cast<const double*>(x),
                                                           static_cast<double*>(out));
  }
}

}  // namespace
}  // namespace tg::csum
