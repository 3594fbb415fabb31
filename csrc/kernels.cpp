#include "kernels.h"

#include <algorithm>

namespace tg {

void add_into(TensorImpl& dst, const TensorImpl& src) {
  dispatch(dst.dt, [&](auto tag) {
    using T = decltype(tag);
    T* q = dst.as<T>();
    const T* p = src.as<T>();
    for (int64_t i = 0, n = dst.numel; i < n; ++i)
      q[i] = from_f32<T>(to_f32(q[i]) + to_f32(p[i]));
    return 0;
  });
}

F32View f32_view(const TensorImpl& t) {
  F32View v;
  if (t.dt == DType::f32) {
    v.p = t.as<float>();
  } else {
    v.buf.resize(size_t(t.numel));
    const half* h = t.as<half>();
    for (int64_t i = 0; i < t.numel; ++i)
      v.buf[size_t(i)] = to_f32(h[i]);
    v.p = v.buf.data();
  }
  return v;
}

void store_f32(const float* src, TensorImpl& out) {
  if (out.dt == DType::f32) {
    if (out.numel) std::memcpy(out.data(), src, size_t(out.numel) * 4);
  } else {
    half* h = out.as<half>();
    for (int64_t i = 0; i < out.numel; ++i)
      h[i] = from_f32<half>(src[i]);
  }
}

namespace {
// Eight running partial sums: better accuracy than one accumulator and easy to vectorise.
template <class T>
float sum_contig(const T* p, int64_t n) {
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k)
      part[k] += to_f32(p[i + k]);
  float tail = 0;
  for (; i < n; ++i)
    tail += to_f32(p[i]);
  return ((part[0] + part[4]) + (part[1] + part[5])) + ((part[2] + part[6]) + (part[3] + part[7])) +
         tail;
}
}  // namespace

void sum_f32(const TensorImpl& x, unsigned mask, float* acc) {
  const Shape& s = x.shape;
  // Output strides over x's dims: 0 on reduced dims.
  int64_t so[kMaxDims], unused[kMaxDims] = {};
  int64_t out_numel = 1;
  for (int d = s.n - 1; d >= 0; --d) {
    if (mask & (1u << d)) {
      so[d] = 0;
    } else {
      so[d] = out_numel;
      out_numel *= s.d[d];
    }
  }
  std::fill(acc, acc + out_numel, 0.0f);
  if (x.numel == 0) return;
  dispatch(x.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    // Reducing a contiguous tail of dims: one blocked sum per output element.
    int first_red = s.n;
    while (first_red > 0 && (mask & (1u << (first_red - 1))))
      --first_red;
    bool tail_only = true;
    for (int d = 0; d < first_red; ++d)
      if (mask & (1u << d)) tail_only = false;
    if (tail_only) {
      int64_t inner = 1;
      for (int d = first_red; d < s.n; ++d)
        inner *= s.d[d];
      for (int64_t o = 0; o < out_numel; ++o)
        acc[o] = sum_contig(p + o * inner, inner);
      return 0;
    }
    for_each2(s, so, unused, [&](int64_t i, int64_t o, int64_t) { acc[o] += to_f32(p[i]); });
    return 0;
  });
}

void gemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb,
          float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j)
      c[j] = 0.0f;
    const float* a = A + i * lda;
    for (int64_t k = 0; k < K; ++k) {
      const float av = a[k];
      const float* __restrict b = B + k * ldb;
      for (int64_t j = 0; j < N; ++j)
        c[j] += av * b[j];
    }
  }
}

void transpose2d(const float* in, int64_t M, int64_t N, float* out) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      out[j * M + i] = in[i * N + j];
}

}  // namespace tg
