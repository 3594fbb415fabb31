// floor_divide and remainder (`//` and `%`): Python's rounding toward minus infinity, the
// remainder taking the divisor's sign, computed as PyTorch's CPU kernels compute them. Both
// operands arrive in the result dtype (the Python front end promotes them).
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/capture.h"
#include "core/cpu.h"
#include "core/half.h"
#include "ops/elementwise.h"
#include "ops/oplist.h"
#include "ops/typed.h"

namespace tg {
namespace {

// PyTorch's floating floor division: (a - fmod(a, b)) / b, stepped down where the remainder's
// sign is not b's, then floored with a correction for the division's rounding. Computed in C
// (float for float16 and float32), as its vector kernel does.
template <class C>
C floor_div_float(C a, C b) {
  if (b == 0) return a / b;
  const C mod = std::fmod(a, b);
  const C basic = a / b;
  // Where a / b overflows but a is finite, fmod loses a: PyTorch's kernel divides a itself.
  C div = ((std::isinf(basic) && !std::isinf(a)) ? a : a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= C(1);
  if (div == 0) return std::copysign(C(0), basic);
  C fl = std::floor(div);
  if (div - fl > C(0.5)) fl += C(1);
  return fl;
}

template <class C>
C rem_float(C a, C b) {
  C mod = std::fmod(a, b);
  if (mod != 0 && ((b < 0) != (mod < 0))) mod += b;
  return mod;
}

template <class I>
I floor_div_int(I a, I b) {
  if constexpr (std::is_signed<I>::value) {
    if (b == -1) return I(0) - a;  // the lowest value wraps (C++'s division would trap)
    if ((a < 0) != (b < 0)) {
      const I q = I(a / b), r = I(a % b);
      return r ? I(q - 1) : q;
    }
  }
  return I(a / b);
}

template <class I>
I rem_int(I a, I b) {
  if constexpr (std::is_signed<I>::value) {
    if (b == -1) return 0;
    I mod = I(a % b);
    if (mod != 0 && ((b < 0) != (mod < 0))) mod = I(mod + b);
    return mod;
  } else {
    return I(a % b);
  }
}

bool has_zero(const TensorImpl& b) {
  return visit(b.dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral<T>::value) {
      int64_t st[1][kMaxDims];
      strides_over(b, b.shape, st[0]);
      const T* p = b.as<T>();
      bool zero = false;
      each<1>(b.shape, st, [&](int64_t, const int64_t* off) { zero = zero || p[off[0]] == 0; });
      return zero;
    }
    return false;
  });
}

float r16(float v) {
  return half_to_float(float_to_half(v));
}

// float16 floor division by a tensor, as PyTorch's vector loop runs it: in Half arithmetic, every
// step rounded to float16.
float floor_div_half_vector(float a, float b) {
  if (b == 0) return r16(a / b);
  const float mod = std::fmod(a, b);  // exact: a float16 value
  const float basic = r16(a / b);
  float div = r16(((std::isinf(basic) && !std::isinf(a)) ? a : r16(a - mod)) / b);
  if (mod != 0 && ((b < 0) != (mod < 0))) div = r16(div - 1.0f);
  if (div == 0) return std::copysign(0.0f, basic);
  float fl = std::floor(div);
  if (div - fl > 0.5f) fl = r16(fl + 1.0f);
  return fl;
}

// ... and as its scalar code (the rest of each row) runs it: float intermediates (fmod of two
// Halves is float), rounded where a Half is assigned.
float floor_div_half_scalar(float a, float b) {
  if (b == 0) return r16(a / b);
  const float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0f;
  if (div == 0) return std::copysign(0.0f, a / b);
  float fl = r16(std::floor(div));
  if (div - fl > 0.5f) fl = r16(fl + 1.0f);
  return fl;
}

// PyTorch's loop runs whole pairs of vectors (32 float16, 16 float32 or 8 float64 elements, on
// its AVX2 and default kernels alike) and the rest of each row in scalar code. A row is the
// whole tensor when both operands have the output's shape, else the last dim.
int64_t row_extent(const TensorImpl& a, const TensorImpl& b, const Shape& out) {
  if (a.shape == out && b.shape == out) return out.numel();
  return out.n ? out.d[out.n - 1] : 1;
}

// out = a (op) b broadcast, one dtype; `whole`: b's value as a float (float16 floor division by
// a scalar reads it unrounded, and computes in float, as PyTorch's kernel does).
TensorPtr divmod_new(bool floor, const TensorPtr& a, const TensorPtr& b,
                     std::optional<double> whole) {
  if (a->dt == DType::b8)
    throw std::runtime_error(std::string("\"") + (floor ? "div_floor_cpu" : "remainder_cpu") +
                             "\" not implemented for 'Bool'");
  if (!is_floating(a->dt) && has_zero(*b)) throw std::runtime_error("ZeroDivisionError");
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  const int64_t row = std::max<int64_t>(row_extent(*a, *b, out->shape), 1);
  // PyTorch's AVX2 fmod (SLEEF's) gives NaN where |a / b| overflows; its scalar fmod is exact.
  const bool sleef_fmod = cpu::simd();
  launch({a.get(), b.get(), out.get()}, [=, a = a.get(), b = b.get(), out = out.get()] {
    visit(out->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same<T, bool>::value) {
        int64_t st[2][kMaxDims];
        strides_over(*a, out->shape, st[0]);
        strides_over(*b, out->shape, st[1]);
        const T *pa = a->as<T>(), *pb = b->as<T>();
        T* q = out->as<T>();
        constexpr int64_t width = std::is_same<T, double>::value  ? 8
                                  : std::is_same<T, float>::value ? 16
                                                                  : 32;
        const int64_t body = row - row % width;
        each<2>(out->shape, st, [&](int64_t o, const int64_t* off) {
          if constexpr (std::is_integral<T>::value) {
            q[o] = floor ? floor_div_int(pa[off[0]], pb[off[1]]) : rem_int(pa[off[0]], pb[off[1]]);
          } else {
            using C = calc_t<T>;
            const C x = load(pa[off[0]]);
            const C y = whole ? C(*whole) : load(pb[off[1]]);
            const bool vector = o % row < body;
            C r;
            if (std::is_same<T, half>::value && floor && !whole)
              r = vector ? C(floor_div_half_vector(float(x), float(y)))
                         : C(floor_div_half_scalar(float(x), float(y)));
            else if (floor)
              r = floor_div_float(x, y);
            else if (!std::is_same<T, half>::value && sleef_fmod && vector && y != 0 &&
                     std::isfinite(x) && std::isinf(x / y))
              r = std::numeric_limits<C>::quiet_NaN();
            else
              r = rem_float(x, y);
            q[o] = cvt<T>(r);
          }
        });
      }
      return 0;
    });
  });
  return out;
}

}  // namespace

namespace op {
TensorPtr floor_divide(const TensorPtr& a, const TensorPtr& b, std::optional<double> whole) {
  if (a->dt != b->dt) throw std::invalid_argument("floor_divide: operands of one dtype expected");
  TensorPtr out = divmod_new(true, a, b, whole);
  record(OpCode::floor_divide, out, {a.get(), b.get()});
  return out;
}

TensorPtr remainder(const TensorPtr& a, const TensorPtr& b) {
  if (a->dt != b->dt) throw std::invalid_argument("remainder: operands of one dtype expected");
  TensorPtr out = divmod_new(false, a, b, std::nullopt);
  record(OpCode::remainder, out, {a.get(), b.get()});
  return out;
}

TensorPtr remainder_scalar(const TensorPtr& a, const TensorPtr& b) {
  if (a->dt != b->dt || b->shape.n != 0)
    throw std::invalid_argument("remainder_scalar: a 0-dim divisor of a's dtype expected");
  TensorPtr out = divmod_new(false, a, b, std::nullopt);
  record(OpCode::remainder_scalar, out, {a.get()});
  return out;
}
}  // namespace op

void Op_floor_divide::backward(Node&, const TensorPtr&, TensorPtr*) {
  throw std::runtime_error("derivative for aten::floor_divide is not implemented");
}

// PyTorch's formula: a gets the gradient; b gets -grad * floor_divide(a, b), the quotient
// rounded to the dtype first.
void Op_remainder::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  if (n.in_requires[0]) gin[0] = sum_to(g, n.in_shape[0]);
  if (n.in_requires[1]) {
    auto q = divmod_new(true, n.unpack(0), n.unpack(1), std::nullopt);
    gin[1] = sum_to(map2_new(g, q, [](auto gv, auto qv) { return -gv * qv; }), n.in_shape[1]);
  }
}

void Op_remainder_scalar::backward(Node&, const TensorPtr& g, TensorPtr* gin) {
  gin[0] = g;
}

}  // namespace tg
