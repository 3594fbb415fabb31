#include "core/tensor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/alloc.h"

namespace tg {

std::string Shape::str() const {
  std::string s = "(";
  for (int i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += std::to_string(d[i]);
  }
  if (n == 1) s += ",";
  return s + ")";
}

Storage::Storage(size_t nb) : nbytes(nb) {
  ptr = buffer_alloc(nb);
}
Storage::Storage(void* external, size_t nb, std::shared_ptr<void> owner)
    : ptr(external), nbytes(nb), owner_(std::move(owner)) {}
Storage::~Storage() {
  if (!owner_) buffer_free(ptr, nbytes);
}

static int64_t checked_numel(const Shape& shape, DType dt) {
  int64_t n = 1;
  const int64_t limit = (int64_t(1) << 40) / int64_t(itemsize(dt));
  for (int i = 0; i < shape.n; ++i) {
    int64_t s = shape.d[i];
    if (s < 0)
      throw ValueError("Trying to create tensor with negative dimension " + std::to_string(s) +
                       ": " + shape.str());
    if (s != 0 && n > limit / s) {  // refused before allocating; the size in long double
      long double bytes = (long double)itemsize(dt);
      for (int j = 0; j < shape.n; ++j)
        bytes *= (long double)shape.d[j];
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0Lf", bytes);
      throw OutOfMemory(std::string("tapegrad: refusing to allocate ") + buf +
                        " bytes for a tensor of shape " + shape.str() + " (the limit is 1 TiB)");
    }
    n *= s;
  }
  return n;
}

TensorPtr empty(const Shape& shape, DType dt) {
  int64_t n = checked_numel(shape, dt);
  auto t = std::make_shared<TensorImpl>();
  t->st = std::make_shared<Storage>(size_t(n) * itemsize(dt));
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->numel = n;
  t->dt = dt;
  return t;
}

TensorPtr alias(const TensorImpl& src) {
  auto t = std::make_shared<TensorImpl>();
  t->st = src.st;
  t->shape = src.shape;
  t->strides = src.strides;
  t->offset = src.offset;
  t->numel = src.numel;
  t->dt = src.dt;
  t->untracked = src.untracked;
  return t;
}

TensorPtr alias(const TensorImpl& src, const Shape& shape) {
  if (!src.is_contiguous()) throw std::logic_error("alias: a new shape needs a contiguous tensor");
  auto t = alias(src);
  t->shape = shape;
  t->strides = contiguous_strides(shape);
  t->numel = shape.numel();
  return t;
}

std::string describe(const TensorImpl& t) {
  return std::string(dtype_name(t.dt)) + " " + t.shape.str();
}

}  // namespace tg
