// prod, as PyTorch's CPU reduction (binary_kernel_reduce_vec with a vectorized multiply). Where
// the innermost reduced dims lie contiguously, each such row is folded as its 4-vector loop
// does: 4 * V accumulators (V lanes of 32 bytes) over whole blocks, the four vectors multiplied
// pairwise, the lanes of the one left in order, then the tail one by one; every other lane is a
// plain running product in memory order. float16 rounds every product to float16, as
// Vectorized<Half> and c10::Half do; integers wrap in int64.
// The backward is PyTorch's prod_backward: grad * (result / input) without zeros; with zeros,
// grad * (exclusive cumprod from the front * exclusive cumprod from the back) along the reduced
// dim (all elements: the flattened input), or zeros when the whole-tensor reduction meets more
// than one zero outside a differentiable backward.
#include <algorithm>
#include <vector>

#include "autograd/capture.h"
#include "kernels/typed.h"
#include "ops/ops.h"
#include "ops/reduce_util.h"

namespace tg {

namespace {

// The lanes of t in the order the reduction visits them (reduced dims by decreasing stride).
std::vector<int64_t> iter_lanes(const TensorImpl& t, unsigned mask, int64_t* inner) {
  Shape s, st;
  for (int d = 0; d < t.shape.n; ++d) {
    if (!(mask & (1u << d))) {
      s.push(t.shape.d[d]);
      st.push(t.strides.d[d]);
    }
  }
  const int kept = s.n;
  const std::vector<int> red = reduced_by_stride(t, mask);
  for (int d : red) {
    s.push(t.shape.d[d]);
    st.push(t.strides.d[d]);
  }
  const unsigned m = ((1u << red.size()) - 1) << kept;
  return lane_offsets(s, st, m, inner);
}

// How many of a lane's elements in a row lie one after another in memory (the innermost
// reduced dims that coalesce); below 2, the lane is a plain running product.
int64_t contiguous_run(const TensorImpl& t, unsigned mask) {
  const std::vector<int> red = reduced_by_stride(t, mask);
  int64_t run = 1, expect = 1;
  for (auto it = red.rbegin(); it != red.rend(); ++it) {
    const int64_t n = t.shape.d[*it];
    if (n == 1) continue;
    if (t.strides.d[*it] != expect) break;
    run *= n;
    expect *= n;
  }
  return run;
}

template <class T>
calc_t<T> mulr(calc_t<T> a, calc_t<T> b) {
  if constexpr (std::is_same<T, half>::value)
    return load(cvt<half>(a * b));
  else
    return a * b;
}

// acc times the product of p[0..n), in PyTorch's vectorized order.
template <class T>
calc_t<T> fold_row(const T* p, int64_t n, calc_t<T> acc) {
  using C = calc_t<T>;
  constexpr int64_t V = 32 / int64_t(sizeof(T)), W = 4 * V;
  const int64_t count = n / W;
  if (count > 0) {
    C a[W];
    for (int64_t j = 0; j < W; ++j)
      a[j] = load(p[j]);
    for (int64_t i = 1; i < count; ++i)
      for (int64_t j = 0; j < W; ++j)
        a[j] = mulr<T>(a[j], load(p[i * W + j]));
    C s = C(1);
    for (int64_t l = 0; l < V; ++l) {
      const C b = mulr<T>(mulr<T>(a[l], a[V + l]), mulr<T>(a[2 * V + l], a[3 * V + l]));
      s = l ? mulr<T>(s, b) : b;
    }
    acc = mulr<T>(acc, s);
  }
  for (int64_t i = count * W; i < n; ++i)
    acc = mulr<T>(acc, load(p[i]));
  return acc;
}

TensorPtr prod_forward(const TensorPtr& a, unsigned mask, bool keepdim) {
  auto out = empty(kept_shape(a->shape, mask, keepdim), a->dt);
  launch({a.get(), out.get()}, [a = a.get(), out = out.get(), mask] {
    // The common calls (everything, or the trailing dims of a contiguous tensor) need no
    // table of offsets: lane r is the row at r * inner.
    const int lead = a->shape.n - __builtin_popcount(mask);
    const bool rows = a->is_contiguous() && mask == ((1u << a->shape.n) - 1) - ((1u << lead) - 1);
    int64_t inner = 1;
    for (int d = lead; d < a->shape.n; ++d)
      inner *= a->shape.d[d];
    const std::vector<int64_t> off = rows ? std::vector<int64_t>{} : iter_lanes(*a, mask, &inner);
    const int64_t run = rows ? inner : contiguous_run(*a, mask);
    visit(a->dt, [&](auto tag) {
      using T = decltype(tag);
      const T* x = a->as<T>();
      T* q = out->as<T>();
      for (int64_t r = 0; r < out->numel; ++r) {
        const int64_t* lane = rows ? nullptr : off.data() + r * inner;
        if constexpr (kFloating<T>) {
          calc_t<T> acc = calc_t<T>(1);
          if (rows) {
            acc = fold_row(x + r * inner, inner, acc);
          } else if (run > 1) {
            for (int64_t k = 0; k < inner; k += run)
              acc = fold_row(x + lane[k], run, acc);
          } else {
            for (int64_t k = 0; k < inner; ++k)
              acc = mulr<T>(acc, load(x[lane[k]]));
          }
          q[r] = cvt<T>(acc);
        } else if constexpr (std::is_same<T, int64_t>::value) {
          uint64_t acc = 1;
          for (int64_t k = 0; k < inner; ++k)
            acc *= uint64_t(x[rows ? r * inner + k : lane[k]]);
          q[r] = int64_t(acc);
        }
      }
      return 0;
    });
  });
  return out;
}

TensorPtr as_int64(const TensorPtr& a) {
  return is_floating(a->dt) || a->dt == DType::i64 ? a : convert(*a, DType::i64);
}

int64_t count_zeros(const TensorPtr& x) {
  int64_t zeros = 0;
  launch({x.get()}, [x = x.get(), &zeros] {
    int64_t inner = 1;
    const std::vector<int64_t> off =
        lane_offsets(x->shape, x->strides, (1u << x->shape.n) - 1, &inner);
    visit(x->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kFloating<T>) {
        const T* p = x->as<T>();
        for (int64_t o : off)
          zeros += load(p[o]) == 0;
      }
      return 0;
    });
  });
  return zeros;
}

template <class T>
struct CumAcc {  // PyTorch's CPU cumprod accumulates in acc_type
  using type = double;
};
template <>
struct CumAcc<half> {
  using type = float;
};

// grad * (the product of the other elements of each lane along dim), by PyTorch's exclusive
// cumulative products from both ends.
TensorPtr safe_zeros_backward(const TensorPtr& g, const TensorPtr& x, int64_t dim) {
  auto w = empty(x->shape, x->dt);
  launch({x.get(), w.get()}, [x = x.get(), w = w.get(), dim] {
    const unsigned mask = 1u << dim;
    int64_t inner = 1;
    const std::vector<int64_t> src = lane_offsets(x->shape, x->strides, mask, &inner);
    int64_t in2 = 1;
    const std::vector<int64_t> dst = lane_offsets(w->shape, w->strides, mask, &in2);
    const int64_t rows = inner ? x->numel / inner : 0;
    visit(x->dt, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (kFloating<T>) {
        using A = typename CumAcc<T>::type;
        const T* p = x->as<T>();
        T* q = w->as<T>();
        std::vector<T> front(size_t(inner), T{});
        for (int64_t r = 0; r < rows; ++r) {
          const size_t base = size_t(r * inner);
          A acc = A(1);
          for (int64_t k = 0; k < inner; ++k) {
            front[size_t(k)] = cvt<T>(acc);
            acc *= A(load(p[src[base + size_t(k)]]));
          }
          acc = A(1);
          for (int64_t k = inner - 1; k >= 0; --k) {
            const T back = cvt<T>(acc);
            q[dst[base + size_t(k)]] = cvt<T>(load(front[size_t(k)]) * load(back));
            acc *= A(load(p[src[base + size_t(k)]]));
          }
        }
      }
      return 0;
    });
  });
  return binary(Binary::mul, g, w);
}

TensorPtr saved_input(const Node& n) {
  n.unpack(0);  // the version check
  return n.as_saved(0);
}

}  // namespace

TensorPtr op::prod_all(const TensorPtr& a) {
  TensorPtr x = as_int64(a);
  TensorPtr out = prod_forward(x, (1u << x->shape.n) - 1, false);
  record(OpCode::prod_all, out, {a.get()});
  return out;
}

TensorPtr op::prod_dim(const TensorPtr& a, int64_t dim, bool keepdim) {
  if (dim < 0 || dim >= std::max<int>(a->shape.n, 1))
    throw IndexError("Dimension out of range (got " + std::to_string(dim) + ")");
  TensorPtr x = as_int64(a);
  TensorPtr out = prod_forward(x, x->shape.n ? 1u << dim : 0u, keepdim);
  if (Node* n = record(OpCode::prod_dim, out, {a.get()})) {
    n->a1.push(dim);
    n->i1 = keepdim ? 1 : 0;
  }
  return out;
}

void Op_prod_all::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  const bool graph = grad_enabled();
  NoGrad guard;
  const TensorPtr x = saved_input(n);
  if (x->shape.n == 0) {
    gin[0] = g;
    return;
  }
  const int64_t nz = count_zeros(x);
  if (nz == 0) {
    TensorPtr r = prod_forward(x, (1u << x->shape.n) - 1, false);
    gin[0] = binary(Binary::mul, g, binary(Binary::div, r, x));
  } else if (nz > 1 && !graph) {
    gin[0] = zeros(x->shape, x->dt);
  } else {
    Shape flat;
    flat.push(x->numel);
    TensorPtr w = safe_zeros_backward(g, alias(*dense(x), flat), 0);
    gin[0] = alias(*dense(w), x->shape);
  }
}

void Op_prod_dim::backward(Node& n, const TensorPtr& g, TensorPtr* gin) {
  NoGrad guard;
  const TensorPtr x = saved_input(n);
  if (x->shape.n == 0) {
    gin[0] = g;
    return;
  }
  const int64_t dim = n.a1.d[0];
  const Shape kept = kept_shape(x->shape, 1u << dim, true);
  TensorPtr gk = alias(*dense(g), kept);
  if (count_zeros(x) == 0) {
    TensorPtr r = prod_forward(x, 1u << dim, true);
    gin[0] = binary(Binary::mul, gk, binary(Binary::div, r, x));
  } else {
    gin[0] = safe_zeros_backward(gk, x, dim);
  }
}

}  // namespace tg
