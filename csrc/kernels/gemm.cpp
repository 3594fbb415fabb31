// GEMM driver: a direct path for tiny shapes, and a BLIS-style packed, cache-blocked path
// (pack a KC x NC panel of B into NR-wide micro-panels, an MC x KC block of A into MR-tall
// micro-panels, and run a register-tiled micro-kernel over them). The AVX2+FMA+F16C kernels
// (gemm_avx2.cpp, gemm_pack_avx2.cpp) are picked at run time; the portable ones use their layout.
#include "kernels/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "core/cpu.h"
#include "core/half.h"
#include "core/interrupt.h"
#include "core/threads.h"

namespace tg {
namespace {

using gemm_detail::kMR;
using gemm_detail::kNR;

// Blocking for Zen 3 (32 KiB L1d, 512 KiB L2 per core): a kKC x kNR B micro-panel (16 KiB)
// stays in L1, the kMC x kKC A block (144 KiB) in L2, the kKC x kNC B panel in L3.
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 144;
constexpr int64_t kNC = 4080;

// Products with M*N*K at most this run by plain loops (no packing, no allocation).
constexpr int64_t kDirectMax = 4096;
// Products of at least this many flops are split across threads (a wake-up costs ~20 us).
constexpr double kParallelFlops = 3e6;
// Tiles of C per thread, taken dynamically by the pool, and the narrowest tile: every tile packs
// the operand all tiles share once more, which costs ~1/width of the tile's own work.
constexpr int64_t kTilesPerThread = 4;
constexpr int64_t kMinTile = 128;

// ---------------------------------------------------------------------------------------------
// Element loads for the portable code.
inline float ld(const float* p) {
  return *p;
}
// float16 -> float32 without branches (exact for every input, NaN payloads kept), so that loops
// over it vectorise: normal values by rebiasing the exponent with one multiply, subnormals by a
// magic-number subtraction.
inline float bits_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float ld(const uint16_t* p) {
  const uint32_t w = uint32_t(*p) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const float normalized = bits_f32((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = bits_f32((two_w >> 17) | (126u << 23)) - 0.5f;
  return bits_f32(sign | (two_w < (1u << 27) ? f32_bits(denormalized) : f32_bits(normalized)));
}

void widen_port(const uint16_t* src, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = ld(src + i);
}

struct Kernels {
  gemm_detail::PackAFn pack_a;
  gemm_detail::PackBFn pack_b;
  gemm_detail::MacroFn macro;
  gemm_detail::WidenFn widen;
  int64_t step = kNR;  // the micro-tile's columns: B is packed and multiplied this many at a time
};
const Kernels& kernels();

// ---------------------------------------------------------------------------------------------
// Direct path for tiny shapes (M*N*K <= kDirectMax, so M*K and K*N fit the stack buffers below):
// operands that are float16 or not laid out as wanted are first copied into float32 buffers on the
// stack (each element converted once), then plain loops run on contiguous data. No allocation.
template <class T>
const float* gather(const T* p, int64_t rows, int64_t cols, int64_t rs, int64_t cs, float* buf) {
  if ((cs == 1 || cols == 1) && (rs == cols || rows == 1)) {  // contiguous: one flat loop
    if constexpr (std::is_same_v<T, uint16_t>)
      kernels().widen(p, rows * cols, buf);
    else
      for (int64_t i = 0; i < rows * cols; ++i)
        buf[i] = p[i];
    return buf;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      buf[i * cols + j] = ld(p + i * rs + j * cs);
  return buf;
}

// Returns the rows x cols operand m as a contiguous row-major float32 array (m itself when it
// already is one).
const float* contiguous(const MatRef& m, int64_t rows, int64_t cols, float* buf) {
  if (m.dt == DType::f32) {
    const float* p = static_cast<const float*>(m.p);
    if ((m.cs == 1 || cols == 1) && (m.rs == cols || rows == 1)) return p;
    return gather(p, rows, cols, m.rs, m.cs, buf);
  }
  return gather(static_cast<const uint16_t*>(m.p), rows, cols, m.rs, m.cs, buf);
}

void direct_gemm(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* c,
                 int64_t ldc, bool accumulate) {
  float abuf[kDirectMax], bbuf[kDirectMax];
  if (N == 1) {  // dot products: B as a K-vector
    const float* a = contiguous(A, M, K, abuf);
    const float* b = contiguous(B, K, 1, bbuf);
    for (int64_t i = 0; i < M; ++i) {
      const float* ar = a + i * K;
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k)
        s += ar[k] * b[k];
      c[i * ldc] = accumulate ? c[i * ldc] + s : s;
    }
    return;
  }
  const float* a = contiguous(A, M, K, abuf);
  const float* b = contiguous(B, K, N, bbuf);
  if (K == 1) {  // outer product
    for (int64_t i = 0; i < M; ++i) {
      float* __restrict cr = c + i * ldc;
      const float av = a[i];
      if (accumulate)
        for (int64_t j = 0; j < N; ++j)
          cr[j] += av * b[j];
      else
        for (int64_t j = 0; j < N; ++j)
          cr[j] = av * b[j];
    }
    return;
  }
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict cr = c + i * ldc;
    const float* ar = a + i * K;
    const float a0 = ar[0];
    if (accumulate)
      for (int64_t j = 0; j < N; ++j)
        cr[j] += a0 * b[j];
    else
      for (int64_t j = 0; j < N; ++j)
        cr[j] = a0 * b[j];
    for (int64_t k = 1; k < K; ++k) {
      const float av = ar[k];
      const float* __restrict br = b + k * N;
      for (int64_t j = 0; j < N; ++j)
        cr[j] += av * br[j];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Portable packed kernels (same layout as the AVX2 ones).
template <class T>
void pack_a_port_t(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, float* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
    const int64_t mr = std::min<int64_t>(kMR, mc - i0);
    float* d = dst + i0 * kc;
    for (int64_t k = 0; k < kc; ++k) {
      int64_t i = 0;
      for (; i < mr; ++i)
        d[k * kMR + i] = ld(a + (i0 + i) * rs + k * cs);
      for (; i < kMR; ++i)
        d[k * kMR + i] = 0.0f;
    }
  }
}

template <class T>
void pack_b_port_t(int64_t kc, int64_t nc, const T* b, int64_t rs, int64_t cs, float* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, nc - j0);
    float* d = dst + j0 * kc;
    for (int64_t k = 0; k < kc; ++k) {
      int64_t j = 0;
      if (cs == 1)
        for (; j < nr; ++j)
          d[k * kNR + j] = ld(b + k * rs + j0 + j);
      else
        for (; j < nr; ++j)
          d[k * kNR + j] = ld(b + k * rs + (j0 + j) * cs);
      for (; j < kNR; ++j)
        d[k * kNR + j] = 0.0f;
    }
  }
}

void pack_a_port(int64_t mc, int64_t kc, const void* a, DType dt, int64_t rs, int64_t cs,
                 float* dst) {
  if (dt == DType::f16)
    pack_a_port_t(mc, kc, static_cast<const uint16_t*>(a), rs, cs, dst);
  else
    pack_a_port_t(mc, kc, static_cast<const float*>(a), rs, cs, dst);
}

void pack_b_port(int64_t kc, int64_t nc, const void* b, DType dt, int64_t rs, int64_t cs,
                 float* dst) {
  if (dt == DType::f16)
    pack_b_port_t(kc, nc, static_cast<const uint16_t*>(b), rs, cs, dst);
  else
    pack_b_port_t(kc, nc, static_cast<const float*>(b), rs, cs, dst);
}

// Scalar micro-kernel written so that the compiler vectorises the j loop.
void kernel_port(int64_t kc, const float* a, const float* b, float* acc /* kMR x kNR */) {
  for (int64_t i = 0; i < kMR * kNR; ++i)
    acc[i] = 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
    const float* bk = b + k * kNR;
    const float* ak = a + k * kMR;
    for (int i = 0; i < kMR; ++i) {
      const float av = ak[i];
      for (int j = 0; j < kNR; ++j)
        acc[i * kNR + j] += av * bk[j];
    }
  }
}

void macro_port(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float* c,
                int64_t rsc, int64_t csc, bool first) {
  alignas(64) float acc[kMR * kNR];
  for (int64_t j = 0; j < nc; j += kNR) {
    const int64_t nr = std::min<int64_t>(kNR, nc - j);
    for (int64_t i = 0; i < mc; i += kMR) {
      const int64_t mr = std::min<int64_t>(kMR, mc - i);
      kernel_port(kc, ap + i * kc, bp + j * kc, acc);
      float* cij = c + i * rsc + j * csc;
      for (int64_t r = 0; r < mr; ++r) {
        float* crow = cij + r * rsc;
        const float* arow = acc + r * kNR;
        if (first)
          for (int64_t q = 0; q < nr; ++q)
            crow[q * csc] = arow[q];
        else
          for (int64_t q = 0; q < nr; ++q)
            crow[q * csc] += arow[q];
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

const Kernels& kernels() {
  static const Kernels k = [] {
#if TG_HAVE_AVX2
    return Kernels{gemm_detail::pack_a_avx2, gemm_detail::pack_b_avx2, gemm_detail::macro_avx2,
                   gemm_detail::widen_avx2};
#else
    return Kernels{pack_a_port, pack_b_port, macro_port, widen_port};
#endif
  }();
  static const Kernels portable{pack_a_port, pack_b_port, macro_port, widen_port};
#if TG_HAVE_AVX2
  static const Kernels wide{gemm_detail::pack_a_avx2, gemm_detail::pack_b_avx2,
                            gemm_detail::macro_avx512, gemm_detail::widen_avx2, 2 * kNR};
  if (cpu::wide()) return wide;
#endif
  return cpu::simd() ? k : portable;
}

// A per-thread, 64-byte aligned float buffer that only grows; reused between calls.
class PackBuf {
 public:
  PackBuf() = default;
  PackBuf(const PackBuf&) = delete;
  PackBuf& operator=(const PackBuf&) = delete;
  ~PackBuf() { std::free(p_); }
  float* get(size_t n) {
    if (n > cap_) {
      std::free(p_);
      size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p_) {
        cap_ = 0;
        throw OutOfMemory("tapegrad: out of memory: could not allocate " + std::to_string(bytes) +
                          " bytes of matrix-product scratch");
      }
      cap_ = bytes / sizeof(float);
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  size_t cap_ = 0;
};

thread_local PackBuf tl_apack, tl_bpack;
thread_local PackBuf tl_shared;  // the calling thread's shared operand, packed for all threads

inline const void* elem(const MatRef& m, int64_t i, int64_t j) {
  return static_cast<const char*>(m.p) + (i * m.rs + j * m.cs) * int64_t(itemsize(m.dt));
}

inline int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Splits n into ceil(n/max) near-equal blocks, each a multiple of `mult` (but at most max).
inline int64_t block_size(int64_t n, int64_t max, int64_t mult) {
  int64_t nb = (n + max - 1) / max;
  return std::min(max, round_up((n + nb - 1) / nb, mult));
}

// The fraction of the micro-tiles' work that is useful for an m x n product.
inline double tile_use(int64_t m, int64_t n) {
  return double(m) / double(round_up(m, kMR)) * double(n) / double(round_up(n, kNR));
}

// An operand packed in advance, all of it, by blocks: block (pc / kc, x / xc) of `block` floats
// holds what packed_gemm packs for k pc.. and rows (A) or columns (B) x.. (its blocking for this
// M, N and K), so that the tiles of C that all read it share one copy.
struct Prepacked {
  const float* p = nullptr;
  int64_t blocks = 0, block = 0;
  const float* at(int64_t kb, int64_t b) const { return p + (kb * blocks + b) * block; }
};

// The packed path over one tile of C, on the calling thread, with its own packing buffers (or
// an operand packed in advance and shared by the tiles).
void packed_gemm(const Kernels& kr, int64_t M, int64_t N, int64_t K, const MatRef& A,
                 const MatRef& B, float* C, int64_t rsc, int64_t csc, bool accumulate,
                 const Prepacked& pa = {}, const Prepacked& pb = {}) {
  const int64_t kc_max = block_size(K, kKC, 8);
  const int64_t mc_max = block_size(M, kMC, kMR);
  const int64_t nc_max = block_size(N, kNC, kr.step);
  float* bp = pb.p ? nullptr : tl_bpack.get(size_t(round_up(nc_max, kNR) * kc_max));
  float* ap = pa.p ? nullptr : tl_apack.get(size_t(round_up(mc_max, kMR) * kc_max + 8));
  auto a_block = [&](int64_t mc, int64_t kc, int64_t ic, int64_t pc) -> const float* {
    if (pa.p) return pa.at(pc / kc_max, ic / mc_max);
    kr.pack_a(mc, kc, elem(A, ic, pc), A.dt, A.rs, A.cs, ap);
    return ap;
  };
  for (int64_t jc = 0; jc < N; jc += nc_max) {
    const int64_t nc = std::min(nc_max, N - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      check_interrupt();
      const int64_t kc = std::min(kc_max, K - pc);
      const bool first = pc == 0 && !accumulate;
      // The first A block is multiplied by each B micro-panel right after packing it, while
      // the panel is still in L1 (for M <= MC, the common case here, B is then read only once).
      // When that is all of M, the packed panel is not needed afterwards, so one L1-resident
      // slot is reused for every panel.
      const int64_t mc0 = std::min(mc_max, M);
      const bool one_block = mc0 == M;
      const float* a0 = a_block(mc0, kc, 0, pc);
      const float* bblock = pb.p ? pb.at(pc / kc_max, jc / nc_max) : bp;
      for (int64_t jr = 0; jr < nc; jr += kr.step) {
        const int64_t nr = std::min<int64_t>(kr.step, nc - jr);
        const float* bpanel = bblock + jr * kc;
        if (!pb.p) {
          float* slot = one_block ? bp : bp + jr * kc;
          kr.pack_b(kc, nr, elem(B, pc, jc + jr), B.dt, B.rs, B.cs, slot);
          bpanel = slot;
        }
        kr.macro(mc0, nr, kc, a0, bpanel, C + (jc + jr) * csc, rsc, csc, first);
      }
      for (int64_t ic = mc0; ic < M; ic += mc_max) {
        check_interrupt();  // a block is ~1 ms at most: Ctrl-C stays prompt
        const int64_t mc = std::min(mc_max, M - ic);
        kr.macro(mc, nc, kc, a_block(mc, kc, ic, pc), bblock, C + ic * rsc + jc * csc, rsc, csc,
                 first);
      }
    }
  }
}

}  // namespace

bool gemm_detail::empty_product(int64_t M, int64_t N, int64_t K, float* C, int64_t ldc,
                                bool accumulate) {
  if (M <= 0 || N <= 0) return true;
  if (K > 0) return false;
  if (!accumulate)
    for (int64_t i = 0; i < M; ++i)
      std::memset(C + i * ldc, 0, size_t(N) * sizeof(float));
  return true;
}

namespace {
void packed(int64_t M, int64_t N, int64_t K, MatRef A, MatRef B, float* C, int64_t ldc,
            bool accumulate, bool may_transpose);
}  // namespace

void gemm(int64_t M, int64_t N, int64_t K, MatRef A, MatRef B, float* C, int64_t ldc,
          bool accumulate, bool may_transpose) {
  if (gemm_detail::empty_product(M, N, K, C, ldc, accumulate)) return;
  if (M <= kDirectMax && N <= kDirectMax && K <= kDirectMax && M * N * K <= kDirectMax) {
    direct_gemm(M, N, K, A, B, C, ldc, accumulate);
    return;
  }
  packed(M, N, K, A, B, C, ldc, accumulate, may_transpose);
}

bool gemm_in_order(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, float* C,
                   int64_t ldc) {
  if (K > kKC) return false;
  if (!gemm_detail::empty_product(M, N, K, C, ldc, false))
    packed(M, N, K, A, B, C, ldc, false, true);
  return true;
}

namespace {
void packed(int64_t M, int64_t N, int64_t K, MatRef A, MatRef B, float* C, int64_t ldc,
            bool accumulate, bool may_transpose) {
  const Kernels& kr = kernels();
  // Computing C^T = B^T A^T instead (C written through swapped strides) wastes less of the
  // kMR x kNR micro-tiles when N is small, e.g. N = 10: 10/16 of each tile used, but 10/12 as rows.
  int64_t rsc = ldc, csc = 1;
  if (may_transpose && tile_use(N, M) > 1.1 * tile_use(M, N)) {
    std::swap(M, N);
    std::swap(A, B);
    std::swap(A.rs, A.cs);
    std::swap(B.rs, B.cs);
    std::swap(rsc, csc);
  }
  const double flops = 2.0 * double(M) * double(N) * double(K);
  int nt = flops >= kParallelFlops ? get_num_threads() : 1;
  // Split C into tiles along its longer side (each tile packs its own A and B blocks: the
  // operand shared by all tiles is packed once per tile, so split the side that keeps it small).
  // The threads take tiles from a shared counter, so a core that another program keeps busy
  // delays the product by at most its last tile. Where each element's sum is made does not
  // change its bits: the K blocking depends on K alone.
  const bool split_n = N >= M;
  const int64_t unit = split_n ? kr.step : kMR;
  const int64_t len = split_n ? N : M;
  nt = int(std::min<int64_t>(nt, (len + unit - 1) / unit));
  if (nt <= 1) {
    packed_gemm(kr, M, N, K, A, B, C, rsc, csc, accumulate);
    return;
  }
  const int64_t want = int64_t(nt) * kTilesPerThread;
  const int64_t widest = round_up((len + nt - 1) / nt, unit);
  const int64_t per =
      std::max(round_up((len + want - 1) / want, unit), std::min(widest, round_up(kMinTile, unit)));
  const int64_t tiles = (len + per - 1) / per;
  // The operand that every tile reads (A for tiles along N, B along M) is packed once, by all
  // the threads, instead of once per tile.
  Prepacked pa, pb;
  if (tiles > 1) {
    const int64_t kc_max = block_size(K, kKC, 8);
    const int64_t kblocks = (K + kc_max - 1) / kc_max;
    const int64_t xc_max = split_n ? block_size(M, kMC, kMR) : block_size(N, kNC, kr.step);
    const int64_t X = split_n ? M : N;
    Prepacked& pre = split_n ? pa : pb;
    pre.blocks = (X + xc_max - 1) / xc_max;
    pre.block = split_n ? round_up(xc_max, kMR) * kc_max + 8 : round_up(xc_max, kNR) * kc_max;
    float* buf = tl_shared.get(size_t(kblocks * pre.blocks * pre.block));
    pre.p = buf;
    parallel_for(kblocks * pre.blocks, 1, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t pc = u / pre.blocks * kc_max, x = u % pre.blocks * xc_max;
        const int64_t kc = std::min(kc_max, K - pc), xc = std::min(xc_max, X - x);
        float* dst = buf + u * pre.block;
        if (split_n) {
          kr.pack_a(xc, kc, elem(A, x, pc), A.dt, A.rs, A.cs, dst);
        } else {
          for (int64_t jr = 0; jr < xc; jr += kr.step)
            kr.pack_b(kc, std::min<int64_t>(kr.step, xc - jr), elem(B, pc, x + jr), B.dt, B.rs,
                      B.cs, dst + jr * kc);
        }
      }
    });
  }
  parallel_for(tiles, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t * per, e = std::min(len, b + per);
      if (b >= e) continue;
      if (split_n) {
        MatRef Bt = B;
        Bt.p = elem(B, 0, b);
        packed_gemm(kr, M, e - b, K, A, Bt, C + b * csc, rsc, csc, accumulate, pa);
      } else {
        MatRef At = A;
        At.p = elem(A, b, 0);
        packed_gemm(kr, e - b, N, K, At, B, C + b * rsc, rsc, csc, accumulate, {}, pb);
      }
    }
  });
}

}  // namespace

}  // namespace tg
