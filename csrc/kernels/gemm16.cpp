// float16 products in PyTorch's summation order (see gemm16.h). The k indices of each chain are
// packed next to each other, so a chain is one run of the sequential tile kernel over contiguous
// packed A (kSR rows) and B (kSC columns); the chains' results are then merged per tile.
#include "kernels/gemm16.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/cpu.h"
#include "core/half.h"
#include "core/interrupt.h"
#include "core/threads.h"

namespace tg {
namespace {

using gemm_detail::kSC;
using gemm_detail::kSR;
constexpr int kTile = kSR * kSC;

// Products of at least this many flops are split across threads.
constexpr double kParallelFlops = 3e6;

void chain_port(int64_t n, const float* a, const float* b, float* acc, bool fresh, bool add) {
  float c[kTile];
  for (int e = 0; e < kTile; ++e)
    c[e] = fresh || add ? 0.0f : acc[e];
  for (int64_t k = 0; k < n; ++k, a += kSR, b += kSC)
    for (int r = 0; r < kSR; ++r) {
      const float av = a[r];
      for (int j = 0; j < kSC; ++j)
        c[r * kSC + j] += av * b[j];
    }
  for (int e = 0; e < kTile; ++e)
    acc[e] = add ? acc[e] + c[e] : c[e];
}

gemm_detail::ChainFn chain_fn() {
#if TG_HAVE_AVX2
  if (cpu::simd()) return gemm_detail::chain_avx2;
#endif
  return chain_port;
}

// The k indices of every chain, chain after chain; chain c is perm[seg[c], seg[c + 1]).
struct Plan {
  std::vector<int32_t> perm;
  std::vector<int32_t> inv;  // inv[perm[s]] == s, filled by close_all
  std::vector<int64_t> seg{0};
  void strided(int64_t from, int64_t to, int64_t step) {
    for (int64_t k = from; k < to; k += step)
      perm.push_back(int32_t(k));
  }
  void close() { seg.push_back(int64_t(perm.size())); }
  void close_all() {
    inv.resize(perm.size());
    for (size_t s = 0; s < perm.size(); ++s)
      inv[size_t(perm[s])] = int32_t(s);
  }
  int64_t len(int c) const { return seg[size_t(c) + 1] - seg[size_t(c)]; }
};

// blocks64's chains: 64 block lanes, 8 vector-tail lanes, then the scalar tail.
constexpr int kBlockLanes = 64, kTailLanes = 8;

Plan make_plan(int64_t K, F16Order order) {
  Plan p;
  if (order == F16Order::sequential) {
    p.strided(0, K, 1);
    p.close();
  } else if (order == F16Order::interleave4) {
    const int64_t k4 = K & ~int64_t(3);
    for (int r = 0; r < 4; ++r) {
      p.strided(r, k4, 4);
      if (r == 0) p.strided(k4, K, 1);
      p.close();
    }
  } else {
    const int64_t la = K & ~int64_t(kBlockLanes - 1), lv = K & ~int64_t(15);
    for (int o = 0; o < kBlockLanes; ++o) {
      p.strided(o, la, kBlockLanes);
      p.close();
    }
    for (int t = 0; t < kTailLanes; ++t) {
      p.strided(la + t, lv, kTailLanes);
      p.close();
    }
    p.strided(lv, K, 1);
    p.close();
  }
  p.close_all();
  return p;
}

// The horizontal sum of 8 lanes in the order of ATen's vec_reduce_all, for every tile element at
// once: the AVX2 build folds halves, then pairs of pairs, then neighbours; the scalar `default`
// build (the portable path's counterpart) adds the lanes one after another.
void reduce8(const float* const* lane, float* out, bool simd) {
  if (!simd) {
    for (int e = 0; e < kTile; ++e) {
      float s = lane[0][e];
      for (int t = 1; t < 8; ++t)
        s += lane[t][e];
      out[e] = s;
    }
    return;
  }
  for (int e = 0; e < kTile; ++e) {
    const float h0 = lane[0][e] + lane[4][e], h1 = lane[1][e] + lane[5][e];
    const float h2 = lane[2][e] + lane[6][e], h3 = lane[3][e] + lane[7][e];
    out[e] = (h0 + h2) + (h1 + h3);
  }
}

// n <= kSC floats; a whole row as one fixed-size copy (a few vector moves: std::copy of a
// run-time length became `rep movs`, slow for 64 bytes).
inline void copy_row(const float* src, float* dst, int64_t n) {
  if (n == kSC)
    std::memcpy(dst, src, sizeof(float) * kSC);
  else
    std::copy(src, src + n, dst);
}

struct Job {
  int64_t M, N, K;
  const float* ap;  // ceil(M/kSR) panels of K*kSR
  const float* bp;  // ceil(N/kSC) panels of K*kSC
  float* C;
  int64_t ldc;
  bool accumulate;
  F16Order order;
  const Plan* plan;
  gemm_detail::ChainFn chain;
  bool simd;
};

void run_chain(const Job& j, int c, const float* ap, const float* bp, float* acc, bool fresh,
               bool add) {
  const int64_t s = j.plan->seg[size_t(c)];
  j.chain(j.plan->len(c), ap + s * kSR, bp + s * kSC, acc, fresh, add);
}

#if TG_HAVE_AVX2
// Leaf i of blocks64's trees is chain bitreverse(i): ATen folds its 8 registers of 8 lanes in
// halves (lane o with o + 32, then o + 16, then o + 8), then across the 8 lanes of one register
// the same way (vec_reduce_all: t with t + 4, t + 2, t + 1), so each tree node is left + right
// over leaves in bit-reversed order.
struct LeafOrder {
  int32_t blocks[kBlockLanes], tails[kTailLanes];
  LeafOrder() {
    for (int i = 0; i < kBlockLanes; ++i)
      blocks[i] = int32_t(((i & 1) << 5) | ((i & 2) << 3) | ((i & 4) << 1) | ((i & 8) >> 1) |
                          ((i & 16) >> 3) | ((i & 32) >> 5));
    for (int i = 0; i < kTailLanes; ++i)
      tails[i] = int32_t(kBlockLanes + (((i & 1) << 2) | (i & 2) | ((i & 4) >> 2)));
  }
};
const LeafOrder kLeaves;

// blocks64's sums but for the last k: the 64 block lanes' tree plus the 8 tail lanes' tree, each
// +0 when its chains are empty (an empty sum is +0, so adding it changes nothing: skipped).
// tree(lanes, leaves, dst) folds those chains into dst, W floats.
template <int W, class Tree>
void blocks64_trees(const Plan& plan, Tree&& tree, float* out) {
  if (plan.len(0) > 0)
    tree(kBlockLanes, kLeaves.blocks, out);
  else
    std::fill(out, out + W, 0.0f);
  if (plan.len(kBlockLanes) > 0) {
    float tail[W];
    tree(kTailLanes, kLeaves.tails, tail);
    for (int e = 0; e < W; ++e)
      out[e] = plan.len(0) > 0 ? out[e] + tail[e] : tail[e];
  }
}

// The AVX2 build's blocks64 order with each tree folded as its chains finish: the same sums as
// the general path below (reduce8's simd order), without its passes over the 32 lane tiles.
void blocks64_simd(const Job& j, const float* ap, const float* bp, float* out, float* stack) {
  const int64_t* seg = j.plan->seg.data();
  blocks64_trees<kTile>(
      *j.plan,
      [&](int lanes, const int32_t* leaves, float* dst) {
        gemm_detail::chain_tree_avx2(lanes, leaves, seg, ap, bp, stack, dst);
      },
      out);
  run_chain(j, kBlockLanes + kTailLanes, ap, bp, out, false, false);
}
#endif

// One kSR x kSC tile of C at rows i0, columns j0.
void tile(const Job& j, int64_t i0, int64_t j0, float* res) {
  const float* ap = j.ap + i0 * j.K;
  const float* bp = j.bp + j0 * j.K;
  const int64_t mr = std::min<int64_t>(kSR, j.M - i0), nr = std::min<int64_t>(kSC, j.N - j0);
  float out[kTile];
  if (j.order == F16Order::sequential) {
    if (j.accumulate) std::fill(out, out + kTile, 0.0f);  // the padding rows and columns
    if (j.accumulate)
      for (int64_t r = 0; r < mr; ++r)
        for (int64_t c = 0; c < nr; ++c)
          out[r * kSC + c] = j.C[(i0 + r) * j.ldc + j0 + c];
    run_chain(j, 0, ap, bp, out, !j.accumulate, false);
  } else if (j.order == F16Order::interleave4) {
    // ((p0 + p1) + p2) + p3: each later partial sum is added as it is finished.
    // A chain's sum starts from +0 and so is never -0: adding an empty chain (+0) changes
    // nothing, and small k skips it.
    for (int c = 0; c < 4; ++c)
      if (c == 0 || j.plan->len(c) > 0) run_chain(j, c, ap, bp, out, true, c > 0);
#if TG_HAVE_AVX2
  } else if (j.simd) {
    blocks64_simd(j, ap, bp, out, res);
#endif
  } else if (j.plan->len(0) == 0) {  // k < 64: no block lanes, so their sum is +0 (see above)
    std::fill(out, out + kTile, 0.0f);
    if (j.plan->len(kBlockLanes) > 0) {
      const float* lanes[8];
      float* tl = res + 32 * kTile;
      for (int t = 0; t < kTailLanes; ++t) {
        run_chain(j, kBlockLanes + t, ap, bp, tl + t * kTile, true, false);
        lanes[t] = tl + t * kTile;
      }
      reduce8(lanes, out, j.simd);
    }
    run_chain(j, kBlockLanes + kTailLanes, ap, bp, out, false, false);
  } else {
    // The 64 block lanes are 8 registers of 8, folded in halves (lane o with lane o + 32 first,
    // as each upper chain finishes), then across the lanes.
    for (int c = 0; c < kBlockLanes; ++c)
      run_chain(j, c, ap, bp, res + (c % 32) * kTile, true, c >= 32);
    for (int half = 2; half >= 1; half /= 2)
      for (int r = 0; r < half; ++r)
        for (int t = 0; t < 8; ++t) {
          float* x = res + (r * 8 + t) * kTile;
          const float* y = res + ((r + half) * 8 + t) * kTile;
          for (int e = 0; e < kTile; ++e)
            x[e] += y[e];
        }
    const float* lanes[8];
    float tail[kTile];
    for (int t = 0; t < 8; ++t)
      lanes[t] = res + t * kTile;
    reduce8(lanes, out, j.simd);
    float* tl = res + 32 * kTile;
    for (int t = 0; t < kTailLanes; ++t) {
      run_chain(j, kBlockLanes + t, ap, bp, tl + t * kTile, true, false);
      lanes[t] = tl + t * kTile;
    }
    reduce8(lanes, tail, j.simd);
    for (int e = 0; e < kTile; ++e)
      out[e] += tail[e];
    run_chain(j, kBlockLanes + kTailLanes, ap, bp, out, false, false);
  }
  const bool add = j.accumulate && j.order != F16Order::sequential;
  for (int64_t r = 0; r < mr; ++r) {
    float* cr = j.C + (i0 + r) * j.ldc + j0;
    const float* o = out + r * kSC;
    if (add)
      for (int64_t c = 0; c < nr; ++c)
        cr[c] += o[c];
    else
      copy_row(o, cr, nr);
  }
}

#if TG_HAVE_AVX2
// C's tile at rows i0 (kSR of them) and columns j0 (two panels, 2 kSC) with the AVX-512 chains
// (cpu::wide()): per element the sums of tile() on the SIMD path, so the same bits.
void tile_wide(const Job& j, int64_t i0, int64_t j0, float* stack) {
  constexpr int kW = 2 * kTile;
  const float* ap = j.ap + i0 * j.K;
  const float* bp = j.bp + j0 * j.K;
  const int64_t bstride = kSC * j.K;
  const int64_t mr = std::min<int64_t>(kSR, j.M - i0), nr = std::min<int64_t>(2 * kSC, j.N - j0);
  const Plan& plan = *j.plan;
  auto chain = [&](int c, float* acc, bool fresh, bool add) {
    const int64_t s = plan.seg[size_t(c)];
    gemm_detail::chain2_avx512(plan.len(c), ap + s * kSR, bp + s * kSC, bstride, acc, fresh, add);
  };
  // Row r of panel q: out[q * kTile + r * kSC, + n(q)) against C's row i0 + r at column
  // j0 + q * kSC, n(q) of them.
  auto rows = [&](auto&& fn) {
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t q = 0; q < 2 && q * kSC < nr; ++q)
        fn(j.C + (i0 + r) * j.ldc + j0 + q * kSC, q * kTile + r * kSC,
           std::min<int64_t>(kSC, nr - q * kSC));
  };
  float out[kW];
  if (j.order == F16Order::sequential) {
    if (j.accumulate) {
      std::fill(out, out + kW, 0.0f);
      rows([&](const float* c, int64_t o, int64_t n) { copy_row(c, out + o, n); });
    }
    chain(0, out, !j.accumulate, false);
  } else if (j.order == F16Order::interleave4) {
    for (int c = 0; c < 4; ++c)
      if (c == 0 || plan.len(c) > 0) chain(c, out, true, c > 0);
  } else {
    const int64_t* seg = plan.seg.data();
    blocks64_trees<kW>(
        plan,
        [&](int lanes, const int32_t* leaves, float* dst) {
          gemm_detail::chain_tree2_avx512(lanes, leaves, seg, ap, bp, bstride, stack, dst);
        },
        out);
    chain(kBlockLanes + kTailLanes, out, false, false);
  }
  if (j.accumulate && j.order != F16Order::sequential)
    rows([&](float* c, int64_t o, int64_t n) {
      for (int64_t e = 0; e < n; ++e)
        c[e] += out[o + e];
    });
  else
    rows([&](float* c, int64_t o, int64_t n) { copy_row(out + o, c, n); });
}
#endif

#if TG_HAVE_AVX2
// blocks64 over two A panels and two B panels at once (rows i0.., 2 kSR; columns j0.., 2 kSC),
// where cpu::wide(): tile_wide's sums for each of the four tiles.
void tile_wide4(const Job& j, int64_t i0, int64_t j0, float* stack) {
  constexpr int kW = 4 * kTile;
  const float* ap = j.ap + i0 * j.K;
  const float* bp = j.bp + j0 * j.K;
  const int64_t astride = kSR * j.K, bstride = kSC * j.K;
  const Plan& plan = *j.plan;
  const int64_t* seg = plan.seg.data();
  float out[kW];
  blocks64_trees<kW>(
      plan,
      [&](int lanes, const int32_t* leaves, float* dst) {
        gemm_detail::chain_tree4_avx512(lanes, leaves, seg, ap, astride, bp, bstride, stack, dst);
      },
      out);
  const int last = kBlockLanes + kTailLanes;  // the last k one by one, from the sums so far
  const int64_t s = plan.seg[size_t(last)];
  for (int u = 0; u < 2; ++u)
    gemm_detail::chain2_avx512(plan.len(last), ap + u * astride + s * kSR, bp + s * kSC, bstride,
                               out + u * 2 * kTile, false, false);
  const int64_t nr = std::min<int64_t>(2 * kSC, j.N - j0);
  for (int u = 0; u < 2; ++u) {
    const int64_t mr = std::min<int64_t>(kSR, j.M - i0 - u * kSR);
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t q = 0; q < 2 && q * kSC < nr; ++q) {
        float* c = j.C + (i0 + u * kSR + r) * j.ldc + j0 + q * kSC;
        const float* o = out + (u * 2 + q) * kTile + r * kSC;
        const int64_t n = std::min<int64_t>(kSC, nr - q * kSC);
        if (j.accumulate)
          for (int64_t e = 0; e < n; ++e)
            c[e] += o[e];
        else
          copy_row(o, c, n);
      }
  }
}
#endif

// Packs the n rows (or, for B, columns) of m (float32) into panels of W: element (x, perm[s])
// of m goes to dst[(x / W) * W * K + s * W + x % W], and the last panel's columns past n are
// zero. Per panel, the loop that walks m's smaller stride is innermost.
template <int W>
void pack(const float* src, int64_t rs, int64_t cs, int64_t n, const Plan& plan, float* dst,
          bool is_b) {
  const int64_t K = int64_t(plan.perm.size());
  const int64_t xs = is_b ? cs : rs, ks = is_b ? rs : cs;
  const int32_t* perm = plan.perm.data();
  for (int64_t x0 = 0; x0 < n; x0 += W) {
    const int64_t xn = std::min<int64_t>(W, n - x0);
    float* panel = dst + x0 * K;
    const float* base = src + x0 * xs;
#if TG_HAVE_AVX2
    if (ks == 1 && cpu::simd()) {  // k contiguous: 8 x 8 transposes, rows stored in chain order
      gemm_detail::pack_perm_avx2(base, DType::f32, xs, xn, K, plan.inv.data(), panel, W);
      continue;
    }
#endif
    if (xn < W)  // the last panel's padding columns (the buffer is not cleared beforehand)
      for (int64_t s = 0; s < K; ++s)
        std::fill(panel + s * W + xn, panel + (s + 1) * W, 0.0f);
    if (xs == 1) {  // x contiguous: each k is one short copy (fixed-size for a whole panel)
      if (xn == W)
        for (int64_t s = 0; s < K; ++s)
          std::memcpy(panel + s * W, base + perm[s] * ks, sizeof(float) * W);
      else
        for (int64_t s = 0; s < K; ++s)
          std::copy(base + perm[s] * ks, base + perm[s] * ks + xn, panel + s * W);
      continue;
    }
    if (std::abs(ks) <= std::abs(xs)) {
      for (int64_t x = 0; x < xn; ++x)
        for (int64_t s = 0; s < K; ++s)
          panel[s * W + x] = base[x * xs + perm[s] * ks];
    } else {
      for (int64_t s = 0; s < K; ++s) {
        const float* col = base + perm[s] * ks;
        for (int64_t x = 0; x < xn; ++x)
          panel[s * W + x] = col[x * xs];
      }
    }
  }
}

// The rows x cols float16 matrix m widened to float32 in `buf`, keeping m's strides when it is
// dense in either orientation (one vectorised pass), else compacted row-major.
const float* widened(const MatRef& m, int64_t rows, int64_t cols, std::vector<float>& buf,
                     int64_t& rs, int64_t& cs) {
  const auto* src = static_cast<const uint16_t*>(m.p);
  const int64_t n = rows * cols;
  buf.resize(size_t(n));
  const bool row_major = (m.cs == 1 || cols == 1) && (m.rs == cols || rows == 1);
  const bool col_major = (m.rs == 1 || rows == 1) && (m.cs == rows || cols == 1);
  if (row_major || col_major) {
    rs = row_major ? cols : 1;
    cs = row_major ? 1 : rows;
#if TG_HAVE_AVX2
    if (cpu::simd()) {
      gemm_detail::widen_avx2(src, n, buf.data());
      return buf.data();
    }
#endif
    for (int64_t i = 0; i < n; ++i)
      buf[size_t(i)] = half_to_float(src[i]);
    return buf.data();
  }
  rs = cols;
  cs = 1;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      buf[size_t(i * cols + j)] = half_to_float(src[i * m.rs + j * m.cs]);
  return buf.data();
}

thread_local std::vector<float> tl_ap, tl_bp, tl_aw, tl_bw;

// Packs the float16 operand m in chain order: A (is_b false, rows x M by K) or B (K by N, x its
// columns). With k contiguous in m, AVX2 widens and packs in one pass; otherwise m is widened
// into buf first.
template <int W>
void pack_operand(const MatRef& m, int64_t rows, int64_t cols, const Plan& plan, float* dst,
                  std::vector<float>& buf, bool is_b) {
#if TG_HAVE_AVX2
  const int64_t ks = is_b ? m.rs : m.cs, xs = is_b ? m.cs : m.rs;
  if (ks == 1 && cpu::simd()) {
    const int64_t n = is_b ? cols : rows, K = int64_t(plan.perm.size());
    const auto* src = static_cast<const uint16_t*>(m.p);
    for (int64_t x0 = 0; x0 < n; x0 += W)
      gemm_detail::pack_perm_avx2(src + x0 * xs, DType::f16, xs, std::min<int64_t>(W, n - x0), K,
                                  plan.inv.data(), dst + x0 * K, W);
    return;
  }
#endif
  int64_t rs, cs;
  const float* w = widened(m, rows, cols, buf, rs, cs);
  pack<W>(w, rs, cs, is_b ? cols : rows, plan, dst, is_b);
}

}  // namespace

void gemm_f16(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* C,
              int64_t ldc, bool accumulate, F16Order order) {
  if (gemm_detail::empty_product(M, N, K, C, ldc, accumulate)) return;
  // One chain from zero is what the float32 GEMM's kernels do per element within a K block.
  if (order == F16Order::sequential && !accumulate && gemm_in_order(M, N, K, A, B, C, ldc)) return;
  const Plan plan = make_plan(K, order);
  const int64_t mp = (M + kSR - 1) / kSR, np = (N + kSC - 1) / kSC;
  const bool wide = cpu::wide();
  std::vector<float>& ap = tl_ap;
  std::vector<float>& bp = tl_bp;
  ap.resize(size_t(mp * kSR * K));  // every element is written by the packing below
  bp.resize(size_t(np * kSC * K));
  pack_operand<kSR>(A, M, K, plan, ap.data(), tl_aw, false);
  pack_operand<kSC>(B, K, N, plan, bp.data(), tl_bw, true);
  const Job job{M,   N,          K,     ap.data(), bp.data(),  C,
                ldc, accumulate, order, &plan,     chain_fn(), cpu::simd()};
  const int nres = order == F16Order::blocks64 ? 32 + kTailLanes : 0;
  // Where cpu::wide(), each task is a pair of B panels (the last one may be alone), and for
  // blocks64 a pair of A panels too.
  const int64_t per = wide ? 2 : 1, groups = (np + per - 1) / per;
  const int64_t rper = wide && order == F16Order::blocks64 ? 2 : 1,
                rgroups = (mp + rper - 1) / rper;
  auto run = [&](int64_t t0, int64_t t1) {
    std::vector<float> res(size_t(nres * kTile));
    for (int64_t t = t0; t < t1; ++t) {
      check_interrupt();
      const int64_t g = t / rgroups, p0 = t % rgroups * rper;  // B panels outermost: in cache
      const bool pair = per == 2 && 2 * g + 1 < np;
#if TG_HAVE_AVX2
      if (pair && rper == 2 && p0 + 1 < mp) {
        tile_wide4(job, p0 * kSR, 2 * g * kSC, res.data());
        continue;
      }
#endif
      for (int64_t p = p0; p < std::min(p0 + rper, mp); ++p) {
#if TG_HAVE_AVX2
        if (pair) {
          tile_wide(job, p * kSR, 2 * g * kSC, res.data());
          continue;
        }
#endif
        tile(job, p * kSR, per * g * kSC, res.data());
      }
    }
  };
  const double flops = 2.0 * double(M) * double(N) * double(K);
  if (flops >= kParallelFlops && get_num_threads() > 1)
    parallel_for(rgroups * groups, 1, run);
  else
    run(0, rgroups * groups);
}

}  // namespace tg
