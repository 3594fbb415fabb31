#include "ops/typed.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "autograd/capture.h"
#include "core/cpu.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "kernels/pmath_f64.h"
#include "kernels/typed.h"

namespace tg {

namespace {
template <class T>
bool compare(Compare k, T x, T y) {
  switch (k) {
    case Compare::eq:
      return x == y;
    case Compare::ne:
      return x != y;
    case Compare::lt:
      return x < y;
    case Compare::le:
      return x <= y;
    case Compare::gt:
      return x > y;
    case Compare::ge:
      return x >= y;
    case Compare::land:
      return x != T(0) && y != T(0);
    case Compare::lor:
      return x != T(0) || y != T(0);
    case Compare::lxor:
      return (x != T(0)) != (y != T(0));
  }
  return false;
}

// Integer power by squaring; a negative exponent gives 0 unless the base is 1 or -1.
template <class T>
T ipow(T base, T e) {
  if (e < 0) {
    if (base == 1) return 1;
    if constexpr (std::is_signed<T>::value)
      if (base == -1) return (e & 1) ? T(-1) : T(1);
    return 0;
  }
  T r = 1;
  while (e) {
    if (e & 1) r = wrap_mul(r, base);
    e = T(e >> 1);
    if (e) base = wrap_mul(base, base);
  }
  return r;
}

bool is_special_exponent(double e) {
  return e == 2.0 || e == 1.0 || e == 0.0 || e == 0.5 || e == -1.0 || e == 3.0 || e == -0.5 ||
         e == -2.0;
}

// The elements of n that PyTorch's AVX2 loop gives its vector code (float64 only, when `used`),
// and what that code computes there.
template <class T>
int64_t sleef_end(bool used, int64_t n) {
#if TG_HAVE_AVX2
  if (std::is_same<T, double>::value && used && cpu::simd())
    return n / pmath::kPairF64 * pmath::kPairF64;
#endif
  (void)used;
  (void)n;
  return 0;
}
// In place over y[0, n), n from sleef_end.
void sleef_sigmoid(double* y, int64_t n) {
#if TG_HAVE_AVX2
  if (n > 0) pmath::sigmoid_f64(y, n);
#else
  (void)y;
  (void)n;
#endif
}
void sleef_pow(double* y, double s, bool reversed, int64_t n) {
#if TG_HAVE_AVX2
  if (n > 0) pmath::pow_f64(y, s, reversed, n);
#else
  (void)y;
  (void)s;
  (void)reversed;
  (void)n;
#endif
}

// float64's x ** e, with the special exponents PyTorch's kernel takes apart.
double dpow(double x, double e) {
  if (e == 2.0) return x * x;
  if (e == 1.0) return x;
  if (e == 0.0) return 1.0;
  if (e == 0.5) return std::sqrt(x);
  if (e == -1.0) return 1.0 / x;
  if (e == 3.0) return x * x * x;
  if (e == -0.5) return 1.0 / std::sqrt(x);
  if (e == -2.0) return 1.0 / (x * x);
  return std::pow(x, e);
}
}  // namespace

TensorPtr scalar_tensor(const Scalar& s, DType dt) {
  auto t = empty(Shape{}, dt);
  typed_fill(*t, s);
  return t;
}

TensorPtr typed_binary(Binary k, const TensorPtr& a, const TensorPtr& b) {
  auto out = empty(broadcast_shapes(a->shape, b->shape), a->dt);
  launch({a.get(), b.get(), out.get()}, [k, a = a.get(), b = b.get(), out = out.get()] {
    visit(out->dt, [&](auto tag) {
      using T = decltype(tag);
      int64_t st[2][kMaxDims];
      strides_over(*a, out->shape, st[0]);
      strides_over(*b, out->shape, st[1]);
      const T *pa = a->as<T>(), *pb = b->as<T>();
      T* q = out->as<T>();
      each<2>(out->shape, st, [&](int64_t o, const int64_t* off) {
        if constexpr (std::is_same<T, half>::value)
          q[o] = cvt<half>(apply(k, load(pa[off[0]]), load(pb[off[1]])));
        else
          q[o] = apply(k, pa[off[0]], pb[off[1]]);
      });
      return 0;
    });
  });
  return out;
}

TensorPtr typed_compare(Compare k, const TensorPtr& a, const TensorPtr& b) {
  auto out = empty(broadcast_shapes(a->shape, b->shape), DType::b8);
  launch({a.get(), b.get(), out.get()}, [k, a = a.get(), b = b.get(), out = out.get()] {
    visit(a->dt, [&](auto tag) {
      using T = decltype(tag);
      int64_t st[2][kMaxDims];
      strides_over(*a, out->shape, st[0]);
      strides_over(*b, out->shape, st[1]);
      const T *pa = a->as<T>(), *pb = b->as<T>();
      bool* q = out->as<bool>();
      each<2>(out->shape, st, [&](int64_t o, const int64_t* off) {
        q[o] = compare(k, load(pa[off[0]]), load(pb[off[1]]));
      });
      return 0;
    });
  });
  return out;
}

TensorPtr typed_unary(OpCode op, const TensorPtr& a) {
  auto out = empty(a->shape, a->dt);
  launch({a.get(), out.get()}, [op, a = a.get(), out = out.get()] {
    visit(a->dt, [&](auto tag) {
      using T = decltype(tag);
      int64_t st[1][kMaxDims];
      strides_over(*a, out->shape, st[0]);
      const T* p = a->as<T>();
      T* q = out->as<T>();
      auto f = [op](T x) -> T {
        if constexpr (std::is_same<T, double>::value) {
          switch (op) {
            case OpCode::neg:
              return -x;
            case OpCode::abs:
              return std::abs(x);
            case OpCode::exp:
              return std::exp(x);
            case OpCode::log:
              return std::log(x);
            case OpCode::tanh:
              return std::tanh(x);
            case OpCode::relu:
              return x < 0 ? 0.0 : x;  // -0 and NaN stay, as PyTorch's
            case OpCode::sigmoid:      // the tail of PyTorch's loop (typed_unary below)
              return 1.0 / (1.0 + std::exp(-x));
            case OpCode::sin:
              return std::sin(x);
            case OpCode::cos:
              return std::cos(x);
            case OpCode::sqrt:
              return std::sqrt(x);
            case OpCode::rsqrt:
              return 1.0 / std::sqrt(x);
            case OpCode::tan:
              return std::tan(x);
            case OpCode::expm1:
              return std::expm1(x);
            case OpCode::log2:
              return std::log2(x);
            case OpCode::log10:
              return std::log10(x);
            case OpCode::log1p:
              return std::log1p(x);
            case OpCode::reciprocal:
              return 1.0 / x;
            case OpCode::floor:
              return std::floor(x);
            case OpCode::ceil:
              return std::ceil(x);
            case OpCode::round:
              return std::nearbyint(x);
            case OpCode::trunc:
              return std::trunc(x);
            case OpCode::sign:
              return double(int(0.0 < x) - int(x < 0.0));
            default:
              break;
          }
        } else if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
          switch (op) {
            case OpCode::neg:
              return wrap_sub(T(0), x);
            case OpCode::abs:
              return x < 0 ? wrap_sub(T(0), x) : x;
            case OpCode::relu:
              return x > 0 ? x : T(0);
            case OpCode::sign:
              return T(int(T(0) < x) - int(x < T(0)));
            default:
              break;
          }
        }
        throw std::logic_error(std::string("typed_unary: ") + op_name(op) + " on this dtype");
      };
      if constexpr (std::is_same<T, double>::value) {
        // PyTorch's AVX2 sigmoid: SLEEF's exp over whole pairs of vectors, 1 / (exp(0 - x) + 1).
        const int64_t vec_end = sleef_end<T>(op == OpCode::sigmoid, out->numel);
        each<1>(out->shape, st, [&](int64_t o, const int64_t* off) {
          q[o] = o < vec_end ? p[off[0]] : f(p[off[0]]);
        });
        sleef_sigmoid(q, vec_end);
      } else {
        each<1>(out->shape, st, [&](int64_t o, const int64_t* off) { q[o] = f(p[off[0]]); });
      }
      return 0;
    });
  });
  return out;
}

TensorPtr typed_pow(const TensorPtr& x, const Scalar& e, bool reversed, bool vector_loop) {
  auto out = empty(x->shape, x->dt);
  launch({x.get(), out.get()}, [e, reversed, vector_loop, x = x.get(), out = out.get()] {
    visit(x->dt, [&](auto tag) {
      using T = decltype(tag);
      int64_t st[1][kMaxDims];
      strides_over(*x, out->shape, st[0]);
      const T* p = x->as<T>();
      T* q = out->as<T>();
      if constexpr (std::is_same<T, double>::value) {
        const double c = e.as_double();
        // PyTorch's AVX2 pow (no special exponent): SLEEF's over whole pairs of vectors.
        const int64_t vec_end =
            sleef_end<T>(vector_loop && (reversed || !is_special_exponent(c)), out->numel);
        each<1>(out->shape, st, [&](int64_t o, const int64_t* off) {
          const double v = p[off[0]];
          q[o] = o < vec_end ? v : reversed ? std::pow(c, v) : dpow(v, c);
        });
        sleef_pow(q, c, reversed, vec_end);
      } else if constexpr (std::is_integral<T>::value && !std::is_same<T, bool>::value) {
        const T c = cvt<T>(e.i);
        each<1>(out->shape, st, [&](int64_t o, const int64_t* off) {
          q[o] = reversed ? ipow(c, p[off[0]]) : ipow(p[off[0]], c);
        });
      } else {
        throw std::logic_error("typed_pow: unsupported dtype");
      }
      return 0;
    });
  });
  return out;
}

TensorPtr typed_sum(const TensorPtr& a, unsigned mask, bool keepdim, DType out_dt) {
  Shape os, full;  // full: a's shape with the reduced dims as 1
  for (int d = 0; d < a->shape.n; ++d) {
    const bool r = mask & (1u << d);
    full.push(r ? 1 : a->shape.d[d]);
    if (!r || keepdim) os.push(r ? 1 : a->shape.d[d]);
  }
  auto out = empty(os, out_dt);
  if (a->dt == DType::f64 && out_dt == DType::f64) {  // PyTorch's cascade order
    launch({a.get(), out.get()},
           [a = a.get(), out = out.get(), mask] { sum_dims(*a, mask, out->data()); });
    return out;
  }
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), full] {
    visit(out->dt, [&](auto otag) {
      using O = decltype(otag);
      using A = std::conditional_t<std::is_same<O, half>::value, float,
                                   std::conditional_t<std::is_same<O, bool>::value, int64_t, O>>;
      std::vector<A> acc(size_t(out->numel), A(0));
      visit(a->dt, [&](auto itag) {
        using I = decltype(itag);
        int64_t st[2][kMaxDims];
        std::memcpy(st[0], a->strides.d, sizeof(st[0]));
        const Shape cs = contiguous_strides(full);
        for (int d = 0; d < a->shape.n; ++d)
          st[1][d] = full.d[d] == 1 ? 0 : cs.d[d];
        const I* p = a->as<I>();
        each<2>(a->shape, st, [&](int64_t, const int64_t* off) {
          if constexpr (std::is_integral<A>::value)
            acc[size_t(off[1])] = wrap_add(acc[size_t(off[1])], cvt<A>(p[off[0]]));
          else
            acc[size_t(off[1])] += cvt<A>(p[off[0]]);
        });
        return 0;
      });
      O* q = out->as<O>();
      for (int64_t i = 0; i < out->numel; ++i)
        q[i] = cvt<O>(acc[size_t(i)]);
      return 0;
    });
  });
  return out;
}

TensorPtr typed_where(const TensorPtr& c, const TensorPtr& a, const TensorPtr& b) {
  auto out = empty(broadcast_shapes(c->shape, broadcast_shapes(a->shape, b->shape)), a->dt);
  launch({c.get(), a.get(), b.get(), out.get()},
         [c = c.get(), a = a.get(), b = b.get(), out = out.get()] {
           visit(a->dt, [&](auto tag) {
             using T = decltype(tag);
             int64_t st[3][kMaxDims];
             strides_over(*c, out->shape, st[0]);
             strides_over(*a, out->shape, st[1]);
             strides_over(*b, out->shape, st[2]);
             const bool* pc = c->as<bool>();
             const T *pa = a->as<T>(), *pb = b->as<T>();
             T* q = out->as<T>();
             each<3>(out->shape, st, [&](int64_t o, const int64_t* off) {
               q[o] = pc[off[0]] ? pa[off[1]] : pb[off[2]];
             });
             return 0;
           });
         });
  return out;
}

namespace {
// The element offset in `a` (by its strides) of index row r of idx (contiguous, B x k).
int64_t row_offset(const TensorImpl& a, const int64_t* idx, int64_t r, int k) {
  int64_t off = 0;
  for (int j = 0; j < k; ++j)
    off += idx[r * k + j] * a.strides.d[j];
  return off;
}
}  // namespace

void check_index(const TensorImpl& a, const TensorImpl& idx) {
  if (idx.dt != DType::i64 || idx.shape.n == 0 || idx.shape.d[idx.shape.n - 1] < 1 ||
      idx.shape.d[idx.shape.n - 1] > a.shape.n)
    throw std::logic_error("index: idx must be int64 of shape B + (k,), 1 <= k <= a.dim()");
  const int64_t k = idx.shape.d[idx.shape.n - 1];
  if (idx.shape.n - 1 + a.shape.n - k > kMaxDims)
    throw ValueError("tapegrad supports tensors of at most " + std::to_string(kMaxDims) +
                     " dimensions");
}

TensorPtr typed_index(const TensorPtr& a, const TensorPtr& idx) {
  // The front ends hand over checked, non-negative rows; a backend call that skips them must
  // still stay inside `a`.
  check_index(*a, *idx);
  const int k = int(idx->shape.d[idx->shape.n - 1]);
  const int64_t* iv = idx->as<int64_t>();
  for (int64_t i = 0; i < idx->numel; ++i) {
    const int64_t v = iv[i], size = a->shape.d[i % k];
    if (v < 0 || v >= size)
      throw IndexError("index " + std::to_string(v) + " is out of bounds for dimension " +
                       std::to_string(i % k) + " with size " + std::to_string(size));
  }
  Shape os, rest;
  for (int d = 0; d + 1 < idx->shape.n; ++d)
    os.push(idx->shape.d[d]);
  for (int d = k; d < a->shape.n; ++d) {
    os.push(a->shape.d[d]);
    rest.push(a->shape.d[d]);
  }
  auto out = empty(os, a->dt);
  launch({a.get(), idx.get(), out.get()}, [a = a.get(), idx = idx.get(), out = out.get(), k, rest] {
    const int64_t rows = idx->numel / k, inner = rest.numel();
    int64_t st[1][kMaxDims];
    for (int d = 0; d < rest.n; ++d)
      st[0][d] = a->strides.d[k + d];
    visit(a->dt, [&](auto tag) {
      using T = decltype(tag);
      const T* p = a->as<T>();
      T* q = out->as<T>();
      const int64_t* pi = idx->as<int64_t>();
      for (int64_t r = 0; r < rows; ++r) {
        const T* src = p + row_offset(*a, pi, r, k);
        T* dst = q + r * inner;
        each<1>(rest, st, [&](int64_t o, const int64_t* off) { dst[o] = src[off[0]]; });
      }
      return 0;
    });
  });
  return out;
}

void typed_index_put(TensorImpl& out, const TensorImpl& idx, const TensorImpl& v, bool accumulate) {
  const int k = int(idx.shape.d[idx.shape.n - 1]);
  Shape batch;  // B: idx's shape without its last dim
  for (int d = 0; d + 1 < idx.shape.n; ++d)
    batch.push(idx.shape.d[d]);
  Shape target = batch;  // B + out.shape[k:]
  Shape rest;
  for (int d = k; d < out.shape.n; ++d) {
    target.push(out.shape.d[d]);
    rest.push(out.shape.d[d]);
  }
  if (broadcast_shapes(v.shape, target) != target)
    throw std::runtime_error("shape mismatch: value tensor of shape " + v.shape.str() +
                             " cannot be broadcast to indexing result of shape " + target.str());
  const int64_t rows = idx.numel / k;
  int64_t vst[kMaxDims];
  strides_over(v, target, vst);
  int64_t st[2][kMaxDims];
  for (int d = 0; d < rest.n; ++d) {
    st[0][d] = out.strides.d[k + d];
    st[1][d] = vst[target.n - rest.n + d];
  }
  visit(out.dt, [&](auto tag) {
    using T = decltype(tag);
    T* q = out.as<T>();
    const T* pv = v.as<T>();
    const int64_t* pi = idx.as<int64_t>();
    int64_t bst[1][kMaxDims];
    for (int d = 0; d < batch.n; ++d)
      bst[0][d] = vst[d];
    std::vector<int64_t> voff(static_cast<size_t>(rows));
    each<1>(batch, bst, [&](int64_t r, const int64_t* off) { voff[size_t(r)] = off[0]; });
    for (int64_t r = 0; r < rows; ++r) {
      T* dst = q + row_offset(out, pi, r, k);
      const T* src = pv + voff[size_t(r)];
      each<2>(rest, st, [&](int64_t, const int64_t* off) {
        if (!accumulate)
          dst[off[0]] = src[off[1]];
        else
          dst[off[0]] = add_values(dst[off[0]], src[off[1]]);
      });
    }
    return 0;
  });
}

void typed_gemm(int64_t M, int64_t N, int64_t K, const MatRef& A, const MatRef& B, void* C,
                DType dt, int64_t ldc, bool accumulate) {
  visit(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same<T, bool>::value || std::is_same<T, half>::value ||
                  std::is_same<T, float>::value) {
      throw std::logic_error("typed_gemm: a dtype with its own GEMM (or none)");
    } else {
      const T* a = static_cast<const T*>(A.p);
      const T* b = static_cast<const T*>(B.p);
      T* c = static_cast<T*>(C);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          T s = accumulate ? c[i * ldc + j] : T(0);
          for (int64_t p = 0; p < K; ++p) {
            const T x = a[i * A.rs + p * A.cs], y = b[p * B.rs + j * B.cs];
            if constexpr (std::is_integral<T>::value)
              s = wrap_add(s, wrap_mul(x, y));
            else
              s += x * y;
          }
          c[i * ldc + j] = s;
        }
    }
    return 0;
  });
}

}  // namespace tg
