// What every op's compute goes through: plain loops over contiguous buffers (with broadcasting),
// float16 blocks widened to float32, conversions and sums, and thread-local scratch buffers (so
// neither eager ops nor replays call malloc for temporaries). Nothing here knows of the tape or
// of capture (autograd/capture.h wraps kernel calls for that).
#pragma once
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "core/tensor.h"

namespace tg {

// f(T{}) for the fast dtypes (float32, float16); the others never reach these kernels.
template <class F>
inline auto dispatch(DType dt, F&& f) {
  if (dt == DType::f32) return f(float{});
  if (dt != DType::f16)
    throw std::logic_error(std::string("a float32/float16 kernel got ") + dtype_name(dt));
  return f(half{});
}

// A float32 buffer from a per-thread pool: grow-only, returned on destruction.
class Scratch {
 public:
  explicit Scratch(int64_t n);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* data() { return buf_->data(); }

 private:
  std::vector<float>* buf_;
};

// ---------------------------------------------------------------- loops
// Element strides of `in` (right-aligned, 0 where broadcast) over `out`.
inline void bcast_strides(const Shape& in, const Shape& out, int64_t* st) {
  int64_t acc = 1;
  int off = out.n - in.n;
  for (int d = out.n - 1; d >= 0; --d) {
    int k = d - off;
    st[d] = (k < 0 || in.d[k] == 1) ? 0 : acc;
    if (k >= 0) acc *= in.d[k];
  }
}

// fn(out_index, a_offset, b_offset) over every element of `out`, row-major.
template <class Fn>
inline void for_each2(const Shape& out, const int64_t* sa, const int64_t* sb, Fn&& fn) {
  int nd = out.n;
  if (nd == 0) {
    fn(int64_t(0), int64_t(0), int64_t(0));
    return;
  }
  int64_t inner = out.d[nd - 1];
  int64_t total = out.numel();
  if (total == 0) return;
  int64_t sai = sa[nd - 1], sbi = sb[nd - 1];
  int64_t idx[kMaxDims] = {};
  int64_t ia = 0, ib = 0;
  for (int64_t o = 0; o < total; o += inner) {
    for (int64_t j = 0; j < inner; ++j)
      fn(o + j, ia + j * sai, ib + j * sbi);
    for (int d = nd - 2; d >= 0; --d) {
      ++idx[d];
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out.d[d]) break;
      ia -= sa[d] * out.d[d];
      ib -= sb[d] * out.d[d];
      idx[d] = 0;
    }
  }
}

// float16 <-> float32 for a block (F16C when the CPU has it; defined with the vector kernels).
void widen_block(const uint16_t* x, float* y, int64_t n);
void narrow_block(const float* x, uint16_t* y, int64_t n);
// Max pooling over 2x2 windows at stride 2 that lie inside a plane of width W (pool_avx2.cpp;
// call only where cpu::simd()): output rows [oh0, oh1), OW per row, values and/or indices (offsets
// in the plane, below 2^31), as the portable scan gives them. avail: the elements readable from x
// on (past the plane, the rest of the tensor).
void max_2x2_avx2(const float* x, int64_t W, int64_t OW, int64_t oh0, int64_t oh1, int64_t avail,
                  float* out, int64_t* idx);
void max_2x2_avx2(const uint16_t* x, int64_t W, int64_t OW, int64_t oh0, int64_t oh1, int64_t avail,
                  uint16_t* out, int64_t* idx);
constexpr int64_t kBlock = 512;

// float16 elementwise work in blocks: widen the inputs with the vector conversions, run fn on
// float32 (where the compiler vectorises it), narrow the result once.
template <int N, class Fn>
inline void blocked_f16(const uint16_t* const* in, const bool* scalar, uint16_t* out, int64_t n,
                        Fn fn) {
  float buf[N + 1][kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = std::min(kBlock, n - i0);
    for (int k = 0; k < N; ++k) {
      if (scalar[k]) {
        const float v = half_to_float(in[k][0]);
        for (int64_t i = 0; i < m; ++i)
          buf[k][i] = v;
      } else {
        widen_block(in[k] + i0, buf[k], m);
      }
    }
    float* r = buf[N];
    for (int64_t i = 0; i < m; ++i) {
      if constexpr (N == 1)
        r[i] = fn(buf[0][i]);
      else if constexpr (N == 2)
        r[i] = fn(buf[0][i], buf[1][i]);
      else
        r[i] = fn(buf[0][i], buf[1][i], buf[2][i]);
    }
    narrow_block(r, out + i0, m);
  }
}

// out[i] = fn(x[i]); x and out of the same dtype and size. (Runs now; callers launch it.)
// The map functions take generic lambdas: fn runs on float for float32/float16 and on double for
// float64.
template <class Fn>
inline void map1(const TensorImpl& x, TensorImpl& out, Fn fn) {
  if (x.dt == DType::f64) {
    const double* p = x.as<double>();
    double* q = out.as<double>();
    for (int64_t i = 0, n = x.numel; i < n; ++i)
      q[i] = fn(p[i]);
    return;
  }
  if (x.dt == DType::f16) {
    const uint16_t* in[1] = {x.as<uint16_t>()};
    const bool sc[1] = {false};
    return blocked_f16<1>(in, sc, out.as<uint16_t>(), x.numel, fn);
  }
  dispatch(x.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.as<T>();
    T* q = out.as<T>();
    for (int64_t i = 0, n = x.numel; i < n; ++i)
      q[i] = from_f32<T>(fn(to_f32(p[i])));
    return 0;
  });
}

// out = fn(a, b) with broadcasting; a, b, out share one dtype; out has the broadcast shape.
template <class Fn>
inline void map2(const TensorImpl& a, const TensorImpl& b, TensorImpl& out, Fn fn) {
  if (out.dt == DType::f64) {
    const double *pa = a.as<double>(), *pb = b.as<double>();
    double* q = out.as<double>();
    int64_t sa[kMaxDims], sb[kMaxDims];
    bcast_strides(a.shape, out.shape, sa);
    bcast_strides(b.shape, out.shape, sb);
    for_each2(out.shape, sa, sb,
              [&](int64_t o, int64_t ia, int64_t ib) { q[o] = fn(pa[ia], pb[ib]); });
    return;
  }
  dispatch(out.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    T* q = out.as<T>();
    int64_t n = out.numel;
    const bool sa = a.shape != out.shape && a.numel == 1, sb = b.shape != out.shape && b.numel == 1;
    if (std::is_same<T, half>::value && (a.shape == out.shape || sa) &&
        (b.shape == out.shape || sb)) {
      const uint16_t* in[2] = {a.as<uint16_t>(), b.as<uint16_t>()};
      const bool sc[2] = {sa, sb};
      blocked_f16<2>(in, sc, out.as<uint16_t>(), n, fn);
    } else if (a.shape == out.shape && b.shape == out.shape) {
      for (int64_t i = 0; i < n; ++i)
        q[i] = from_f32<T>(fn(to_f32(pa[i]), to_f32(pb[i])));
    } else if (a.shape == out.shape && b.numel == 1) {
      float vb = to_f32(pb[0]);
      for (int64_t i = 0; i < n; ++i)
        q[i] = from_f32<T>(fn(to_f32(pa[i]), vb));
    } else if (b.shape == out.shape && a.numel == 1) {
      float va = to_f32(pa[0]);
      for (int64_t i = 0; i < n; ++i)
        q[i] = from_f32<T>(fn(va, to_f32(pb[i])));
    } else {
      int64_t sa[kMaxDims], sb[kMaxDims];
      bcast_strides(a.shape, out.shape, sa);
      bcast_strides(b.shape, out.shape, sb);
      for_each2(out.shape, sa, sb, [&](int64_t o, int64_t ia, int64_t ib) {
        q[o] = from_f32<T>(fn(to_f32(pa[ia]), to_f32(pb[ib])));
      });
    }
    return 0;
  });
}

// out[i] = fn(a[i], b[i], c[i]) for three same-shape tensors of one dtype.
template <class Fn>
inline void map3(const TensorImpl& a, const TensorImpl& b, const TensorImpl& c, TensorImpl& out,
                 Fn fn) {
  if (out.dt == DType::f64) {
    const double *pa = a.as<double>(), *pb = b.as<double>(), *pc = c.as<double>();
    double* q = out.as<double>();
    for (int64_t i = 0, n = out.numel; i < n; ++i)
      q[i] = fn(pa[i], pb[i], pc[i]);
    return;
  }
  if (out.dt == DType::f16) {
    const uint16_t* in[3] = {a.as<uint16_t>(), b.as<uint16_t>(), c.as<uint16_t>()};
    const bool sc[3] = {false, false, false};
    return blocked_f16<3>(in, sc, out.as<uint16_t>(), out.numel, fn);
  }
  dispatch(out.dt, [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.as<T>();
    const T* pb = b.as<T>();
    const T* pc = c.as<T>();
    T* q = out.as<T>();
    for (int64_t i = 0, n = out.numel; i < n; ++i)
      q[i] = from_f32<T>(fn(to_f32(pa[i]), to_f32(pb[i]), to_f32(pc[i])));
    return 0;
  });
}

// The value of a 1-element tensor as float32.
float to_f32_any(const TensorImpl& t);
// dst += src, same shape and dtype, one rounding per element. Either may be strided; where dst's
// strides repeat a position (an expanded view), every addition lands there in turn.
void add_into(TensorImpl& dst, const TensorImpl& src);
// Widen t into dst (t.numel floats) / round src into out's dtype.
void load_f32(const TensorImpl& t, float* dst);
void store_f32(const float* src, TensorImpl& out);
// Every element of t (any strides) set to v.
void fill_value(TensorImpl& t, float v);
// dst <- src converted to dst's dtype (same shape; either may be strided).
void convert_into(const TensorImpl& src, TensorImpl& dst);

// Sum of `x` (float32, float16 or float64, any strides) over the dims flagged in `reduce_mask`
// (bit d), in PyTorch's order (kernels/cascade_sum.h), into `out` laid out as the kept dims in
// order, of x's dtype; with `as_f32` a float16 x gives float32, the sum of x.to(float) (mean's).
void sum_dims(const TensorImpl& x, unsigned reduce_mask, void* out, bool as_f32 = false);

}  // namespace tg
