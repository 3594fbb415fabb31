// Tensors: a contiguous buffer (Storage) plus shape and dtype (TensorImpl).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/half.h"

namespace tg {

// The codes are tapegrad.dtype.code (python/tapegrad/_dtype.py). float32 and float16 are the fast
// dtypes (the vector kernels); the others are computed by plain loops (ops/typed.cpp).
enum class DType : uint8_t {
  f32 = 0,
  f16 = 1,
  f64 = 2,
  i64 = 3,
  i32 = 4,
  i16 = 5,
  i8 = 6,
  u8 = 7,
  b8 = 8
};
constexpr int kNumDTypes = 9;
inline size_t itemsize(DType d) {
  static constexpr uint8_t sizes[kNumDTypes] = {4, 2, 8, 8, 4, 2, 1, 1, 1};
  return sizes[int(d)];
}
inline const char* dtype_name(DType d) {
  static const char* const names[kNumDTypes] = {"float32", "float16", "float64", "int64", "int32",
                                                "int16",   "int8",    "uint8",   "bool"};
  return names[int(d)];
}
inline bool is_floating(DType d) {
  return d <= DType::f64;
}
inline bool is_fast(DType d) {  // what the vector kernels and the GEMM take
  return d <= DType::f16;
}

// A Python number: bool, int or float (dt b8, i64 or f64 says which; the value is in i or f).
struct Scalar {
  double f = 0;
  int64_t i = 0;
  DType dt = DType::f64;
  static Scalar of(double v) {
    Scalar s;
    s.f = v;
    return s;
  }
  static Scalar of_int(int64_t v) {
    Scalar s;
    s.dt = DType::i64;
    s.i = v;
    s.f = double(v);
    return s;
  }
  double as_double() const { return f; }  // an int's value too (exact up to 2**53)
  Scalar negated() const {                // -s; a bool becomes the int 0 or -1
    Scalar r = *this;
    r.f = -f;
    if (dt != DType::f64) {
      r.i = int64_t(0ull - uint64_t(i));
      r.dt = DType::i64;
    }
    return r;
  }
};

// Errors that map to Python exception types in python/errors.cpp.
struct ValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct IndexError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct OutOfMemory : std::runtime_error {  // Python's MemoryError
  using std::runtime_error::runtime_error;
};
struct NotImplemented : std::runtime_error {  // Python's NotImplementedError
  using std::runtime_error::runtime_error;
};

constexpr int kMaxDims = 8;

struct Shape {
  int64_t d[kMaxDims];  // entries past n are never read (not zeroed: shapes are made per op)
  uint8_t n = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> l) {
    for (int64_t v : l)
      push(v);
  }
  void push(int64_t v) {
    if (n >= kMaxDims)
      throw ValueError("tapegrad supports tensors of at most " + std::to_string(kMaxDims) +
                       " dimensions");
    d[n++] = v;
  }
  int64_t operator[](int i) const { return d[i]; }
  int64_t& operator[](int i) { return d[i]; }
  int size() const { return n; }
  int64_t numel() const {
    int64_t p = 1;
    for (int i = 0; i < n; ++i)
      p *= d[i];
    return p;
  }
  bool operator==(const Shape& o) const {
    if (n != o.n) return false;
    for (int i = 0; i < n; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "(2, 3)"
};

struct Storage {
  void* ptr = nullptr;
  size_t nbytes = 0;
  uint32_t version = 0;
  explicit Storage(size_t nbytes);
  // Memory someone else owns (a NumPy array's): kept alive by `owner`, never freed here.
  Storage(void* external, size_t nbytes, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

 private:
  std::shared_ptr<void> owner_;
};
using StoragePtr = std::shared_ptr<Storage>;

struct Node;
struct TensorImpl;
struct GradHooks;
using TensorPtr = std::shared_ptr<TensorImpl>;
using NodePtr = std::shared_ptr<Node>;

// Element strides of a contiguous (row-major) tensor of this shape.
inline Shape contiguous_strides(const Shape& shape) {
  Shape st;
  st.n = shape.n;
  int64_t acc = 1;
  for (int i = shape.n - 1; i >= 0; --i) {
    st.d[i] = acc;
    acc *= shape.d[i];
  }
  return st;
}

// A tensor is a strided view of a storage: element i0, i1, ... of it sits at element
// offset + i0*strides[0] + i1*strides[1] + ... of the storage. Tensors made by ops are contiguous;
// view ops (ops/view.cpp) make others.
struct TensorImpl : std::enable_shared_from_this<TensorImpl> {
  StoragePtr st;
  Shape shape;
  Shape strides;       // in elements, one per dim
  int64_t offset = 0;  // in elements
  int64_t numel = 0;
  DType dt = DType::f32;
  bool requires_grad = false;
  bool is_param = false;
  bool untracked = false;  // a `.data` alias: its in-place changes do not bump the version
  NodePtr grad_fn;
  TensorPtr grad;
  std::shared_ptr<GradHooks> hooks;  // a leaf's Tensor.register_hook functions (autograd.h)
  // A view made by a view op: the tensor whose storage it views (never itself a view), and the
  // storage version its grad_fn was made at. An in-place change since (through any alias) means
  // its history must be made again from the base's (autograd/views.cpp).
  TensorPtr view_base;
  uint32_t view_version = 0;
  // The binding layer's object for this tensor while one is alive (not owned; csrc/python).
  void* pyobj = nullptr;

  void* data() const { return static_cast<char*>(st->ptr) + offset * int64_t(itemsize(dt)); }
  template <class T>
  T* as() const {
    return static_cast<T*>(data());
  }
  // Row-major and gap-free (size-1 dims may have any stride): what the kernels read and write.
  bool is_contiguous() const {
    int64_t expect = 1;
    for (int i = shape.n - 1; i >= 0; --i) {
      if (shape.d[i] == 1) continue;
      if (strides.d[i] != expect) return false;
      expect *= shape.d[i];
    }
    return true;
  }
  uint32_t own_version = 0;  // a `.data` alias counts its in-place changes apart (as PyTorch's)

  // Every member has its initializer: a user-provided constructor keeps make_shared from zeroing
  // the whole object first (a tensor is made per op).
  TensorImpl() {}
  void bump_version() {
    if (untracked)
      ++own_version;
    else
      ++st->version;
  }
  uint32_t version() const { return untracked ? own_version : st->version; }
};

// A fresh, uninitialised tensor. Checks the size before allocating.
TensorPtr empty(const Shape& shape, DType dt);
// A new TensorImpl over the same storage (no autograd history): the same geometry, or for a
// contiguous `t` any shape of the same size.
TensorPtr alias(const TensorImpl& t);
TensorPtr alias(const TensorImpl& t, const Shape& shape);
std::string describe(const TensorImpl& t);  // "float32 (3,)"

}  // namespace tg
