// float16 products in PyTorch's summation order (see gemm16.h). The k indices of each chain are
// packed next to each other, so a chain is one run of the sequential tile kernel over contiguous
// packed A (kSR rows) and B (kSC columns); the chains' results are then merged per tile.
#include "kernels/gemm16.h"

#include <algorithm>
#include <cstdlib>
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
  std::vector<int64_t> seg{0};
  void strided(int64_t from, int64_t to, int64_t step) {
    for (int64_t k = from; k < to; k += step)
      perm.push_back(int32_t(k));
  }
  void close() { seg.push_back(int64_t(perm.size())); }
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
    for (int64_t c = 0; c < nr; ++c)
      cr[c] = add ? cr[c] + out[r * kSC + c] : out[r * kSC + c];
  }
}

// Packs the n rows (or, for B, columns) of m (float32) into panels of W: element (x, perm[s])
// of m goes to dst[(x / W) * W * K + s * W + x % W]. Per panel, the loop that walks m's smaller
// stride is innermost.
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

}  // namespace

void gemm_f16(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* C,
              int64_t ldc, bool accumulate, F16Order order) {
  if (gemm_detail::empty_product(M, N, K, C, ldc, accumulate)) return;
  const Plan plan = make_plan(K, order);
  const int64_t mp = (M + kSR - 1) / kSR, np = (N + kSC - 1) / kSC;
  std::vector<float>& ap = tl_ap;
  std::vector<float>& bp = tl_bp;
  ap.assign(size_t(mp * kSR * K), 0.0f);
  bp.assign(size_t(np * kSC * K), 0.0f);
  int64_t ars, acs, brs, bcs;
  const float* aw = widened(A, M, K, tl_aw, ars, acs);
  const float* bw = widened(B, K, N, tl_bw, brs, bcs);
  pack<kSR>(aw, ars, acs, M, plan, ap.data(), false);
  pack<kSC>(bw, brs, bcs, N, plan, bp.data(), true);
  const Job job{M,   N,          K,     ap.data(), bp.data(),  C,
                ldc, accumulate, order, &plan,     chain_fn(), cpu::simd()};
  const int nres = order == F16Order::blocks64 ? 32 + kTailLanes : 0;
  auto run = [&](int64_t t0, int64_t t1) {
    std::vector<float> res(size_t(nres * kTile));
    for (int64_t t = t0; t < t1; ++t) {
      check_interrupt();
      const int64_t q = t / mp, p = t % mp;  // the B panel outermost: it stays in cache
      tile(job, p * kSR, q * kSC, res.data());
    }
  };
  const double flops = 2.0 * double(M) * double(N) * double(K);
  if (flops >= kParallelFlops && get_num_threads() > 1)
    parallel_for(mp * np, 1, run);
  else
    run(0, mp * np);
}

}  // namespace tg
