// The plan (PyTorch's TensorIterator dim order for a reduction), the float16 special cases, and
// the portable lanes. The loops are in cascade_sum_impl.h.
#include "kernels/cascade_sum.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cascade_sum_impl.h"

namespace tg::csum {

namespace {

template <class In_, class Acc_, int L, int VecIn>
struct Portable {
  using In = In_;
  using Acc = Acc_;
  static constexpr int kLanes = L;
  static constexpr int kVecIn = VecIn;
  struct V {
    Acc a[L];
  };
  static Acc ld(const In* p) {
    if constexpr (std::is_same<In, uint16_t>::value)
      return half_to_float(*p);
    else
      return *p;
  }
  static V zero() { return V{}; }
  static V add(V x, const V& y) {
    for (int k = 0; k < L; ++k)
      x.a[k] += y.a[k];
    return x;
  }
  static V load_out(const In* p) {
    V v;
    for (int k = 0; k < L; ++k)
      v.a[k] = ld(p + k);
    return v;
  }
  static V load_in(const In* p) {
    V v = load_out(p);
    if constexpr (VecIn == 2 * L) v = add(v, load_out(p + L));
    return v;
  }
  static Acc lane(const V& v, int k) { return v.a[k]; }
  static V ldacc(const Acc* p) {
    V v;
    for (int k = 0; k < L; ++k)
      v.a[k] = p[k];
    return v;
  }
  static void stacc(Acc* p, const V& v) {
    for (int k = 0; k < L; ++k)
      p[k] = v.a[k];
  }
};

}  // namespace

Plan plan(const Shape& shape, const int64_t* strides, unsigned mask) {
  const int n = shape.n;
  int64_t ost[kMaxDims] = {};
  int64_t st = 1;
  for (int d = n - 1; d >= 0; --d) {
    if (!(mask & (1u << d))) {
      ost[d] = st;
      st *= shape.d[d];
    }
  }
  // TensorIterator's insertion sort: reduced dims first, then by input stride (smaller inner),
  // ties to the smaller size; a comparison that decides nothing leaves the order as it is.
  int perm[kMaxDims];
  for (int i = 0; i < n; ++i)
    perm[i] = n - 1 - i;
  auto cmp = [&](int a, int b) {
    if ((ost[a] == 0) != (ost[b] == 0)) return ost[b] == 0 ? 1 : -1;
    const int64_t* ops[2] = {ost, strides};
    for (const int64_t* s : ops) {
      if (s[a] == 0 || s[b] == 0) continue;
      if (s[a] != s[b]) return s[a] < s[b] ? -1 : 1;
      if (shape.d[a] > shape.d[b]) return 1;
    }
    return 0;
  };
  for (int i = 1; i < n; ++i) {
    for (int d1 = i, d0 = i - 1; d0 >= 0; --d0) {
      const int c = cmp(perm[d0], perm[d1]);
      if (c > 0) {
        std::swap(perm[d0], perm[d1]);
        d1 = d0;
      } else if (c < 0) {
        break;
      }
    }
  }
  Plan p;
  if (n == 0) return p;
  for (int i = 0; i < n; ++i) {
    p.size[i] = shape.d[perm[i]];
    p.in[i] = strides[perm[i]];
    p.out[i] = ost[perm[i]];
  }
  // Merge neighbours that walk both tensors as one dim (and absorb unit dims).
  int prev = 0;
  for (int d = 1; d < n; ++d) {
    const bool merge =
        p.size[prev] == 1 || p.size[d] == 1 ||
        (p.size[prev] * p.in[prev] == p.in[d] && p.size[prev] * p.out[prev] == p.out[d]);
    if (merge) {
      if (p.size[prev] == 1) {
        p.in[prev] = p.in[d];
        p.out[prev] = p.out[d];
      }
      p.size[prev] *= p.size[d];
    } else {
      ++prev;
      p.size[prev] = p.size[d];
      p.in[prev] = p.in[d];
      p.out[prev] = p.out[d];
    }
  }
  p.n = prev + 1;
  return p;
}

namespace detail {
void run_portable(Kind k, const Plan& p, const void* x, void* out) {
  run_kind<Portable>(k, p, x, out);
}
}  // namespace detail

namespace {

void run(Kind k, const Plan& p, const void* x, void* out) {
#if TG_HAVE_AVX2
  if (cpu::simd()) return detail::run_avx2(k, p, x, out);
#endif
  detail::run_portable(k, p, x, out);
}

// x's strides kept by x.to(float) (PyTorch keeps them for a non-overlapping dense tensor).
bool dense_layout(const Shape& shape, const int64_t* strides) {
  int order[kMaxDims], m = 0;
  for (int d = 0; d < shape.n; ++d)
    if (shape.d[d] != 1) order[m++] = d;
  std::sort(order, order + m, [&](int a, int b) {
    return strides[a] != strides[b] ? strides[a] < strides[b] : shape.d[a] < shape.d[b];
  });
  int64_t expect = 1;
  for (int i = 0; i < m; ++i) {
    if (strides[order[i]] != expect) return false;
    expect *= shape.d[order[i]];
  }
  return true;
}

}  // namespace

void sum(Kind k, const void* x, const Shape& shape, const int64_t* strides, unsigned mask,
         void* out) {
  int64_t nout = 1, numel = shape.numel();
  for (int d = 0; d < shape.n; ++d)
    if (!(mask & (1u << d))) nout *= shape.d[d];
  const size_t osize = k == Kind::f16 ? 2 : k == Kind::f64 ? 8 : 4;
  std::memset(out, 0, size_t(nout) * osize);
  if (numel == 0) return;
  Plan p = plan(shape, strides, mask);
  const bool two_reduced = p.n >= 2 && p.out[0] == 0 && p.out[1] == 0;
  if (k == Kind::f16f32 || (k == Kind::f16 && two_reduced)) {
    // PyTorch sums x.to(float) here: for mean always, for a half sum whose 2-D loop would
    // otherwise round partial sums to half between slices.
    std::vector<float> tmp;
    float* acc = static_cast<float*>(out);
    if (k == Kind::f16) {
      tmp.assign(size_t(nout), 0.0f);
      acc = tmp.data();
    }
    if (dense_layout(shape, strides)) {
      run(Kind::f16f32, plan(shape, strides, mask), x, acc);
    } else {
      std::vector<float> xf(static_cast<size_t>(numel));
      const auto* h = static_cast<const uint16_t*>(x);
      int64_t idx[kMaxDims] = {};
      for (int64_t i = 0; i < numel; ++i) {
        int64_t off = 0;
        for (int d = 0; d < shape.n; ++d)
          off += idx[d] * strides[d];
        xf[size_t(i)] = half_to_float(h[off]);
        for (int d = shape.n - 1; d >= 0 && ++idx[d] == shape.d[d]; --d)
          idx[d] = 0;
      }
      const Shape cs = contiguous_strides(shape);
      run(Kind::f32, plan(shape, cs.d, mask), xf.data(), acc);
    }
    if (k == Kind::f16) {
      auto* q = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < nout; ++i)
        q[i] = float_to_half(acc[i]);
    }
    return;
  }
  run(k, p, x, out);
}

}  // namespace tg::csum
