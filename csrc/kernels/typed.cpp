#include "kernels/typed.h"

namespace tg {

void typed_fill(TensorImpl& t, const Scalar& s) {
  visit(t.dt, [&](auto tag) {
    using T = decltype(tag);
    T v;
    if (s.dt == DType::f64 || (kFloating<T> && s.dt == DType::i64))
      v = cvt<T>(s.f);  // a float, or an int into a float tensor: its value
    else if (s.dt == DType::b8)
      v = cvt<T>(s.i != 0);
    else
      v = cvt<T>(s.i);  // an int into an integer tensor: its low bits
    int64_t st[1][kMaxDims];
    std::memcpy(st[0], t.strides.d, sizeof(st[0]));
    T* q = t.as<T>();
    each<1>(t.shape, st, [&](int64_t, const int64_t* off) { q[off[0]] = v; });
    return 0;
  });
}

void typed_convert(const TensorImpl& src, TensorImpl& dst) {
  visit(src.dt, [&](auto stag) {
    using S = decltype(stag);
    return visit(dst.dt, [&](auto dtag) {
      using D = decltype(dtag);
      int64_t st[2][kMaxDims];
      std::memcpy(st[0], src.strides.d, sizeof(st[0]));
      std::memcpy(st[1], dst.strides.d, sizeof(st[1]));
      const S* p = src.as<S>();
      D* q = dst.as<D>();
      each<2>(src.shape, st, [&](int64_t, const int64_t* off) { q[off[1]] = cvt<D>(p[off[0]]); });
      return 0;
    });
  });
}

void typed_add_into(TensorImpl& dst, const TensorImpl& src) {
  visit(dst.dt, [&](auto tag) {
    using T = decltype(tag);
    int64_t st[2][kMaxDims];
    std::memcpy(st[0], dst.strides.d, sizeof(st[0]));
    std::memcpy(st[1], src.strides.d, sizeof(st[1]));
    T* q = dst.as<T>();
    const T* p = src.as<T>();
    each<2>(dst.shape, st,
            [&](int64_t, const int64_t* off) { q[off[0]] = add_values(q[off[0]], p[off[1]]); });
    return 0;
  });
}

}  // namespace tg
