#include "kernels/kernels.h"

#include <algorithm>

#include "core/threads.h"
#include "kernels/cascade_sum.h"
#include "kernels/typed.h"
#include "kernels/vec.h"

namespace tg {

namespace {
thread_local std::vector<std::vector<float>*> tl_scratch_free;
struct ScratchOwner {  // frees the pool at thread exit
  std::vector<std::vector<float>*>* pool = &tl_scratch_free;
  ~ScratchOwner() {
    for (auto* v : *pool)
      delete v;
  }
};
thread_local ScratchOwner tl_scratch_owner;
}  // namespace

Scratch::Scratch(int64_t n) {
  (void)tl_scratch_owner;
  if (tl_scratch_free.empty()) {
    buf_ = new std::vector<float>();
  } else {
    buf_ = tl_scratch_free.back();
    tl_scratch_free.pop_back();
  }
  if (int64_t(buf_->size()) < n) buf_->resize(size_t(n));
}

Scratch::~Scratch() {
  tl_scratch_free.push_back(buf_);
}

void widen_block(const uint16_t* x, float* y, int64_t n) {
  vec::f16_to_f32(x, y, n);
}
void narrow_block(const float* x, uint16_t* y, int64_t n) {
  vec::f32_to_f16(x, y, n);
}

float to_f32_any(const TensorImpl& t) {
  return t.dt == DType::f32 ? t.as<float>()[0] : to_f32(t.as<half>()[0]);
}

void add_into(TensorImpl& dst, const TensorImpl& src) {
  if (!is_fast(dst.dt)) return typed_add_into(dst, src);
  if (!dst.is_contiguous() || !src.is_contiguous()) {  // a .grad set to a view by the user
    dispatch(dst.dt, [&](auto tag) {
      using T = decltype(tag);
      const T* p = src.as<T>();
      T* q = dst.as<T>();
      for_each2(dst.shape, src.strides.d, dst.strides.d, [&](int64_t, int64_t i, int64_t o) {
        q[o] = from_f32<T>(to_f32(q[o]) + to_f32(p[i]));
      });
      return 0;
    });
    return;
  }
  vec::binary(vec::Bin::add, dst.dt, dst.data(), 1, src.data(), 1, dst.data(), dst.numel);
}

void fill_value(TensorImpl& t, float v) {
  if (!is_fast(t.dt)) return typed_fill(t, Scalar::of(v));
  int64_t zero[kMaxDims] = {};
  dispatch(t.dt, [&](auto tag) {
    using T = decltype(tag);
    const T val = from_f32<T>(v);
    T* q = t.as<T>();
    if (t.is_contiguous()) {
      std::fill(q, q + t.numel, val);
    } else {
      for_each2(t.shape, t.strides.d, zero, [&](int64_t, int64_t o, int64_t) { q[o] = val; });
    }
    return 0;
  });
}

void load_f32(const TensorImpl& t, float* dst) {
  if (t.dt == DType::f32) {
    if (t.numel) std::memcpy(dst, t.data(), size_t(t.numel) * 4);
  } else {
    vec::f16_to_f32(t.as<uint16_t>(), dst, t.numel);
  }
}

void store_f32(const float* src, TensorImpl& out) {
  if (out.dt == DType::f32) {
    if (out.numel && src != out.data()) std::memcpy(out.data(), src, size_t(out.numel) * 4);
  } else {
    vec::f32_to_f16(src, out.as<uint16_t>(), out.numel);
  }
}

namespace {
template <class S, class D>
inline D convert_one(S v) {
  if constexpr (std::is_same<S, D>::value)
    return v;
  else
    return from_f32<D>(to_f32(v));
}

// A transposing copy (dst's last dim runs along src with a stride, another dim of src has stride
// 1) in 16 x 16 tiles, so that both sides are read and written a few cache lines at a time: in
// dst's order, every read of a large transpose lands on a new cache line (and page). Other
// tensors, and a src that shares dst's storage (where the order of the writes could matter),
// return false.
template <class S, class D>
bool tiled_convert(const TensorImpl& src, TensorImpl& dst) {
  const int nd = src.shape.n;
  if (nd < 2 || src.st == dst.st) return false;
  const int64_t* ss = src.strides.d;
  const int64_t* ds = dst.strides.d;
  const int a = nd - 1;
  int b = -1;
  for (int d = nd - 2; d >= 0 && b < 0; --d)
    if (ss[d] == 1 && src.shape.d[d] > 1) b = d;
  constexpr int64_t kT = 16;
  if (b < 0 || ss[a] == 1 || src.shape.d[a] < 8 || src.shape.d[b] < 8) return false;
  const int64_t NA = src.shape.d[a], NB = src.shape.d[b];
  Shape outer;  // the other dims, with their strides in src and dst
  int64_t os[kMaxDims], od[kMaxDims];
  for (int d = 0; d < nd; ++d)
    if (d != a && d != b) {
      os[outer.n] = ss[d];
      od[outer.n] = ds[d];
      outer.push(src.shape.d[d]);
    }
  const int64_t count = outer.numel(), rows = (NB + kT - 1) / kT;
  const S* p = src.as<S>();
  D* q = dst.as<D>();
  const int64_t sa = ss[a], da = ds[a], db = ds[b];
  parallel_for(count * rows, src.numel >= (int64_t(1) << 16) ? 1 : count * rows,
               [&](int64_t u0, int64_t u1) {
                 for (int64_t u = u0; u < u1; ++u) {
                   int64_t rest = u / rows, so = 0, dof = 0;
                   for (int d = outer.n - 1; d >= 0; --d) {
                     const int64_t i = rest % outer.d[d];
                     rest /= outer.d[d];
                     so += i * os[d];
                     dof += i * od[d];
                   }
                   const int64_t i0 = u % rows * kT, i1 = std::min(NB, i0 + kT);
                   for (int64_t j0 = 0; j0 < NA; j0 += kT) {
                     const int64_t j1 = std::min(NA, j0 + kT);
                     for (int64_t i = i0; i < i1; ++i)
                       for (int64_t j = j0; j < j1; ++j)
                         q[dof + i * db + j * da] = convert_one<S, D>(p[so + i + j * sa]);
                   }
                 }
               });
  return true;
}

// dst <- src element by element through both tensors' strides (same shape).
template <class S, class D>
void strided_convert(const TensorImpl& src, TensorImpl& dst) {
  if (tiled_convert<S, D>(src, dst)) return;
  const S* p = src.as<S>();
  D* q = dst.as<D>();
  for_each2(src.shape, src.strides.d, dst.strides.d,
            [&](int64_t, int64_t i, int64_t o) { q[o] = convert_one<S, D>(p[i]); });
}
}  // namespace

void convert_into(const TensorImpl& src, TensorImpl& dst) {
  if (!is_fast(src.dt) || !is_fast(dst.dt)) return typed_convert(src, dst);
  if (!src.is_contiguous() || !dst.is_contiguous()) {
    dispatch(src.dt, [&](auto s) {
      return dispatch(dst.dt, [&](auto d) {
        strided_convert<decltype(s), decltype(d)>(src, dst);
        return 0;
      });
    });
    return;
  }
  if (src.dt == dst.dt) {
    if (src.numel) std::memcpy(dst.data(), src.data(), size_t(src.numel) * itemsize(src.dt));
  } else if (dst.dt == DType::f32) {
    vec::f16_to_f32(src.as<uint16_t>(), dst.as<float>(), src.numel);
  } else {
    vec::f32_to_f16(src.as<float>(), dst.as<uint16_t>(), src.numel);
  }
}

void sum_dims(const TensorImpl& x, unsigned mask, void* out, bool as_f32) {
  using csum::Kind;
  const Kind k = x.dt == DType::f64   ? Kind::f64
                 : x.dt == DType::f32 ? Kind::f32
                 : as_f32             ? Kind::f16f32
                                      : Kind::f16;
  csum::sum(k, x.data(), x.shape, x.strides.d, mask, out);
}

}  // namespace tg
